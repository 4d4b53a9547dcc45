//! The one-time local address the browser is given instead of the sign-in
//! URL (a bearer credential that must not appear in any command line):
//! `http://127.0.0.1:PORT/<128 random bits>`, served by hyper 1 on the
//! caller's tokio runtime. It answers exactly one GET of that path, with a
//! `Host` of this address (a DNS-rebinding guard), with a 303 redirect to
//! the sign-in URL that no cache keeps and no referrer repeats; anything
//! else is 404. It stops after that answer, or when nobody asked in time.
//!
//! The address is in the browser's argv, which every local user can read
//! (`/proc/PID/cmdline`, `ps`), so the secret path alone does not decide:
//! on Linux only a connection whose socket belongs to mfa's own user is
//! answered ([`crate::peer`]); another user's request is refused, said on
//! stderr, and leaves the answer for the browser. Where the system has no
//! socket table (macOS) the owner cannot be checked and the secret path,
//! the single answer and the short wait are all there is: on a machine
//! shared with people you do not trust, use `--print` there.
//!
//! Nobody can hold it up: a request head must arrive within
//! [`HEADER_LIMIT`], at most [`MAX_CONNECTIONS`] are open at once (a new
//! one closes the oldest), the file-descriptor limit is raised to what the
//! system allows, and a failed accept (out of descriptors) pauses instead
//! of spinning.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HOST, LOCATION, REFERRER_POLICY};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use crate::peer::{self, Owner};

/// How long the address waits for the browser.
pub const UNUSED_LIMIT: Duration = Duration::from_secs(60);
/// After the answer went out, how long its connection may take to close.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);
/// How often the wait looks at the browser process.
const POLL: Duration = Duration::from_millis(50);
/// A connection whose request head has not arrived by then is closed: a
/// browser sends it at once.
const HEADER_LIMIT: Duration = Duration::from_secs(3);
/// No connection lives longer than this, whatever it does.
const CONNECTION_LIMIT: Duration = Duration::from_secs(10);
/// Connections open at once; at the limit a new one closes the oldest, so
/// idle connections cannot keep the browser's out.
const MAX_CONNECTIONS: usize = 512;
/// Connections the kernel holds until they are accepted (it keeps to its
/// own `somaxconn`): more than std's 128, so a flood that outruns the
/// accept loop for a moment does not drop the browser's.
const BACKLOG: u32 = 4096;
/// File descriptors left for everything but connections.
const SPARE_DESCRIPTORS: libc::rlim_t = 32;
/// After a failed accept (out of file descriptors), the pause before the next.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

pub struct OneTimeRedirect {
    listener: TcpListener,
    port: u16,
    path: String,
}

/// What every connection shares.
struct Shared {
    port: u16,
    path: String,
    location: String,
    /// Set by the one request that gets the redirect.
    answered: AtomicBool,
    /// Told when the connection that carried the redirect has closed.
    delivered: mpsc::Sender<()>,
    /// This process's uid, and how to find the owner of a peer's socket.
    me: u32,
    owner_of: fn(SocketAddr, SocketAddr) -> Owner,
    /// Where refusals are said (stderr), each once.
    report: fn(&str),
    reported: Mutex<HashSet<String>>,
}

/// One connection: its two ends, and whether it carried the redirect.
struct Connection {
    local: SocketAddr,
    peer: SocketAddr,
    carried: AtomicBool,
}

impl OneTimeRedirect {
    /// Listens on 127.0.0.1 (never another address), on a free port. Must
    /// be called inside a tokio runtime.
    pub fn bind() -> Result<OneTimeRedirect> {
        let listener = TcpSocket::new_v4()
            .and_then(|socket| {
                socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
                socket.listen(BACKLOG)
            })
            .context("cannot listen on 127.0.0.1 for the browser")?;
        let port = listener.local_addr()?.port();
        let mut secret = [0u8; 16];
        getrandom::fill(&mut secret).map_err(|e| anyhow!("no randomness from the system: {e}"))?;
        let path = secret.iter().map(|b| format!("{b:02x}")).collect();
        Ok(OneTimeRedirect {
            listener,
            port,
            path,
        })
    }

