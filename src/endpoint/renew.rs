//! The credentials the endpoint hands out, renewed once for however many
//! requests wait (single flight). The renewal itself (the engine: cache,
//! locks, STS, maybe a code) is synchronous and may wait on a person, so it
//! runs on a thread of its own, never on the runtime that serves requests.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;

use crate::context::Clock;
use crate::creds::Credentials;

/// Why no credentials could be handed out; the message goes to the SDK,
/// which shows it to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub status: u16,
    pub message: String,
}

impl Unavailable {
    /// 503: nothing to hand out now; trying again later may work.
    pub fn later(message: impl Into<String>) -> Unavailable {
        Unavailable {
            status: 503,
            message: message.into(),
        }
    }
}

/// Gets fresh credentials (blocking).
pub type RenewFn = dyn Fn() -> Result<Credentials, Unavailable> + Send + Sync;

type Outcome = Option<Result<Credentials, Unavailable>>;

pub struct Renewer {
    state: Mutex<State>,
    renew: Arc<RenewFn>,
    clock: Box<dyn Clock + Send + Sync>,
    /// Every answer has more than this many seconds left.
    min_ttl: i64,
}

struct State {
    current: Option<Credentials>,
    /// The renewal under way: every request that finds the credentials
    /// stale waits on this one instead of starting its own.
    renewing: Option<watch::Receiver<Outcome>>,
}

impl Renewer {
    pub fn new(
        current: Option<Credentials>,
        renew: Arc<RenewFn>,
        clock: Box<dyn Clock + Send + Sync>,
        min_ttl: i64,
    ) -> Arc<Renewer> {
        Arc::new(Renewer {
            state: Mutex::new(State {
                current,
                renewing: None,
            }),
            renew,
            clock,
            min_ttl,
        })
    }

    /// Credentials with more than `min_ttl` seconds left: the ones in hand,
    /// else those of the renewal under way (started if there is none),
    /// waited for at most `wait`.
    pub async fn credentials(self: &Arc<Self>, wait: Duration) -> Result<Credentials, Unavailable> {
        let mut receiver = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(current) = &state.current
                && current.is_fresh(self.clock.now(), self.min_ttl)
            {
                return Ok(current.clone());
            }
            match &state.renewing {
                Some(receiver) => receiver.clone(),
                None => {
                    let (sender, receiver) = watch::channel(None);
                    state.renewing = Some(receiver.clone());
                    self.start_renewal(sender)?;
                    receiver
                }
            }
        };
        let waited = tokio::time::timeout(wait, receiver.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(outcome)) => outcome
                .clone()
                .unwrap_or_else(|| Err(Unavailable::later("the renewal ended without an answer"))),
            Ok(Err(_)) => Err(Unavailable::later("the renewal ended without an answer")),
            Err(_) => Err(Unavailable::later(format!(
                "no credentials within {} s: the renewal is still waiting (for STS, or for an MFA code or an SSO sign-in on the terminal of mfa); try again (MFA_TIMEOUT sets this bound)",
                wait.as_secs()
            ))),
        }
    }

    fn start_renewal(self: &Arc<Self>, sender: watch::Sender<Outcome>) -> Result<(), Unavailable> {
        let renewer = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("mfa-renewal".into())
            .spawn(move || {
                let outcome = (renewer.renew)();
                let mut state = renewer.state.lock().unwrap_or_else(PoisonError::into_inner);
                if let Ok(credentials) = &outcome {
                    state.current = Some(credentials.clone());
                }
                state.renewing = None;
                // Under the lock: a request either sees the new state or
                // is already waiting for this outcome.
                sender.send_replace(Some(outcome));
            });
        if let Err(e) = spawned {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.renewing = None;
            return Err(Unavailable::later(format!("cannot start the renewal: {e}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    /// A clock the test moves.
    struct TestClock(Arc<AtomicI64>);

    impl Clock for TestClock {
        fn now(&self) -> i64 {
            self.0.load(Ordering::SeqCst)
        }
    }

    fn credentials(id: usize, expiration: i64) -> Credentials {
        Credentials {
            access_key_id: format!("ASIA{id}"),
            secret_access_key: "s".into(),
            session_token: Some("t".into()),
            expiration: Some(expiration),
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// A renewer whose renewals are counted, take `delay`, and expire
    /// 900 s after the clock's time.
    fn counting(
        clock: &Arc<AtomicI64>,
        delay: Duration,
        fail: bool,
    ) -> (Arc<Renewer>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let (counter, time) = (Arc::clone(&calls), Arc::clone(clock));
        let renew: Arc<RenewFn> = Arc::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            std::thread::sleep(delay);
            if fail {
                return Err(Unavailable::later("a code is needed"));
            }
            Ok(credentials(n, time.load(Ordering::SeqCst) + 900))
        });
        let renewer = Renewer::new(
            Some(credentials(0, 1000 + 900)),
            renew,
            Box::new(TestClock(Arc::clone(clock))),
            600,
        );
        (renewer, calls)
    }

    /// `n` requests at once; their answers in order.
    fn at_once(renewer: &Arc<Renewer>, n: usize) -> Vec<Result<Credentials, Unavailable>> {
        runtime().block_on(async {
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let renewer = Arc::clone(renewer);
                    tokio::spawn(async move { renewer.credentials(Duration::from_secs(5)).await })
                })
                .collect();
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.unwrap());
            }
            answers
        })
    }

    #[test]
    fn fresh_credentials_are_served_without_a_renewal() {
        let clock = Arc::new(AtomicI64::new(1000));
        let (renewer, calls) = counting(&clock, Duration::ZERO, false);
        let got = runtime().block_on(renewer.credentials(Duration::from_secs(5)));
        assert_eq!(got.unwrap().access_key_id, "ASIA0");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn twenty_requests_at_expiry_share_one_renewal() {
        let clock = Arc::new(AtomicI64::new(1000));
        let (renewer, calls) = counting(&clock, Duration::from_millis(300), false);
        // 1000 + 900 - 600: no longer fresh.
        clock.store(1301, Ordering::SeqCst);
        let answers: Vec<String> = at_once(&renewer, 20)
            .into_iter()
            .map(|answer| answer.unwrap().access_key_id)
            .collect();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(answers.iter().all(|id| id == "ASIA1"), "{answers:?}");
        // And the next request is served from what the renewal left.
        let next = runtime().block_on(renewer.credentials(Duration::from_secs(5)));
        assert_eq!(next.unwrap().access_key_id, "ASIA1");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_failed_renewal_answers_every_waiting_request_once() {
        let clock = Arc::new(AtomicI64::new(1000));
        let (renewer, calls) = counting(&clock, Duration::from_millis(200), true);
        clock.store(1301, Ordering::SeqCst);
        let answers = at_once(&renewer, 5);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for answer in answers {
            assert_eq!(answer.unwrap_err(), Unavailable::later("a code is needed"));
        }
    }

    #[test]
    fn a_request_never_waits_past_its_bound_and_the_renewal_goes_on() {
        let clock = Arc::new(AtomicI64::new(1000));
        let (renewer, calls) = counting(&clock, Duration::from_millis(1500), false);
        clock.store(1301, Ordering::SeqCst);
        let rt = runtime();
        let started = std::time::Instant::now();
        let first = rt.block_on(renewer.credentials(Duration::from_millis(200)));
        assert!(started.elapsed() < Duration::from_millis(1000));
        assert_eq!(first.unwrap_err().status, 503);
        // A second request joins the same renewal rather than a new one.
        let second = rt.block_on(renewer.credentials(Duration::from_secs(5)));
        assert_eq!(second.unwrap().access_key_id, "ASIA1");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
