//! The one-time local address the browser is given instead of the sign-in
//! URL (a bearer credential that must not appear in any command line):
//! `http://127.0.0.1:PORT/<128 random bits>`, served by hyper 1 on the
//! caller's tokio runtime. It answers exactly one GET of that path, with a
//! `Host` of this address (a DNS-rebinding guard), with a 303 redirect to
//! the sign-in URL that no cache keeps and no referrer repeats; anything
//! else is 404. It stops after that answer, or when nobody asked in time.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HOST, LOCATION, REFERRER_POLICY};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// How long the address waits for the browser.
pub const UNUSED_LIMIT: Duration = Duration::from_secs(60);
/// After the answer went out, how long its connection may take to close.
const CLOSE_LIMIT: Duration = Duration::from_secs(5);
/// How often the wait looks at the browser process.
const POLL: Duration = Duration::from_millis(50);

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
}

impl OneTimeRedirect {
    /// Listens on 127.0.0.1 (never another address), on a free port. Must
    /// be called inside a tokio runtime.
    pub fn bind() -> Result<OneTimeRedirect> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .context("cannot listen on 127.0.0.1 for the browser")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let listener = TcpListener::from_std(listener)?;
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
        });
        let listener = self.listener;
        let accepting = {
            let shared = shared.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(connection(stream, shared.clone()));
                }
            })
        };
        let result = wait(&shared, &delivery, limit, &mut failed).await;
        // No connection is accepted after this; the runtime's end drops the rest.
        accepting.abort();
        result
    }
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
async fn connection(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let carried = Arc::new(AtomicBool::new(false));
    let service = {
        let (shared, carried) = (shared.clone(), carried.clone());
        service_fn(move |request| {
            let response = answer(&request, &shared, &carried);
            async move { Ok::<_, Infallible>(response) }
        })
    };
    let served = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(stream), service);
    let _ = tokio::time::timeout(UNUSED_LIMIT, served).await;
    if carried.load(Ordering::SeqCst) {
        let _ = shared.delivered.send(());
    }
}

fn answer<B>(request: &Request<B>, shared: &Shared, carried: &AtomicBool) -> Response<Full<Bytes>> {
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
    if wanted && !shared.answered.swap(true, Ordering::SeqCst) {
        carried.store(true, Ordering::SeqCst);
        return respond(StatusCode::SEE_OTHER, Some(&shared.location), "");
    }
    respond(StatusCode::NOT_FOUND, None, "Not found.\n")
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

    fn shared() -> (Shared, mpsc::Receiver<()>) {
        let (delivered, delivery) = mpsc::channel();
        (
            Shared {
                port: 4000,
                path: "/abc".into(),
                location: "https://signin.example/federation?Action=login&SigninToken=x".into(),
                answered: AtomicBool::new(false),
                delivered,
            },
            delivery,
        )
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
        let carried = AtomicBool::new(false);
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
            let r = answer(&request(method, path, host), &shared, &carried);
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} {host:?}");
            assert!(r.headers().get(LOCATION).is_none());
        }
        assert!(!carried.load(Ordering::SeqCst));
        let r = answer(
            &request(Method::GET, "/abc", Some("localhost:4000")),
            &shared,
            &carried,
        );
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], shared.location.as_str());
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[REFERRER_POLICY], "no-referrer");
        assert!(carried.load(Ordering::SeqCst));
        let again = answer(
            &request(Method::GET, "/abc", Some("127.0.0.1:4000")),
            &shared,
            &AtomicBool::new(false),
        );
        assert_eq!(again.status(), StatusCode::NOT_FOUND, "answered once only");
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
