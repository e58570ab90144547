//! The accept loop, in place of `axum::serve`, which has no limits: a client that sent part of
//! its headers and then nothing (slowloris) was held forever, and nothing capped connections.
//!
//! - At most `MAX_CONNECTIONS` are open. When every slot is taken the loop stops accepting, so
//!   new connections wait in the kernel's listen backlog, costing no memory here, until one
//!   closes. Accept errors (too many open files, …) are logged and retried after a pause.
//! - Each connection has one deadline at a time, set by its [`Phase`]: its first request's
//!   headers must be complete `HEADER_READ_TIMEOUT_SECS` after it opened; between requests it
//!   may stay idle `IDLE_TIMEOUT_SECS`; once a byte of the next request arrives, that request's
//!   headers must be complete `HEADER_READ_TIMEOUT_SECS` later, however they trickle. While a
//!   request is in flight there is none (`REQUEST_TIMEOUT` bounds the handler). Past its
//!   deadline a connection is closed, without an answer.
//! - Shutdown, in two steps. Draining: at once `/ready` answers 503 and every answer carries
//!   `Connection: close`, so load balancers take the replica out and keep-alive peers (nginx's
//!   upstream pool) open no further requests on their connections; meanwhile new connections
//!   are accepted and served for `SHUTDOWN_DRAIN_SECS`, the time an orchestrator needs to stop
//!   sending them. Stopping: connections the kernel completed but the loop had not accepted
//!   yet are taken and served (closing the listener over them would reset them, failing a
//!   request the client already sent), the listener closes, and each connection finishes the
//!   request it has in flight and closes (hyper's graceful shutdown); one that never sent a
//!   byte closes once it is `SILENT_GRACE` old (a client that connected just before may have
//!   its request on the way). The loop returns when every connection is closed.
//!
//! Why not hyper's `header_read_timeout`: its timer starts when a connection opens and again
//! whenever a keep-alive connection goes idle, so it bounds idle time and header time together:
//! every idle connection would be cut at the header timeout, and `IDLE_TIMEOUT_SECS` could only
//! be shorter. It also re-arms a timer for every request, which cost 4% of `/validate`'s
//! throughput; the one timer here is looked at only when it fires. So it is off.
//!
//! HTTP/1 only, with hyper's defaults (keep-alive, pipelining), as `axum::serve` had without
//! axum's `http2` feature; `ConnectInfo<SocketAddr>` reaches handlers as it did.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Request, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt as _;

use crate::config::ConnectionLimits;
use crate::http::probes::ShutdownFlag;
use wrappers::{Tracked, Watched};

/// The pause after an accept error that is not the client's doing (e.g. too many open files).
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// A request's headers, and hyper's read buffer, are capped at this: beyond, 431. hyper's
/// default, about 400 KiB, would let each connection that sends that much and stalls hold it
/// until its header deadline; this keeps a held connection under about 80 KB (see the README).
const MAX_HEADERS: usize = 64 * 1024;
/// Descriptors the process needs besides its connections: database pool, files, logs.
const DESCRIPTOR_RESERVE: u64 = 64;
/// At shutdown, a connection that has not sent a byte is closed once it is this old: on a
/// connection opened a moment earlier a request may be on the way, and closing would fail it.
const SILENT_GRACE: Duration = Duration::from_millis(500);

/// What happens between the shutdown signal and the listener closing: `flag` is raised at once
/// (`/ready` answers 503, every answer says `Connection: close`), and the server goes on
/// accepting and serving for `delay` (`SHUTDOWN_DRAIN_SECS`).
pub struct Drain {
    pub delay: Duration,
    pub flag: ShutdownFlag,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains (see the module doc).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    drain: Drain,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    warn_if_descriptors_run_short(limits.max_connections);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopped) = watch::channel(false);
    let closing = drain.flag.clone();
    let mut shutdown = pin!(async move {
        shutdown.await;
        drain.flag.raise();
        tracing::info!(
            drain_secs = drain.delay.as_secs(),
            "shutting down: /ready answers 503 and connections close after their answer; \
             still accepting until the drain ends"
        );
        tokio::time::sleep(drain.delay).await;
    });
    let serve = |stream, peer, slot| {
        let connection = serve_connection(
            stream,
            peer,
            router.clone(),
            limits,
            stopped.clone(),
            closing.clone(),
            slot,
        );
        tokio::spawn(connection);
    };
    loop {
        // A free slot first: while none is, nothing is accepted.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => serve(stream, peer, slot),
            // The client gave up before it was accepted: nothing to wait for.
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                drop(slot);
                tracing::error!(%error, "accepting a connection failed; trying again in 1 s");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    let backlog = take_backlog(listener);
    let open = limits.max_connections - slots.available_permits();
    tracing::info!(
        open,
        backlog = backlog.len(),
        "no longer accepting connections; draining the open ones"
    );
    stop.send_replace(true);
    for (stream, peer) in backlog {
        // Each waits for a slot, as it would have in the backlog: the open ones are closing.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break; // never closed
        };
        serve(stream, peer, slot);
    }
    // Each connection holds its slot until it is closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// Closes the listener, first taking the connections the kernel has completed on it that were
