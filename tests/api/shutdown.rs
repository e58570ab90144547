//! Shutdown without failed requests: `SHUTDOWN_DRAIN_SECS` of serving with `/ready` at 503 and
//! `Connection: close` on every answer, then no connection the kernel had completed is reset,
//! and one whose request was still on the way is answered. `.ci/rolling-restart` checks the
//! same through nginx under load.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use crate::helpers::PASSWORD;
use crate::slow_clients::{app_with, authority, read_response};

/// Long enough for every request the tests send during it; the last test waits it out.
const DRAIN: &str = "3";
/// What the listener may take past the drain to close.
const CLOSE_SLACK: Duration = Duration::from_secs(5);

async fn send_get(stream: &mut TcpStream, path: &str) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: gatehouse\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send a request");
}

/// Stops the app (SIGTERM) and waits until the server has seen it: `/ready` answers 503, which
/// it returns. The signal reaches the serving task asynchronously, so a request sent the same
/// instant may still be served as before it.
async fn begin_shutdown(app: &mut crate::helpers::TestApp) -> reqwest::Response {
    app.stop();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = app.client.get(app.url("/ready")).send().await;
        let ready = ready.expect("ready during the drain");
        if ready.status() == 503 {
            return ready;
        }
        assert!(Instant::now() < deadline, "/ready still {}", ready.status());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn says_close(head: &str) -> bool {
    head.lines().any(|line| line == "connection: close")
}

/// Whether the server closed `stream` (end of file or reset) within a few seconds.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        timeout(Duration::from_secs(5), stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_answers_503_at_once_while_requests_are_still_served_with_connection_close() {
    let mut app = app_with(&[("SHUTDOWN_DRAIN_SECS", DRAIN)]).await;
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let address = app.address.clone();
    let ready = app.client.get(format!("{address}/ready")).send().await;
    let ready = ready.expect("ready before shutdown");
    assert_eq!(ready.status(), 200);
    assert!(ready.headers().get("connection").is_none());

    // Act: shutdown begins (SIGTERM).
    let ready = begin_shutdown(&mut app).await;

    // Assert: not ready, with the reason, and still serving, each answer saying close.
    assert_eq!(ready.headers()["connection"], "close");
    let body: serde_json::Value = ready.json().await.expect("a JSON body");
    assert_eq!(
        body,
        json!({"status": "not ready", "reason": "shutting down"})
    );
    let validate = app
        .client
        .post(format!("{address}/validate"))
        .bearer_auth(&token);
    let validate = validate.send().await.expect("validate during the drain");
    assert_eq!(validate.status(), 200);
    assert_eq!(validate.headers()["connection"], "close");
    let login = app.client.post(format!("{address}/auth/login"));
    let login = login.json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    let login = login.send().await.expect("login during the drain");
    assert_eq!(login.status(), 200);
    assert_eq!(login.headers()["connection"], "close");
    // Once the drain is over, the listener closes.
    let deadline = Instant::now() + Duration::from_secs(3) + CLOSE_SLACK;
    while TcpStream::connect(authority_of(&address)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting long after the drain"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn authority_of(address: &str) -> String {
    address.trim_start_matches("http://").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_used_during_the_drain_is_answered_then_closed() {
    let mut app = app_with(&[("SHUTDOWN_DRAIN_SECS", DRAIN)]).await;
    let mut stream = TcpStream::connect(authority(&app)).await.expect("connect");
    send_get(&mut stream, "/live").await;
    let (status, head) = read_response(&mut stream).await;
    assert_eq!(status, 200);
    assert!(!says_close(&head), "{head}");

    // Act: shutdown begins; the peer sends its next request on the same connection.
    begin_shutdown(&mut app).await;
    send_get(&mut stream, "/live").await;

    // Assert: answered, told to close, and closed.
    let (status, head) = read_response(&mut stream).await;
    assert_eq!(status, 200);
    assert!(says_close(&head), "{head}");
    assert!(closed(&mut stream).await, "the connection stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_waiting_in_the_backlog_at_shutdown_is_answered_not_reset() {
    // Arrange: the one slot held by an idle keep-alive connection, and a second client whose
    // request waits in the listen backlog.
    let mut app = app_with(&[("SHUTDOWN_DRAIN_SECS", "0"), ("MAX_CONNECTIONS", "1")]).await;
    let address = authority(&app);
    let mut holder = TcpStream::connect(&address).await.expect("connect");
    send_get(&mut holder, "/live").await;
    assert_eq!(read_response(&mut holder).await.0, 200);
    let mut waiting = TcpStream::connect(&address).await.expect("connect");
    send_get(&mut waiting, "/live").await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Act: the listener closes with the second client's request in the backlog.
    app.stop();

    // Assert: the idle one is closed, freeing the slot, and the waiting request is answered.
    let (status, head) = timeout(Duration::from_secs(10), read_response(&mut waiting))
        .await
        .expect("the backlogged request was answered");
    assert_eq!(status, 200);
    assert!(says_close(&head), "{head}");
    assert!(closed(&mut holder).await, "the idle connection stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_just_after_connecting_is_answered_even_if_shutdown_came_between() {
    let mut app = app_with(&[("SHUTDOWN_DRAIN_SECS", "0")]).await;
    let mut stream = TcpStream::connect(authority(&app)).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(50)).await;

    // Act: shutdown, then the request a moment later (well within SILENT_GRACE, 500 ms).
    app.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    send_get(&mut stream, "/live").await;

    // Assert
    let (status, head) = timeout(Duration::from_secs(5), read_response(&mut stream))
        .await
        .expect("answered");
    assert_eq!(status, 200);
    assert!(says_close(&head), "{head}");
}
