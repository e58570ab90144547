//! Slow and idle clients (issue 12): a request's headers must be complete within
//! `HEADER_READ_TIMEOUT_SECS` however they trickle, a keep-alive connection may idle
//! `IDLE_TIMEOUT_SECS` between requests, and beyond `MAX_CONNECTIONS` new connections wait.
//!
//! These are properties of the accept loop (`app::serve`), which no storage backend touches:
//! they run on SQLite only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::helpers::*;

/// Held at once, with `MAX_CONNECTIONS` above it: the server keeps both ends' descriptors in
/// this process, so the test needs twice this many open files, and raises its soft limit if not.
const SLOW_CONNECTIONS: usize = 2500;
/// Long enough that the normal requests surely run while every slow connection is held.
const SLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a slow client sends one more header line.
const TRICKLE_EVERY: Duration = Duration::from_millis(400);
/// What the issue allows past the header timeout.
const CLOSE_SLACK: Duration = Duration::from_secs(1);

/// A server on SQLite with `settings` added to its configuration.
pub(crate) async fn app_with(settings: &[(&str, &str)]) -> TestApp {
    let mut app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite needs no setup");
    for (name, value) in settings {
        app.set_env(name, value);
    }
    app.restart().await;
    app
}

pub(crate) fn authority(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Raises this process's soft limit on open files to at least `needed`, within the hard limit.
fn ensure_open_files(needed: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|current| current < needed) {
        limit.current = Some(limit.maximum.map_or(needed, |max| max.min(needed)));
        setrlimit(Resource::Nofile, limit).expect("raise the open-file limit");
    }
    let current = getrlimit(Resource::Nofile).current;
    assert!(
        current.is_none_or(|n| n >= needed),
        "this test needs {needed} open files; the hard limit allows {current:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_at_the_header_timeout_while_others_are_served() {
    ensure_open_files(2 * SLOW_CONNECTIONS as u64 + 1000);
    let timeout_secs = SLOW_HEADER_TIMEOUT.as_secs().to_string();
    let app = app_with(&[
        ("HEADER_READ_TIMEOUT_SECS", &timeout_secs),
        ("MAX_CONNECTIONS", "4000"),
    ])
    .await;
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let address = authority(&app);

    // Arrange: thousands of clients that send part of their headers, then a line now and then.
    // In batches, so that the listen backlog never overflows (a dropped SYN waits a second).
    let closed = Arc::new(AtomicUsize::new(0));
    let mut slow = Vec::with_capacity(SLOW_CONNECTIONS);
    for batch in (0..SLOW_CONNECTIONS).collect::<Vec<_>>().chunks(100) {
        for _ in batch {
            let mut stream = TcpStream::connect(&address).await.expect("connect");
            let connected = Instant::now();
            stream
                .write_all(b"POST /validate HTTP/1.1\r\nHost: gatehouse\r\nX-Slow: 0\r\n")
                .await
                .expect("send the first header lines");
            slow.push(tokio::spawn(trickle(stream, connected, closed.clone())));
        }
        tokio::task::yield_now().await;
    }

    // Act and assert: while they are held, normal clients are answered, each on a new connection.
    let fresh = Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build a client");
    for _ in 0..5 {
        let health = fresh.get(app.url("/health")).send().await.expect("/health");
        assert_eq!(health.status(), 200);
        let validate = fresh
            .post(app.url("/validate"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("/validate");
        assert_eq!(validate.status(), 200);
    }
    assert_eq!(
        closed.load(Ordering::SeqCst),
        0,
        "slow connections were closed before the normal requests were answered"
    );

    // Every slow connection is closed by the server, at its header timeout, not before and
    // not a second later, though it kept sending.
    let mut lifetimes = Vec::with_capacity(SLOW_CONNECTIONS);
    for client in slow {
        let ended = client.await.expect("a slow client panicked");
        lifetimes.push(ended.lifetime.unwrap_or_else(|| {
            panic!("a slow connection was still open after {SLOW_HEADER_TIMEOUT:?} + 5 s")
        }));
        assert!(
            ended.received.is_empty() || ended.received.starts_with(b"HTTP/1.1 408"),
            "a slow connection was answered {:?}",
            String::from_utf8_lossy(&ended.received)
        );
        assert!(
            ended.lines_sent >= 3,
            "sent only {} lines",
            ended.lines_sent
        );
    }
    let (first, last) = (
        lifetimes.iter().min().expect("some"),
        lifetimes.iter().max().expect("some"),
    );
    assert!(
        *first >= SLOW_HEADER_TIMEOUT - Duration::from_millis(50),
        "a slow connection was closed after {first:?}, before the header timeout"
    );
    assert!(
        *last <= SLOW_HEADER_TIMEOUT + CLOSE_SLACK,
        "a slow connection was closed only after {last:?}"
    );
}

struct SlowEnd {
    /// From connecting to the server closing the connection; `None`: it never did.
    lifetime: Option<Duration>,
    /// Anything the server sent.
    received: Vec<u8>,
    lines_sent: usize,
}

/// Sends a header line every `TRICKLE_EVERY` until the server closes the connection.
async fn trickle(mut stream: TcpStream, connected: Instant, closed: Arc<AtomicUsize>) -> SlowEnd {
    let (mut reader, mut writer) = stream.split();
    let mut received = Vec::new();
    let mut lines_sent = 1;
    let mut buffer = [0u8; 1024];
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + TRICKLE_EVERY, TRICKLE_EVERY);
    let give_up = tokio::time::sleep(SLOW_HEADER_TIMEOUT + Duration::from_secs(5));
    tokio::pin!(give_up);
    let lifetime = loop {
        tokio::select! {
            read = reader.read(&mut buffer) => match read {
                Ok(0) | Err(_) => break Some(connected.elapsed()),
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            },
            _ = tick.tick() => {
                let line = format!("X-Slow: {lines_sent}\r\n");
                if writer.write_all(line.as_bytes()).await.is_err() {
                    break Some(connected.elapsed());
                }
                lines_sent += 1;
            }
            () = &mut give_up => break None,
        }
    };
    closed.fetch_add(1, Ordering::SeqCst);
    SlowEnd {
        lifetime,
        received,
        lines_sent,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_connections_a_new_client_waits_and_is_served_when_a_slot_frees() {
    const MAX: usize = 4;
    let app = app_with(&[("MAX_CONNECTIONS", "4"), ("IDLE_TIMEOUT_SECS", "60")]).await;
    let address = authority(&app);

    // Arrange: every slot taken by a keep-alive connection, each answered once.
    let mut held = Vec::new();
    for _ in 0..MAX {
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        assert_eq!(get(&mut stream, "/health").await, 200);
        held.push(stream);
    }

    // Act: one more client. The kernel completes its handshake; the server does not accept it.
    let mut waiting = TcpStream::connect(&address)
        .await
        .expect("a client beyond the cap is not refused");
    waiting
        .write_all(b"GET /health HTTP/1.1\r\nHost: gatehouse\r\n\r\n")
        .await
        .expect("send a request");
    let mut byte = [0u8; 1];
    let early = timeout(Duration::from_secs(1), waiting.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "the client beyond the cap was answered, closed or reset at once: {early:?}"
    );

    // Assert: when a held connection closes, the waiting client is served.
    drop(held.pop());
    let status = timeout(Duration::from_secs(10), read_status(&mut waiting))
        .await
        .expect("the waiting client was served once a slot freed");
    assert_eq!(status, 200);
    // The other held connections were not disturbed.
    for stream in &mut held {
        assert_eq!(get(stream, "/health").await, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    const IDLE: Duration = Duration::from_secs(5);
    // A header timeout shorter than the idle one: idling is not reading headers.
    let app = app_with(&[
        ("HEADER_READ_TIMEOUT_SECS", "1"),
        ("IDLE_TIMEOUT_SECS", "5"),
    ])
    .await;
    let mut stream = TcpStream::connect(authority(&app)).await.expect("connect");
    assert_eq!(get(&mut stream, "/health").await, 200);

    // Idle for longer than the header timeout, then a second request on the same connection.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(get(&mut stream, "/health").await, 200);
    let answered = Instant::now();

    // Then idle past the idle timeout: the server closes it.
    let mut byte = [0u8; 1];
    let read = timeout(IDLE + Duration::from_secs(5), stream.read(&mut byte))
        .await
        .expect("the idle connection was still open 5 s after the idle timeout");
    let idled = answered.elapsed();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        idled >= IDLE - Duration::from_millis(100),
        "closed after {idled:?} idle"
    );
    assert!(
        idled <= IDLE + Duration::from_secs(2),
        "closed only after {idled:?} idle"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_a_request_in_flight_and_closes_silent_connections_at_once() {
    let mut app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite needs no setup");
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let address = authority(&app);
    let body = json!({"email": "ada@example.com", "password": PASSWORD}).to_string();
    let (head_and_most, last) = body.split_at(body.len() - 1);

    // Arrange: a login whose body is not all there yet, and a connection that sent nothing.
    let mut in_flight = TcpStream::connect(&address).await.expect("connect");
    let request = format!(
        "POST /auth/login HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{head_and_most}",
        body.len()
    );
    in_flight
        .write_all(request.as_bytes())
        .await
        .expect("send most of a request");
    let mut silent = TcpStream::connect(&address).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act: stop that server (a new one takes over the database).
    app.restart().await;

    // Assert: the silent connection is closed at once, the old address refuses new ones, and
    // the request in flight is answered in full.
    let mut byte = [0u8; 1];
    let read = timeout(Duration::from_secs(2), silent.read(&mut byte))
        .await
        .expect("a silent connection held shutdown up");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        TcpStream::connect(&address).await.is_err(),
        "the stopped server still accepts connections"
    );
    in_flight
        .write_all(last.as_bytes())
        .await
        .expect("send the rest of the request");
    let status = timeout(Duration::from_secs(10), read_status(&mut in_flight))
        .await
        .expect("the request in flight was answered");
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_open_files_does_not_stop_the_accept_loop() {
    const CLIENTS: usize = 100;
    let app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite needs no setup");
    // Fewer descriptors than MAX_CONNECTIONS: accepting fails with "too many open files".
    let server = ServerProcess::start_with_open_file_limit(&app, &[], 64);
    let address = server.address.trim_start_matches("http://").to_owned();

    // Arrange: more connections than the server has descriptors for, each asking once.
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        clients.spawn(async move {
            let asked = get(&mut stream, "/auth/ping");
            let answered = timeout(Duration::from_secs(2), asked).await.is_ok();
            (stream, answered)
        });
    }
    let mut open = Vec::new();
    while let Some(client) = clients.join_next().await {
        open.push(client.expect("a client panicked"));
    }
    let answered = open.iter().filter(|(_, answered)| *answered).count();
    assert!(
        answered < CLIENTS,
        "the server answered all {answered}: it never ran out of descriptors"
    );

    // Act: the clients leave.
    drop(open);

    // Assert: the server is still up and accepting.
    let started = Instant::now();
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let status = timeout(Duration::from_secs(10), get(&mut stream, "/health"))
        .await
        .expect("served again once descriptors were free");
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_64_kib_of_headers_is_refused_with_431() {
    let app = spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite needs no setup");
    let big = |n: usize| "a".repeat(n);

    app.send(
        app.client
            .get(app.url("/health"))
            .header("X-Big", big(60_000)),
    )
    .await
    .assert_status(200);

    // Beyond, whether sent whole or never finished: refused at once, not held.
    for (n, finished) in [(66_000, true), (100_000, false), (1_000_000, true)] {
        let mut stream = TcpStream::connect(authority(&app)).await.expect("connect");
        let end = if finished { "\r\n\r\n" } else { "" };
        let request = format!("GET /health HTTP/1.1\r\nHost: g\r\nX-Big: {}{end}", big(n));
        // The server may answer and close before it has read it all.
        let _ = stream.write_all(request.as_bytes()).await;
        let answer = timeout(Duration::from_secs(5), read_until_closed(&mut stream))
            .await
            .expect("answered at once");
        assert!(
            answer.starts_with(b"HTTP/1.1 431"),
            "{n} bytes: {:?}",
            String::from_utf8_lossy(&answer)
        );
    }
}

/// Everything the server sends until it closes the connection (or resets it).
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buffer).await {
        received.extend_from_slice(&buffer[..n]);
    }
    received
}

/// `GET path` on a keep-alive connection; the response's status, its body read to the end.
async fn get(stream: &mut TcpStream, path: &str) -> u16 {
    let request = format!("GET {path} HTTP/1.1\r\nHost: gatehouse\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send a request");
    read_status(stream).await
}

/// Reads one response (headers, then `Content-Length` bytes of body) and returns its status.
async fn read_status(stream: &mut TcpStream) -> u16 {
    read_response(stream).await.0
}

/// Reads one response (headers, then `Content-Length` bytes of body): its status and its
/// lower-cased head.
pub(crate) async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).await.expect("read a response");
        assert!(
            n > 0,
            "closed mid-response: {:?}",
            String::from_utf8_lossy(&response)
        );
        response.extend_from_slice(&buffer[..n]);
        let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .map_or(0, |n| n.trim().parse().expect("a content length"));
        if response.len() >= end + 4 + length {
            let status = head.split_whitespace().nth(1).expect("a status");
            return (status.parse().expect("a numeric status"), head);
        }
    }
}
