//! The serving loop: hyper 1's HTTP/1 server on a current-thread tokio
//! runtime, on a thread of its own. hyper directly (not axum or another
//! framework): it is already in the build through the SDK's HTTP client,
//! and one GET with four checks needs no router or middleware.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};

use super::renew::{Renewer, Unavailable};
use super::request::{self, Verdict};

/// What every connection's handler needs.
pub struct Served {
    pub port: u16,
    pub token: String,
    pub renewer: Arc<Renewer>,
    /// No request waits longer than this (`MFA_TIMEOUT`).
    pub wait: Duration,
}

/// A client that sends its headers this slowly is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves on `listener` until the process exits. The runtime and the
/// listener live on their own thread, so the main thread can wait for the
/// child.
pub fn spawn(listener: std::net::TcpListener, served: Served) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("mfa-endpoint".into())
        .spawn(move || runtime.block_on(accept_loop(listener, Arc::new(served))))?;
    Ok(())
}

async fn accept_loop(listener: std::net::TcpListener, served: Arc<Served>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("mfa: the credential endpoint cannot listen: {e}");
            return;
        }
    };
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or the like: wait, then go on.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let served = Arc::clone(&served);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let served = Arc::clone(&served);
                async move { Ok::<_, Infallible>(answer(req, &served).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(req: Request<Incoming>, served: &Served) -> Response<Full<Bytes>> {
    let headers = req.headers();
    let hosts: Vec<&[u8]> = headers
        .get_all(HOST)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let authorizations: Vec<&[u8]> = headers
        .get_all(AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let verdict = request::check(
        &request::Request {
            method: req.method().as_str(),
            path: req.uri().path(),
            hosts: &hosts,
            authorizations: &authorizations,
        },
        served.port,
        served.token.as_bytes(),
    );
    match verdict {
        Verdict::Refuse { status, message } => refusal(status, message),
        Verdict::Serve => match served.renewer.credentials(served.wait).await {
            Ok(credentials) => json(StatusCode::OK, request::credentials_body(&credentials)),
            Err(Unavailable { status, message }) => refusal(status, &message),
        },
    }
}

fn refusal(status: u16, message: &str) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, request::error_body(message));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
    }
    response
}

fn json(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // It holds secrets: no cache on the way may keep it.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
