//! The old service's tokens (`ACCEPT_LEGACY_TOKENS=true`): seeds 000/004 signed
//! `{"username": email, "exp", "iat", "admin": true}` with the same secret.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::*;

backend_tests!(
    legacy_tokens_follow_the_user_record,
    logout_everywhere_refuses_the_users_legacy_tokens,
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

async fn legacy_tokens_follow_the_user_record(mut app: TestApp) {
    let ada = user_id(
        &app,
        &app.signup_user("ada@example.com", PASSWORD, "Ada").await,
    );
    let day = app.now() + 86_400;
    let token = seed_token(&app, "ada@example.com", true, day);

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
    // The old service put the login as typed.
    app.validate_token(&seed_token(&app, " ADA@Example.com", false, day))
        .await
        .assert_status(200);

    // An admin in Gatehouse keeps admin, but only if the token said so too.
    let added = app
        .cli(
            &["user", "add", "root@example.com", "--admin"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(added.status.success(), "{}", stderr(&added));
    let root = app
        .validate_token(&seed_token(&app, "root@example.com", true, day))
        .await;
    assert_eq!(root.json()["admin"], true);
    let root = app
        .validate_token(&seed_token(&app, "root@example.com", false, day))
        .await;
    assert_eq!(root.json()["admin"], false);

    // Refused: unknown users, other secrets, expired tokens, seed 002's tokens.
    assert_refused(
        &app,
        &seed_token(&app, "nobody@example.com", true, day),
        "Invalid token signature",
    )
    .await;
    let forged = forge_token(
        &json!({"username": "ada@example.com", "exp": day, "admin": true}),
        &"x".repeat(64),
    );
    assert_refused(&app, &forged, "Token Signature doesn't match").await;
    let expired = seed_token(&app, "ada@example.com", true, app.now() - 3_600);
    assert_refused(
        &app,
        &expired,
        "Signature is expired. Please log in again to refresh",
    )
    .await;
    let no_exp = forge_token(
        &json!({"username": "ada@example.com", "admin": true}),
        &app.secret,
    );
    assert_refused(&app, &no_exp, "Invalid token signature").await;
    // Seed 002's `sub` is the old table's row id: it must never name a Gatehouse user.
    let seed_002 = forge_token(
        &json!({"sub": ada, "iat": app.now(), "exp": day}),
        &app.secret,
    );
    assert_refused(&app, &seed_002, "Invalid token signature").await;

    // Gatehouse's own tokens are unaffected.
    let own = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;
    app.validate_token(&own).await.assert_status(200);

    // Logout revokes the legacy token, durably; another one of the user's still works.
    let other = seed_token(&app, "ada@example.com", true, day - 1);
    let reply = app.logout(&token).await;
    reply.assert_status(200);
    assert_refused(&app, &token, "JWT token is blocked. Please login again").await;
    app.restart().await;
    assert_refused(&app, &token, "JWT token is blocked. Please login again").await;
    app.validate_token(&other).await.assert_status(200);

    // Disabling the user refuses their legacy tokens; enabling brings them back.
    let disabled = app.cli(&["user", "disable", "ada@example.com"], None).await;
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let reply = app
        .wait_for_validate_status(&other, StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(reply.json()["message"], "User account is disabled");
    let enabled = app.cli(&["user", "enable", "ada@example.com"], None).await;
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    app.wait_for_validate_status(&other, StatusCode::OK).await;

    // A deleted user's legacy tokens are refused too.
    let deleted = app.cli(&["user", "delete", "root@example.com"], None).await;
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    app.wait_for_validate_status(
        &seed_token(&app, "root@example.com", true, day),
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Expiry follows the clock, with the usual leeway.
    let short = seed_token(&app, "ada@example.com", true, app.now() + 60);
    app.validate_token(&short).await.assert_status(200);
    app.clock.advance(60 + 30);
    app.validate_token(&short).await.assert_status(200);
    app.clock.advance(1);
    assert_refused(
        &app,
        &short,
        "Signature is expired. Please log in again to refresh",
    )
    .await;
}

async fn logout_everywhere_refuses_the_users_legacy_tokens(mut app: TestApp) {
    // Arrange: two of Ada's old tokens (one without `iat`), one of Grace's, and Ada's own.
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    app.signup_user("grace@example.com", PASSWORD, "Grace")
        .await;
    app.restart_with("ACCEPT_LEGACY_TOKENS", "true").await;
    let day = app.now() + 86_400;
    let old = seed_token(&app, "ada@example.com", false, day);
    let no_iat = forge_token(
        &json!({"username": "ada@example.com", "exp": day}),
        &app.secret,
    );
    let graces = seed_token(&app, "grace@example.com", false, day);
    for token in [&old, &no_iat, &graces] {
        app.validate_token(token).await.assert_status(200);
    }
    let own = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;

    // Act
    let reply = app.logout_scope(&own, "all").await;

    // Assert: Ada's old tokens are refused, durably; Grace's and later ones are not.
    reply.assert_success(200, "Logout Successful");
    let blocked = "JWT token is blocked. Please login again";
    assert_refused(&app, &old, blocked).await;
    assert_refused(&app, &no_iat, blocked).await;
    app.validate_token(&graces).await.assert_status(200);
    app.clock.advance(1);
    let issued_later = forge_token(
        &json!({"username": "ada@example.com", "exp": day, "iat": app.now()}),
        &app.secret,
    );
    app.validate_token(&issued_later).await.assert_status(200);
    app.restart().await;
    assert_refused(&app, &old, blocked).await;
    app.validate_token(&issued_later).await.assert_status(200);
}