    /// The address to give the browser.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, self.path)
    }

    /// Serves until the redirect to `location` has been delivered (`Ok`),
    /// nobody asked within `limit`, or `failed` reports that the browser
    /// cannot come (its error is returned).
    pub async fn serve(
        self,
        location: String,
        limit: Duration,
        mut failed: impl FnMut() -> Option<anyhow::Error>,
    ) -> Result<()> {
        let (delivered, delivery) = mpsc::channel();
        let shared = Arc::new(Shared {
            port: self.port,
            path: format!("/{}", self.path),
            location,
            answered: AtomicBool::new(false),
            delivered,
            me: peer::my_uid(),
            owner_of: peer::owner_of,
            report: |message| eprintln!("mfa: {message}"),
            reported: Mutex::new(HashSet::new()),
        });
        // Now, not in bind: the browser has started, and keeps the usual limit.
        let descriptors = raise_descriptor_limit();
        let cap = descriptors
            .map_or(MAX_CONNECTIONS as libc::rlim_t, |limit| {
                limit.saturating_sub(SPARE_DESCRIPTORS)
            })
            .clamp(8, MAX_CONNECTIONS as libc::rlim_t) as usize;
        let accepting = tokio::spawn(accept_loop(self.listener, shared.clone(), cap));
        let result = wait(&shared, &delivery, limit, &mut failed).await;
        // No connection is accepted after this; the runtime's end drops the rest.
        accepting.abort();
        result
    }
}

/// Accepts until aborted: each connection on a task of its own, fewer
/// than `cap` of them, the oldest closed to make room (a browser's request
/// is answered as soon as it is read, so the oldest is an idle one).
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, cap: usize) {
    let mut open: VecDeque<JoinHandle<()>> = VecDeque::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of file descriptors or the like: retrying at once would spin.
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        open.push_back(tokio::spawn(connection(stream, peer, shared.clone())));
        open.retain(|task| !task.is_finished());
        if open.len() >= cap
            && let Some(oldest) = open.pop_front()
        {
            oldest.abort();
            // Its socket is closed once the task is gone: wait for that, so
            // the next accept has a descriptor (an aborted task is only
            // dropped when the runtime gets to it).
            let _ = oldest.await;
        }
    }
}

/// Raises the soft limit on open files to the hard one; the soft limit
/// then in force, `None` when it cannot be read.
fn raise_descriptor_limit() -> Option<libc::rlim_t> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    // macOS refuses a soft limit above OPEN_MAX even when the hard one is unlimited.
    let wanted = if cfg!(target_os = "macos") {
        limit.rlim_max.min(10240)
    } else {
        limit.rlim_max
    };
    if wanted > limit.rlim_cur {
        let raised = libc::rlimit {
            rlim_cur: wanted,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads only the struct it is given.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = wanted;
        }
    }
    Some(limit.rlim_cur)
}

async fn wait(
    shared: &Shared,
    delivery: &mpsc::Receiver<()>,
    limit: Duration,
    failed: &mut impl FnMut() -> Option<anyhow::Error>,
) -> Result<()> {
    let started = Instant::now();
    let mut answered_at: Option<Instant> = None;
    loop {
        if delivery.try_recv().is_ok() {
            return Ok(());
        }
        if shared.answered.load(Ordering::SeqCst) {
            let at = *answered_at.get_or_insert_with(Instant::now);
            // The answer went out; its connection is slow to close.
            if at.elapsed() >= CLOSE_LIMIT {
                return Ok(());
            }
        } else {
            if let Some(error) = failed() {
                return Err(error);
            }
            if started.elapsed() >= limit {
                bail!(
                    "the browser did not open the sign-in address within {} s; run again with --print to get the URL instead",
                    limit.as_secs()
                );
            }
        }
        tokio::time::sleep(POLL).await;
    }
}

/// One connection: HTTP/1, each request answered by `answer`; when this
/// connection carried the redirect, its close is reported.
async fn connection(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let connection = Arc::new(Connection {
        local,
        peer,
        carried: AtomicBool::new(false),
    });
    let service = {
        let (shared, connection) = (shared.clone(), connection.clone());
        service_fn(move |request| {
            let response = answer(&request, &shared, &connection);
            async move { Ok::<_, Infallible>(response) }
        })
    };
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_LIMIT)
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(CONNECTION_LIMIT, served).await;
    if connection.carried.load(Ordering::SeqCst) {
        let _ = shared.delivered.send(());
    }
}

fn answer<B>(
    request: &Request<B>,
    shared: &Shared,
    connection: &Connection,
) -> Response<Full<Bytes>> {
    let host_ok = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| {
            host == format!("127.0.0.1:{}", shared.port)
                || host == format!("localhost:{}", shared.port)
        });
    let wanted = host_ok
        && request.method() == Method::GET
        && same_secret(request.uri().path(), &shared.path)
        && request.uri().query().is_none();
    if wanted
        && !shared.answered.load(Ordering::SeqCst)
        && asked_by_me(shared, connection)
        && !shared.answered.swap(true, Ordering::SeqCst)
    {
        connection.carried.store(true, Ordering::SeqCst);
        return respond(StatusCode::SEE_OTHER, Some(&shared.location), "");
    }
    respond(StatusCode::NOT_FOUND, None, "Not found.\n")
}