/// not accepted yet: closing over them would reset them.
fn take_backlog(listener: TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let Ok(listener) = listener.into_std() else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    // tokio left it non-blocking: accept until the queue is empty.
    while let Ok((stream, peer)) = listener.accept() {
        if let Ok(stream) = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream))
        {
            taken.push((stream, peer));
        }
    }
    taken
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves one connection until it ends, passes a deadline, or is drained at shutdown.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ConnectionLimits,
    mut stop: watch::Receiver<bool>,
    shutdown: ShutdownFlag,
    _slot: OwnedSemaphorePermit,
) {
    let opened = Instant::now();
    let activity = Arc::new(Activity::new(&limits, opened));
    let io = TokioIo::new(Watched {
        stream,
        activity: activity.clone(),
    });
    let service = ConnectionService {
        router,
        peer,
        activity: activity.clone(),
        shutdown,
    };
    let mut builder = http1::Builder::new();
    // No timer: hyper's own header timeout is off (see the module doc).
    builder
        .header_read_timeout(None)
        .max_buf_size(MAX_HEADERS)
        .max_header_size(MAX_HEADERS);
    let mut connection = pin!(builder.serve_connection(io, service));
    let first = activity.next_check(opened).unwrap_or(opened);
    let mut check = pin!(tokio::time::sleep_until(first));
    let mut silent_until = pin!(tokio::time::sleep_until(opened + SILENT_GRACE));
    let mut stopping = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            () = check.as_mut() => match activity.next_check(Instant::now()) {
                Some(at) => check.as_mut().reset(at),
                None => {
                    tracing::debug!(%peer, "closing a connection past its deadline");
                    return;
                }
            },
            _ = stop.changed(), if !stopping => {
                stopping = true;
                // hyper's graceful shutdown would close a connection it has read nothing
                // from yet, even one whose request is in the socket: such a connection is
                // left to `silent_until`, and if a request comes, the `Connection: close`
                // of its answer (the shutdown flag is up) ends it.
                if !activity.silent() {
                    connection.as_mut().graceful_shutdown();
                }
            }
            // Stopping, and nothing came within the grace.
            () = silent_until.as_mut(), if stopping && activity.silent() => return,
        }
    }
}

/// One connection's deadline, kept up to date by its socket (bytes read) and its service
/// (requests begun and answered), and read by its task's timer.
struct Activity {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    state: Mutex<State>,
}

struct State {
    phase: Phase,
    /// Whether any byte was ever read.
    received: bool,
    /// Requests begun so far.
    requests: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A request's headers are awaited until then.
    Headers { until: Instant },
    /// The `request`th request is in flight: no deadline.
    Busy { request: u64 },
    /// Answered, and nothing of the next request yet: idle until then.
    Idle { until: Instant },
}

impl Activity {
    fn new(limits: &ConnectionLimits, opened: Instant) -> Self {
        Self {
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            state: Mutex::new(State {
                phase: Phase::Headers {
                    until: opened + limits.header_read_timeout,
                },
                received: false,
                requests: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes arrived: on an idle connection, the next request has begun.
    fn bytes_read(&self, now: impl FnOnce() -> Instant) {
        let mut state = self.lock();
        state.received = true;
        if let Phase::Idle { .. } = state.phase {
            state.phase = Phase::Headers {
                until: now() + self.header_read_timeout,
            };
        }
    }

    /// hyper has a request's headers and calls the service.
    fn request_started(self: &Arc<Self>) -> InFlight {
        let mut state = self.lock();
        state.requests += 1;
        let request = state.requests;
        state.phase = Phase::Busy { request };
        InFlight {
            activity: self.clone(),
            request,
        }
    }

    /// The answer to `request` was written (its body dropped by hyper).
    fn request_finished(&self, request: u64, now: Instant) {
        let mut state = self.lock();
        if state.phase == (Phase::Busy { request }) {
            state.phase = Phase::Idle {
                until: now + self.idle_timeout,
            };
        }
    }

    /// When to look again, or `None` when the deadline has passed. Never later than the
    /// deadline, even one set after this call: a phase that begins at `t` has its deadline
    /// (if any) at `t` plus the shorter timeout at the earliest.
    fn next_check(&self, now: Instant) -> Option<Instant> {
        let soonest = now + self.header_read_timeout.min(self.idle_timeout);
        match self.lock().phase {
            Phase::Headers { until } | Phase::Idle { until } if now >= until => None,
            Phase::Headers { until } | Phase::Idle { until } => Some(until.min(soonest)),
            Phase::Busy { .. } => Some(soonest),
        }
    }

    /// Whether the client never sent a byte.
    fn silent(&self) -> bool {
        !self.lock().received
    }
}

/// Marks its request finished when dropped, with the response body (hyper drops that once it
/// has written it all).
struct InFlight {
    activity: Arc<Activity>,
    request: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.request_finished(self.request, Instant::now());
    }
}

/// The router for one connection: gives handlers the peer's address and tracks requests.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
    /// Raised: every answer says `Connection: close` (hyper then closes after writing it).
    shutdown: ShutdownFlag,
}

type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response<Tracked>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.request_started();
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = self.router.clone().oneshot(request);
        let shutdown = self.shutdown.clone();
        Box::pin(async move {
            let mut response = response.await?;
            if shutdown.is_raised() {
                let headers = response.headers_mut();
                headers.insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response.map(|body| Tracked {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// Warns when `MAX_CONNECTIONS` would run into the open-file limit: accepting would then fail
/// with "too many open files" before the cap is reached.
fn warn_if_descriptors_run_short(max_connections: usize) {
    let Some(limit) = open_file_limit() else {
        return;
    };
    if max_connections as u64 + DESCRIPTOR_RESERVE > limit {
        tracing::warn!(
            max_connections,
            open_file_limit = limit,
            "MAX_CONNECTIONS is near or above this process's open-file limit: raise the limit \
             (ulimit -n) or lower MAX_CONNECTIONS"
        );
    }
}

/// The soft limit on open files, where the system tells it (`/proc/self/limits`, Linux).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests;
mod wrappers;
