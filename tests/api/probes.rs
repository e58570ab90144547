//! The orchestrator's probes, `/live` and `/ready`, and `gatehouse healthcheck` against a real
//! `gatehouse serve` process.

use serde_json::json;

use crate::helpers::*;

/// The staleness bound with `REVOCATION_SYNC_INTERVAL_MS=3600000`: 3 intervals + 2 s.
const STALE_AFTER_SECS: i64 = 3 * 3600 + 2;

backend_tests!(
    live_and_ready_answer_with_a_live_database,
    ready_refuses_once_the_revocation_list_is_stale,
);

async fn live_and_ready_answer_with_a_live_database(app: TestApp) {
    let live = app.get("/live").await;
    let ready = app.get("/ready").await;

    live.assert_status(200);
    live.assert_json_content_type();
    assert_eq!(live.json(), json!({"status": "alive"}));
    ready.assert_status(200);
    ready.assert_json_content_type();
    assert_eq!(ready.json(), json!({"status": "ready"}));
}

async fn ready_refuses_once_the_revocation_list_is_stale(mut app: TestApp) {
    // A poll an hour apart: the bound is 3 × 3600 s + 2 s, and no poll runs during the test.
    app.restart_with("REVOCATION_SYNC_INTERVAL_MS", "3600000")
        .await;
    app.get("/ready").await.assert_status(200);

    // PostgreSQL's listener catches up once when it starts listening: should that land after
    // the clock moved, the list is fresh again and the clock must move once more.
    let mut attempts = 0;
    let ready = loop {
        attempts += 1;
        app.clock.advance(STALE_AFTER_SECS + 1);
        let ready = app.get("/ready").await;
        if ready.status == 503 || attempts == 3 {
            break ready;
        }
    };

    ready.assert_status(503);
    ready.assert_json_content_type();
    let body = ready.json();
    assert_eq!(body["status"], "not ready", "{body}");
    let reason = body["reason"].as_str().unwrap_or_default();
    let age: i64 = reason
        .strip_prefix("revocation list stale (last synced ")
        .and_then(|rest| rest.strip_suffix(" s ago)"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("reason: {reason:?}"));
    assert!(age > STALE_AFTER_SECS, "{reason}");
    app.get("/live").await.assert_status(200);
    let health = app.get("/health").await;
    health.assert_status(200);
    assert_eq!(
        health.json(),
        json!({"status": "healthy", "database": "ok"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_exits_0_while_the_server_serves_and_1_after_it_is_killed() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let mut server = ServerProcess::start(&app, &[]);
    let ready_url = format!("{}/ready", server.address);
    let port = server.address.rsplit(':').next().unwrap().to_owned();

    let by_url = app.cli(&["healthcheck", "--url", &ready_url], None).await;
    let by_config = app
        .cli_with_env(
            &["healthcheck"],
            None,
            &[("HOST", "0.0.0.0"), ("PORT", &port)],
        )
        .await;
    server.kill_9();
    let after_kill = app.cli(&["healthcheck", "--url", &ready_url], None).await;

    for (case, output) in [("--url", &by_url), ("HOST and PORT", &by_config)] {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{case}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(after_kill.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&after_kill.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(&ready_url), "says which URL: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_fails_on_a_not_ready_answer_and_a_bad_url() {
    let Some(mut app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    app.restart_with("REVOCATION_SYNC_INTERVAL_MS", "3600000")
        .await;
    app.clock.advance(4 * 3600);
    let ready_url = app.url("/ready");

    let stale = app.cli(&["healthcheck", "--url", &ready_url], None).await;
    let https = app
        .cli(&["healthcheck", "--url", "https://127.0.0.1/ready"], None)
        .await;

    assert_eq!(stale.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&stale.stderr);
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    assert_eq!(https.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&https.stderr);
    assert!(stderr.contains("only http://"), "{stderr}");
}
