//! How long a session lasts: a sliding refresh lifetime under an absolute cap; disabled users.

use std::process::Output;

use super::*;

backend_tests!(
    refreshing_slides_the_expiry_up_to_the_absolute_cap,
    an_unused_refresh_token_expires_after_the_ttl,
    default_lifetimes_are_30_days_sliding_and_90_days_in_all,
    a_disabled_user_cannot_refresh,
);

/// Restarts with a 100 s refresh lifetime capped at 250 s after login.
async fn short_lifetimes(app: &mut TestApp) {
    app.restart_with("REFRESH_TOKEN_TTL", "100").await;
    app.restart_with("REFRESH_TOKEN_MAX_TTL", "250").await;
}

/// The single session `token` lists, as `(created_at, last_used_at, expires_at)`.
async fn listed_times(app: &TestApp, token: &str) -> (String, String, String) {
    let body = list_sessions(app, token)
        .await
        .assert_success(200, "Active sessions");
    let sessions = body["sessions"].as_array().expect("a sessions array");
    assert_eq!(sessions.len(), 1, "body: {body}");
    let time = |key: &str| sessions[0][key].as_str().expect("a time").to_owned();
    (time("created_at"), time("last_used_at"), time("expires_at"))
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .expect("a valid time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

async fn refreshing_slides_the_expiry_up_to_the_absolute_cap(mut app: TestApp) {
    short_lifetimes(&mut app).await;
    let start = app.now();
    let mut session = signup(&app, "ada@example.com").await;
    let (created, _, expires) = listed_times(&app, &session.access).await;
    assert_eq!(created, rfc3339(start));
    assert_eq!(expires, rfc3339(start + 100));

    // Every 90 s: each refresh lands inside the previous 100 s window.
    for at in [90, 180, 240] {
        app.clock.advance(at - (app.now() - start));

        session = refresh_ok(&app, &session.refresh).await;

        let (created, last_used, expires) = listed_times(&app, &session.access).await;
        assert_eq!(created, rfc3339(start), "at {at}");
        assert_eq!(last_used, rfc3339(start + at), "at {at}");
        let expected = (start + at + 100).min(start + 250);
        assert_eq!(expires, rfc3339(expected), "at {at}: capped at login + 250");
    }
    // 20 s after the last refresh: well inside its window, but past the absolute cap.
    app.clock.advance(20);

    let reply = refresh(&app, &session.refresh).await;

    assert_refresh_invalid(&reply);
}

async fn an_unused_refresh_token_expires_after_the_ttl(mut app: TestApp) {
    short_lifetimes(&mut app).await;
    let used = signup(&app, "ada@example.com").await;
    let unused = login(&app, "ada@example.com").await;
    app.clock.advance(99);
    let used = refresh_ok(&app, &used.refresh).await;
    app.clock.advance(2);

    let reply = refresh(&app, &unused.refresh).await;

    assert_refresh_invalid(&reply);
    // The other session slid forward at 99 s, so it is still alive 101 s after login.
    let used = refresh_ok(&app, &used.refresh).await;
    assert_eq!(listed_ids(&app, &used.access).await, vec![used.sid.clone()]);
}

async fn default_lifetimes_are_30_days_sliding_and_90_days_in_all(app: TestApp) {
    let mut kept = signup(&app, "ada@example.com").await;
    let unused = login(&app, "ada@example.com").await;

    app.clock.advance(29 * DAY);
    kept = refresh_ok(&app, &kept.refresh).await;
    app.clock.advance(2 * DAY);
    assert_refresh_invalid(&refresh(&app, &unused.refresh).await);
    // Day 31: the kept session slid to day 59; keep refreshing inside each 30-day window.
    for _ in 0..2 {
        kept = refresh_ok(&app, &kept.refresh).await;
        app.clock.advance(29 * DAY);
    }
    // Day 89: still alive; day 91: past the 90-day cap although refreshed 2 days ago.
    kept = refresh_ok(&app, &kept.refresh).await;
    app.validate_token(&kept.access).await.assert_status(200);
    app.clock.advance(2 * DAY);

    let reply = refresh(&app, &kept.refresh).await;

    assert_refresh_invalid(&reply);
}

fn assert_cli_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} exited with {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn a_disabled_user_cannot_refresh(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;
    let other_user = signup(&app, "grace@example.com").await;

    let disabled = app.cli(&["user", "disable", "ada@example.com"], None).await;

    assert_cli_success(&disabled, "user disable");
    let reply = refresh(&app, &session.refresh).await;
    reply.assert_status(401);
    reply.assert_client_error_json();
    app.wait_for_validate_status(&session.access, reqwest::StatusCode::UNAUTHORIZED)
        .await
        .assert_invalid_token();
    assert_session_alive(&app, &other_user).await;
}
