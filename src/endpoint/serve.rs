//! The serving loop: hyper 1's HTTP/1 server on a current-thread tokio
//! runtime, on a thread of its own. hyper directly (not axum or another
//! framework): it is already in the build through the SDK's HTTP client,
//! and one GET with four checks needs no router or middleware.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
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

/// At most this many connections are open at once (fewer when the file
/// descriptor limit is low): a flood of idle ones cannot use up mfa's
/// descriptors and keep the job's requests out.
const MAX_CONNECTIONS: usize = 256;

/// Raises the soft limit on open files to the hard one, and returns the
/// limit before (the job gets it back: programs that use select() break
/// with descriptors above 1024), or `None` when it cannot be read.
pub fn raise_open_files_limit() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            ..limit
        };
        libc::setrlimit(libc::RLIMIT_NOFILE, &raised);
    }
    Some(limit)
}

/// How many connections may be open: half the descriptors mfa may have,
/// the rest for the engine (files, locks, STS), at most `MAX_CONNECTIONS`.
fn connection_cap() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes `limit`.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    (soft / 2).clamp(8, MAX_CONNECTIONS)
}

/// The connections open now, oldest first. When they are as many as the
/// cap, a new one takes the place of the oldest that is not answering a
/// request (idle, or still sending its headers); when all are, the new
/// one is closed.
struct Connections {
    open: Mutex<BTreeMap<u64, Open>>,
    cap: usize,
}

struct Open {
    /// Set while a request of this connection is being answered.
    busy: Arc<AtomicBool>,
    task: tokio::task::AbortHandle,
}

impl Connections {
    /// Makes room for one more: whether there is room (not when every
    /// open one is busy), and the tasks to abort once the lock is let go.
    fn make_room(
        open: &mut BTreeMap<u64, Open>,
        cap: usize,
    ) -> (bool, Vec<tokio::task::AbortHandle>) {
        let mut evicted = Vec::new();
        while open.len() >= cap {
            let oldest_idle = open
                .iter()
                .find(|(_, conn)| !conn.busy.load(Ordering::SeqCst))
                .map(|(id, _)| *id);
            match oldest_idle.and_then(|id| open.remove(&id)) {
                Some(conn) => evicted.push(conn.task),
                None => return (false, evicted),
            }
        }
        (true, evicted)
    }
}

/// Takes a connection out of `Connections` when its task ends or is
/// aborted.
struct Registered {
    connections: Arc<Connections>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.remove(&self.id);
    }
}

/// Clears a connection's busy flag when its answer is made.
struct Busy(Arc<AtomicBool>);

impl Busy {
    fn start(flag: &Arc<AtomicBool>) -> Busy {
        flag.store(true, Ordering::SeqCst);
        Busy(Arc::clone(flag))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

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
    let connections = Arc::new(Connections {
        open: Mutex::new(BTreeMap::new()),
        cap: connection_cap(),
    });
    let mut next_id: u64 = 0;
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
        // Held until the task is registered: on this one-thread runtime the
        // task cannot run (and unregister) before.
        let mut open = connections
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (room, evicted) = Connections::make_room(&mut open, connections.cap);
        if !room {
            drop(open);
            evicted.iter().for_each(tokio::task::AbortHandle::abort);
            continue;
        }
        next_id += 1;
        let busy = Arc::new(AtomicBool::new(false));
        let registered = Registered {
            connections: Arc::clone(&connections),
            id: next_id,
        };
        let task = tokio::spawn(serve_connection(
            stream,
            Arc::clone(&served),
            Arc::clone(&busy),
            registered,
        ));
        open.insert(
            next_id,
            Open {
                busy,
                task: task.abort_handle(),
            },
        );
        drop(open);
        evicted.iter().for_each(tokio::task::AbortHandle::abort);
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    served: Arc<Served>,
    busy: Arc<AtomicBool>,
    registered: Registered,
) {
    let service = hyper::service::service_fn(move |req| {
        let served = Arc::clone(&served);
        let busy = Busy::start(&busy);
        async move {
            let response = answer(req, &served).await;
            drop(busy);
            Ok::<_, Infallible>(response)
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    drop(registered);
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
