//! Fault tests: the database going away under a running server, and a crash mid-signup.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::proxy::{upstream_of, via, Link, TcpProxy};
use crate::helpers::{spawn_app, Backend, TestApp, PASSWORD};

mod crash;

/// `/health` must answer within this, the database deadline plus slack for a loaded machine.
const HEALTH_ANSWER_BOUND: Duration = Duration::from_secs(4);
/// A login must fail fast (503) rather than hang: the pool and query deadlines plus slack.
const LOGIN_ANSWER_BOUND: Duration = Duration::from_secs(10);

/// A PostgreSQL-backed app whose database connection runs through a proxy the test controls.
async fn app_behind_proxy() -> Option<(TestApp, TcpProxy, String)> {
    let mut app = spawn_app(Backend::Postgres).await?;
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let proxy = TcpProxy::start(upstream_of(&app.database_url)).await;
    let proxied = via(&app.database_url, proxy.address);
    app.restart_with("DATABASE_URL", &proxied).await;
    Some((app, proxy, token))
}

async fn assert_outage_is_handled(app: &TestApp, token: &str) {
    let started = Instant::now();
    let health = app.get("/health").await;
    assert!(
        started.elapsed() < HEALTH_ANSWER_BOUND,
        "/health took {:?}",
        started.elapsed()
    );
    health.assert_status(503);
    assert_eq!(health.json()["status"], "unhealthy");

    let started = Instant::now();
    let login = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    assert!(
        started.elapsed() < LOGIN_ANSWER_BOUND,
        "login took {:?}",
        started.elapsed()
    );
    login.assert_status(503);
    login.assert_json_content_type();
    assert!(
        !login.header("retry-after").is_empty(),
        "503 without Retry-After"
    );
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_status(503);

    // Validation needs no database.
    app.validate_token(token).await.assert_status(200);
}

async fn assert_recovers(app: &TestApp) {
    let started = Instant::now();
    while app.get("/health").await.status != StatusCode::OK {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "/health did not recover"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let login = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    login.assert_status(200);
    let fresh = login.json()["jwt_token"]
        .as_str()
        .expect("jwt_token")
        .to_owned();
    app.logout(&fresh).await.assert_status(200);
    app.validate_token(&fresh).await.assert_status(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_gives_503_keeps_validating_and_recovers() {
    let Some((app, proxy, token)) = app_behind_proxy().await else {
        return;
    };
    app.get("/health").await.assert_status(200);

    proxy.set(Link::Refused);
    assert_outage_is_handled(&app, &token).await;

    proxy.set(Link::Up);
    assert_recovers(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_gives_503_within_deadlines_and_recovers() {
    let Some((app, proxy, token)) = app_behind_proxy().await else {
        return;
    };
    app.get("/health").await.assert_status(200);

    proxy.set(Link::Blackholed);
    assert_outage_is_handled(&app, &token).await;

    proxy.set(Link::Up);
    assert_recovers(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_answers_and_ready_refuses_while_postgres_is_away() {
    let Some((app, proxy, _token)) = app_behind_proxy().await else {
        return;
    };
    app.get("/ready").await.assert_status(200);

    proxy.set(Link::Refused);
    let live = app.get("/live").await;
    let ready = app.get("/ready").await;

    live.assert_status(200);
    assert_eq!(live.json(), json!({"status": "alive"}));
    ready.assert_status(503);
    assert_eq!(
        ready.json(),
        json!({"status": "not ready", "reason": "database unavailable"})
    );
    proxy.set(Link::Up);
    assert_recovers(&app).await;
    app.get("/ready").await.assert_status(200);
}
