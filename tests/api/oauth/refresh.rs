//! Refresh tokens at `/oauth/introspect` and `/oauth/revoke`: active exactly when
//! `/auth/token/refresh` would take them (rotation and its grace window, the tokens from
//! before generations, a disabled user).

use super::*;

backend_tests!(
    a_rotated_refresh_token_is_active_only_within_the_grace_window,
    a_refresh_token_from_before_generations_is_introspected_and_revoked,
    a_disabled_users_tokens_are_inactive,
);

/// `REFRESH_REUSE_GRACE`'s default, in seconds.
const GRACE: i64 = 10;

async fn refreshed(app: &TestApp, refresh_token: &str) -> Tokens {
    let reply = app
        .post_json(
            "/auth/token/refresh",
            &json!({"refresh_token": refresh_token}),
        )
        .await;
    reply.assert_status(200);
    let body = reply.json();
    Tokens {
        access: body["jwt_token"].as_str().unwrap().to_owned(),
        refresh: body["refresh_token"].as_str().unwrap().to_owned(),
    }
}

async fn a_rotated_refresh_token_is_active_only_within_the_grace_window(app: TestApp) {
    let client = app.add_client("billing").await;
    let first = signup(&app, "ada@example.com").await;
    app.clock.advance(5);

    let second = refreshed(&app, &first.refresh).await;

    // Within the grace window the rotated token would still be answered (with the same
    // successor): active. The successor is active, issued at the rotation.
    assert_eq!(
        introspected(&app, &client, &first.refresh).await["active"],
        true
    );
    let body = introspected(&app, &client, &second.refresh).await;
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["iat"], app.now());
    // After it, the rotated token is reuse: inactive, and introspecting it ends nothing.
    app.clock.advance(GRACE + 1);
    assert_inactive(&app, &client, &first.refresh).await;
    assert_eq!(
        introspected(&app, &client, &second.refresh).await["active"],
        true
    );
    app.validate_token(&second.access).await.assert_status(200);
}

async fn a_refresh_token_from_before_generations_is_introspected_and_revoked(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let sid = decode_claims(&tokens.access, &app.secret)["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_token = "b".repeat(43);
    let hash = gatehouse::auth::refresh_token::hash_refresh_token(&old_token);
    let insert = format!(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ('{hash}', '{sid}', {})",
        app.now()
    );
    query_number(&app.database_url, &insert).await;

    let body = introspected(&app, &client, &old_token).await;
    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["sid"], sid.as_str());

    assert_revoked_ok(&app.revoke(&client, &old_token).await);
    assert_inactive(&app, &client, &old_token).await;
    assert_inactive(&app, &client, &tokens.refresh).await;
    app.validate_token(&tokens.access)
        .await
        .assert_invalid_token();
}

async fn a_disabled_users_tokens_are_inactive(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;

    let disabled = app.cli(&["user", "disable", "ada@example.com"], None).await;
    assert!(disabled.status.success());
    app.wait_for_validate_status(&tokens.access, reqwest::StatusCode::UNAUTHORIZED)
        .await;

    assert_inactive(&app, &client, &tokens.access).await;
    assert_inactive(&app, &client, &tokens.refresh).await;
}