/// Whether the peer's socket is this user's (or, with no socket table,
/// cannot be checked); a refusal is said once, with nothing of the secret.
fn asked_by_me(shared: &Shared, connection: &Connection) -> bool {
    let refusal = match (shared.owner_of)(connection.local, connection.peer) {
        Owner::Uid(uid) if uid == shared.me => return true,
        Owner::Unchecked => return true,
        Owner::Uid(uid) => {
            format!("another user (uid {uid}) asked for the one-time address: refused")
        }
        Owner::Unknown(why) => format!(
            "cannot tell which user asked for the one-time address ({why}): refused; --print prints the URL instead"
        ),
    };
    let first = shared
        .reported
        .lock()
        .map(|mut reported| reported.insert(refusal.clone()))
        .unwrap_or(true);
    if first {
        (shared.report)(&refusal);
    }
    false
}

fn respond(
    status: StatusCode,
    location: Option<&str>,
    body: &'static str,
) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header(CACHE_CONTROL, "no-store")
        .header(REFERRER_POLICY, "no-referrer")
        .header(CONNECTION, "close")
        .header(CONTENT_TYPE, "text/plain; charset=utf-8");
    if let Some(location) = location {
        builder = builder.header(LOCATION, location);
    }
    builder
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap_or_else(|_| {
            // Only a Location that is not a header value fails: answer 404.
            let mut response = Response::new(Full::new(Bytes::from_static(b"Not found.\n")));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        })
}

