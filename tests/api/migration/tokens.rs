//! The old service's tokens (`ACCEPT_LEGACY_TOKENS=true`): seeds 000/004 signed
//! `{"username": email, "exp", "iat", "admin": true}` with the same secret. They are accepted
//! only for users who came from the old service, matched by their old row's exact email, only
//! if issued before the switch-over and within a day, and never after the sunset.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::sources::{text, LegacyDb};
use super::*;

backend_tests!(
    legacy_tokens_follow_the_user_record,
    logout_everywhere_refuses_the_users_legacy_tokens,
    only_tokens_from_before_the_switch_pass,
);

fn seed_token(app: &TestApp, username: &str, admin: bool, exp: i64) -> String {
    let claims = json!({"username": username, "exp": exp, "iat": app.now() - 60, "admin": admin});
    forge_token(&claims, &app.secret)
}

fn user_id(app: &TestApp, token: &str) -> Value {
    decode_claims(token, &app.secret)["sub"].clone()
}

async fn assert_refused(app: &TestApp, token: &str, message: &str) {
    let reply = app.validate_token(token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    assert_eq!(reply.json()["message"], message);
}

/// Imports `(email, admin)` rows, all with password `PASSWORD`, from an old service's table.
async fn import_old_users(app: &TestApp, rows: &[(&str, bool)]) {
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE users (email TEXT, password TEXT, admin BOOLEAN)")
        .await;
    let rows = rows
        .iter()
        .map(|(email, admin)| {
            vec![
                text(email),
                text(PASSWORD),
                super::sources::Value::Bool(*admin),
            ]
        })
        .collect();
    legacy
        .insert("users", &["email", "password", "admin"], rows)
        .await;
    let args = [
        "--from",
        &legacy.url,
        "--table",
        "users",
        "--format",
        "plain",
        "--admin-column",
        "admin",
    ];
    import(app, &args, 0).await;
}

async fn legacy_tokens_follow_the_user_record(mut app: TestApp) {
    // Arrange: Ada and Root came from the old service (Root as an admin there); Nat signed
    // up in Gatehouse.
    import_old_users(
        &app,
        &[("Ada@Example.com", false), ("root@example.com", true)],
    )
    .await;
    app.signup_user("nat@example.com", PASSWORD, "Nat").await;
    let ada = user_id(
        &app,
        &log_in_both_ways(&app, "ada@example.com", PASSWORD).await,
    );
    let day = app.now() + 86_400 - 120;
    let token = seed_token(&app, "Ada@Example.com", true, day);

    // Off by default.
    assert_refused(&app, &token, "Invalid token signature").await;
    app.restart_with("ACCEPT_LEGACY_TOKENS", "true").await;

    let reply = app.validate_token(&token).await;
    reply.assert_status(200);
    let claims = reply.json();
    // The token said admin; the record does not: the record wins.
    assert_eq!(claims["admin"], false);
    assert_eq!(claims["sub"], ada);
    assert_eq!(claims["username"], "ada@example.com");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["exp"], day);
    assert_eq!(claims["iss"], "legacy");
    assert!(claims["jti"].as_str().unwrap().starts_with("legacy-"));
    // Seed 000's clients send the bare token; the other endpoints take it too.
    app.validate(Some(&token)).await.assert_status(200);
    let details = app.auth_user(&token).await;
    details.assert_status(200);
    assert_eq!(details.json()["details"]["email"], "ada@example.com");
    app.profile(&token).await.assert_status(200);
    // Only the old row's email exactly: another spelling may be another person's old account.
    for other_spelling in ["ada@example.com", " Ada@Example.com", "ADA@EXAMPLE.COM"] {
        let token = seed_token(&app, other_spelling, false, day);
        assert_refused(&app, &token, "Invalid token signature").await;
    }

    // An admin of the old service keeps admin, but only if the token said so too.
    let root = app
        .validate_token(&seed_token(&app, "root@example.com", true, day))
        .await;
    assert_eq!(root.json()["admin"], true);
    let root = app
        .validate_token(&seed_token(&app, "root@example.com", false, day))
        .await;
    assert_eq!(root.json()["admin"], false);

    // Refused: users who never were in the old service, unknown users, other secrets,
    // expired tokens, seed 002's tokens.
    for stranger in ["nat@example.com", "nobody@example.com"] {
        let token = seed_token(&app, stranger, true, day);
        assert_refused(&app, &token, "Invalid token signature").await;
    }
    let forged = forge_token(
        &json!({"username": "Ada@Example.com", "exp": day, "iat": app.now() - 60}),
        &"x".repeat(64),
    );
    assert_refused(&app, &forged, "Token Signature doesn't match").await;
    let expired = seed_token(&app, "Ada@Example.com", true, app.now() - 3_600);
    assert_refused(
        &app,
        &expired,
        "Signature is expired. Please log in again to refresh",
    )
    .await;
    let no_exp = forge_token(
        &json!({"username": "Ada@Example.com", "iat": app.now() - 60}),
        &app.secret,
    );
    assert_refused(&app, &no_exp, "Invalid token signature").await;
    // Seed 002's `sub` is the old table's row id: it must never name a Gatehouse user.
    let seed_002 = forge_token(
        &json!({"sub": ada, "iat": app.now() - 60, "exp": day}),
        &app.secret,
    );
    assert_refused(&app, &seed_002, "Invalid token signature").await;

    // Gatehouse's own tokens are unaffected.
    let own = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;
    app.validate_token(&own).await.assert_status(200);

    // Logout revokes the legacy token, durably; another one of the user's still works.
    let other = seed_token(&app, "Ada@Example.com", true, day - 1);
    let reply = app.logout(&token).await;
    reply.assert_status(200);
    assert_refused(&app, &token, "JWT token is blocked. Please login again").await;
    app.restart().await;
    assert_refused(&app, &token, "JWT token is blocked. Please login again").await;
    app.validate_token(&other).await.assert_status(200);

    // Disabling the user refuses their legacy tokens, and enabling them again does not bring
    // those back: they were all issued before the disabling.
    let disabled = app.cli(&["user", "disable", "ada@example.com"], None).await;
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let reply = app
        .wait_for_validate_status(&other, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(reply.json()["message"], "User account is disabled");
    let enabled = app.cli(&["user", "enable", "ada@example.com"], None).await;
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    let fresh = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;
    app.wait_for_validate_status(&fresh, StatusCode::OK).await;
    assert_refused(&app, &other, "JWT token is blocked. Please login again").await;

    // A deleted user's legacy tokens are refused too.
    let deleted = app.cli(&["user", "delete", "root@example.com"], None).await;
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    app.wait_for_validate_status(
        &seed_token(&app, "root@example.com", true, day),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

async fn logout_everywhere_refuses_the_users_legacy_tokens(mut app: TestApp) {
    // Arrange: two of Ada's old tokens, one of Grace's, and Ada's own.
    import_old_users(
        &app,
        &[("ada@example.com", false), ("grace@example.com", false)],
    )
    .await;
    app.restart_with("ACCEPT_LEGACY_TOKENS", "true").await;
    let day = app.now() + 86_400 - 120;
    let old = seed_token(&app, "ada@example.com", false, day);
    let older = forge_token(
        &json!({"username": "ada@example.com", "exp": day - 600, "iat": app.now() - 600}),
        &app.secret,
    );
    let graces = seed_token(&app, "grace@example.com", false, day);
    for token in [&old, &older, &graces] {
        app.validate_token(token).await.assert_status(200);
    }
    let own = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;

    // Act
    let reply = app.logout_scope(&own, "all").await;

    // Assert: Ada's old tokens are refused, durably; Grace's are not.
    reply.assert_success(200, "Logout Successful");
    let blocked = "JWT token is blocked. Please login again";
    assert_refused(&app, &old, blocked).await;
    assert_refused(&app, &older, blocked).await;
    app.validate_token(&graces).await.assert_status(200);
    app.restart().await;
    assert_refused(&app, &old, blocked).await;
    app.validate_token(&graces).await.assert_status(200);
}

async fn only_tokens_from_before_the_switch_pass(mut app: TestApp) {
    // Arrange: the switch-over is recorded at the first start with the setting on.
    import_old_users(&app, &[("ada@example.com", false)]).await;
    app.restart_with("ACCEPT_LEGACY_TOKENS", "true").await;
    let switch_over = app.now();
    let secret = app.secret.clone();
    let token = |claims: Value| forge_token(&claims, &secret);
    let before = token(
        json!({"username": "ada@example.com", "iat": switch_over - 10, "exp": switch_over + 3_600}),
    );
    let after = token(
        json!({"username": "ada@example.com", "iat": switch_over + 5, "exp": switch_over + 3_600}),
    );
    let no_iat = token(json!({"username": "ada@example.com", "exp": switch_over + 3_600}));
    let a_year = token(
        json!({"username": "ada@example.com", "iat": switch_over - 10, "exp": switch_over + 365 * 86_400}),
    );
    let reset = token(
        json!({"reset_password": 1, "username": "ada@example.com", "iat": switch_over - 10, "exp": switch_over + 600}),
    );

    // Act and assert: only the token issued before the switch, for at most a day, passes.
    app.clock.advance(10);
    app.validate_token(&before).await.assert_status(200);
    for refused in [&after, &no_iat, &a_year, &reset] {
        assert_refused(&app, refused, "Invalid token signature").await;
    }
    // The switch-over stays the first start's, across restarts.
    app.restart().await;
    app.validate_token(&before).await.assert_status(200);
    assert_refused(&app, &after, "Invalid token signature").await;

    // A sunset already passed turns the setting off.
    app.restart_with("LEGACY_TOKENS_UNTIL", &(app.now() - 1).to_string())
        .await;
    assert_refused(&app, &before, "Invalid token signature").await;
    // Set explicitly, the switch-over time moves; a day after it nothing passes any more.
    app.set_env("LEGACY_TOKENS_UNTIL", &(app.now() + 86_400 * 2).to_string());
    app.restart_with(
        "LEGACY_TOKENS_ISSUED_BEFORE",
        &(switch_over + 60).to_string(),
    )
    .await;
    app.clock.advance(60);
    app.validate_token(&after).await.assert_status(200);
    let longest = token(
        json!({"username": "ada@example.com", "iat": switch_over + 60, "exp": switch_over + 60 + 86_400}),
    );
    app.validate_token(&longest).await.assert_status(200);
    // Past the sunset (the last such token's expiry), the setting stops working.
    app.clock.advance(86_400 + 31);
    assert_refused(&app, &longest, "Invalid token signature").await;
}