/// Compares the request path with the secret one in time that does not
/// depend on where they differ.
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len()
        && given
            .bytes()
            .zip(secret.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: u32 = 1000;
    /// A peer on port 1 is another user's; on port 2, nobody can tell whose.
    fn fake_owner(_local: SocketAddr, peer: SocketAddr) -> Owner {
        match peer.port() {
            1 => Owner::Uid(4242),
            2 => Owner::Unknown("127.0.0.1:2 is not in /proc/net/tcp".into()),
            _ => Owner::Uid(ME),
        }
    }

    thread_local! {
        static REPORTED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    fn shared() -> (Shared, mpsc::Receiver<()>) {
        let (delivered, delivery) = mpsc::channel();
        (
            Shared {
                port: 4000,
                path: "/abc".into(),
                location: "https://signin.example/federation?Action=login&SigninToken=x".into(),
                answered: AtomicBool::new(false),
                delivered,
                me: ME,
                owner_of: fake_owner,
                report: |message| REPORTED.with(|r| r.borrow_mut().push(message.to_string())),
                reported: Mutex::new(HashSet::new()),
            },
            delivery,
        )
    }

    fn from_port(port: u16) -> Connection {
        Connection {
            local: "127.0.0.1:4000".parse().unwrap(),
            peer: SocketAddr::from(([127, 0, 0, 1], port)),
            carried: AtomicBool::new(false),
        }
    }

    fn request(method: Method, path: &str, host: Option<&str>) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(host) = host {
            builder = builder.header(HOST, host);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn only_one_get_of_the_secret_path_on_this_host_is_redirected() {
        let (shared, _delivery) = shared();
        let connection = from_port(50000);
        for (method, path, host) in [
            (Method::GET, "/abc", Some("evil.example:4000")),
            (Method::GET, "/abc", Some("127.0.0.1:4001")),
            (Method::GET, "/abc", None),
            (Method::GET, "/abd", Some("127.0.0.1:4000")),
            (Method::GET, "/abc?x=1", Some("127.0.0.1:4000")),
            (Method::GET, "/", Some("127.0.0.1:4000")),
            (Method::POST, "/abc", Some("127.0.0.1:4000")),
            (Method::HEAD, "/abc", Some("localhost:4000")),
        ] {
            let r = answer(&request(method, path, host), &shared, &connection);
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} {host:?}");
            assert!(r.headers().get(LOCATION).is_none());
        }
        assert!(!connection.carried.load(Ordering::SeqCst));
        let r = answer(
            &request(Method::GET, "/abc", Some("localhost:4000")),
            &shared,
            &connection,
        );
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], shared.location.as_str());
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[REFERRER_POLICY], "no-referrer");
        assert!(connection.carried.load(Ordering::SeqCst));
        let again = answer(
            &request(Method::GET, "/abc", Some("127.0.0.1:4000")),
            &shared,
            &from_port(50001),
        );
        assert_eq!(again.status(), StatusCode::NOT_FOUND, "answered once only");
    }

    #[test]
    fn another_users_request_is_refused_said_once_and_leaves_the_answer() {
        let (shared, _delivery) = shared();
        let get = || request(Method::GET, "/abc", Some("127.0.0.1:4000"));
        let thief = from_port(1);
        for _ in 0..3 {
            let r = answer(&get(), &shared, &thief);
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            assert!(r.headers().get(LOCATION).is_none());
        }
        let unknown = from_port(2);
        assert_eq!(
            answer(&get(), &shared, &unknown).status(),
            StatusCode::NOT_FOUND
        );
        assert!(!thief.carried.load(Ordering::SeqCst));
        assert!(!shared.answered.load(Ordering::SeqCst));
        let reported = REPORTED.with(|r| r.borrow().clone());
        assert_eq!(
            reported,
            [
                "another user (uid 4242) asked for the one-time address: refused",
                "cannot tell which user asked for the one-time address (127.0.0.1:2 is not in /proc/net/tcp): refused; --print prints the URL instead",
            ]
        );
        // The browser, this user's, still gets the one answer.
        let browser = from_port(50000);
        let r = answer(&get(), &shared, &browser);
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(browser.carried.load(Ordering::SeqCst));
        assert_eq!(
            answer(&get(), &shared, &thief).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn without_a_socket_table_the_secret_path_decides() {
        let (mut shared, _delivery) = shared();
        shared.owner_of = |_, _| Owner::Unchecked;
        let r = answer(
            &request(Method::GET, "/abc", Some("127.0.0.1:4000")),
            &shared,
            &from_port(1),
        );
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }

    #[test]
    fn the_descriptor_limit_is_raised_to_the_hard_one() {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        // Lowered first (not below what the other tests use), so raising is seen.
        let lowered = libc::rlimit {
            rlim_cur: limit.rlim_max.min(512),
            rlim_max: limit.rlim_max,
        };
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lowered) }, 0);
        let soft = raise_descriptor_limit().unwrap();
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(limit.rlim_cur, soft);
        if cfg!(target_os = "linux") {
            assert_eq!(limit.rlim_cur, limit.rlim_max);
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn an_address_nobody_asks_for_gives_up_and_says_why() {
        let runtime = runtime();
        let result = runtime.block_on(async {
            let redirect = OneTimeRedirect::bind()?;
            redirect
                .serve("https://x".into(), Duration::from_millis(200), || None)
                .await
        });
        let e = result.unwrap_err().to_string();
        assert!(e.contains("did not open the sign-in address"), "{e}");
        assert!(e.contains("--print"), "{e}");
    }

    #[test]
    fn a_browser_that_failed_ends_the_wait_with_its_error() {
        let runtime = runtime();
        let started = Instant::now();
        let result = runtime.block_on(async {
            let redirect = OneTimeRedirect::bind()?;
            redirect
                .serve("https://x".into(), UNUSED_LIMIT, || {
                    Some(anyhow!("the browser exited"))
                })
                .await
        });
        assert_eq!(result.unwrap_err().to_string(), "the browser exited");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// Serves on a thread of its own until `stop`; the address.
    fn serve_in_background(stop: Arc<AtomicBool>) -> (String, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let server = std::thread::spawn(move || {
            let runtime = runtime();
            let _ = runtime.block_on(async {
                let redirect = OneTimeRedirect::bind()?;
                let _ = tx.send(redirect.address());
                redirect
                    .serve("https://x".into(), UNUSED_LIMIT, || {
                        stop.load(Ordering::SeqCst).then(|| anyhow!("stopped"))
                    })
                    .await
            });
        });
        (rx.recv().unwrap(), server)
    }

    #[test]
    fn a_connection_that_sends_no_request_is_closed_after_the_header_limit() {
        use std::io::Read;
        let stop = Arc::new(AtomicBool::new(false));
        let (address, server) = serve_in_background(stop.clone());
        let authority = address
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap();
        let mut idle = std::net::TcpStream::connect(authority).unwrap();
        idle.set_read_timeout(Some(HEADER_LIMIT * 3)).unwrap();
        let started = Instant::now();
        let mut rest = Vec::new();
        // Closed by the server (an end of file, or a reset), not by the read timeout.
        let closed = idle.read_to_end(&mut rest);
        let waited = started.elapsed();
        stop.store(true, Ordering::SeqCst);
        server.join().unwrap();
        assert!(
            closed.is_ok()
                || closed
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "{closed:?}"
        );
        assert!(
            waited >= HEADER_LIMIT - Duration::from_millis(100) && waited < HEADER_LIMIT * 2,
            "closed after {waited:?}"
        );
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("/abc", "/abc"));
        assert!(!same_secret("/abc", "/abcd"));
        assert!(!same_secret("/abd", "/abc"));
    }

    #[test]
    fn the_address_is_loopback_with_128_random_bits() {
        let runtime = runtime();
        let _guard = runtime.enter();
        let a = OneTimeRedirect::bind().unwrap();
        let b = OneTimeRedirect::bind().unwrap();
        assert!(a.address().starts_with("http://127.0.0.1:"));
        assert_eq!(a.path.len(), 32);
        assert!(a.path.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.path, b.path);
    }
}
