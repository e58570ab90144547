//! Changing a password: `POST /auth/password` (the caller's other sessions end) and
//! `gatehouse user set-password` (every session ends).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::migration::stderr;

backend_tests!(
    a_password_change_ends_the_other_sessions_only,
    a_wrong_current_password_or_a_bad_new_one_changes_nothing,
    set_password_ends_every_session,
);

const NEW_PASSWORD: &str = "a new and better passphrase";

async fn change(app: &TestApp, token: Option<&str>, body: Value) -> Reply {
    app.change_password(token, &body).await
}

async fn signup_with_refresh(app: &TestApp) -> (String, String) {
    let reply = app
        .signup(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .await;
    reply.assert_status(201);
    let body = reply.json();
    (
        body["jwt_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn a_password_change_ends_the_other_sessions_only(app: TestApp) {
    let (other, other_refresh) = signup_with_refresh(&app).await;
    let current = app.basic_login("ada@example.com", PASSWORD).await.text;
    let bystander = app
        .signup_user("grace@example.com", PASSWORD, "Grace")
        .await;

    let reply = change(
        &app,
        Some(&current),
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;

    reply.assert_success(200, "Password changed");
    app.validate_token(&current).await.assert_status(200);
    let ended = app
        .wait_for_validate_status(&other, StatusCode::UNAUTHORIZED)
        .await;
    ended.assert_invalid_token();
    app.post_json(
        "/auth/token/refresh",
        &json!({"refresh_token": other_refresh}),
    )
    .await
    .assert_status(401);
    app.validate_token(&bystander).await.assert_status(200);
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_text(401, "Invalid credentials");
    app.basic_login("ada@example.com", NEW_PASSWORD)
        .await
        .assert_status(200);
}

async fn a_wrong_current_password_or_a_bad_new_one_changes_nothing(app: TestApp) {
    let (token, _) = signup_with_refresh(&app).await;
    let other = app.basic_login("ada@example.com", PASSWORD).await.text;

    let wrong = change(
        &app,
        Some(&token),
        json!({"current_password": "not my password", "new_password": NEW_PASSWORD}),
    )
    .await;
    let short = change(
        &app,
        Some(&token),
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await;
    let missing = change(&app, Some(&token), json!({"new_password": NEW_PASSWORD})).await;
    let wrong_type = change(
        &app,
        Some(&token),
        json!({"current_password": PASSWORD, "new_password": 12345678}),
    )
    .await;
    let anonymous = change(
        &app,
        None,
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;

    wrong.assert_failed(401, "Incorrect password");
    short.assert_status(400);
    missing.assert_status(400);
    wrong_type.assert_status(400);
    anonymous.assert_invalid_token();
    app.validate_token(&other).await.assert_status(200);
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_status(200);
}

async fn set_password_ends_every_session(app: TestApp) {
    let (token, _) = signup_with_refresh(&app).await;

    let output = app
        .cli(
            &["user", "set-password", "ada@example.com"],
            Some(&format!("{NEW_PASSWORD}\n")),
        )
        .await;

    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!String::from_utf8_lossy(&output.stdout).contains(NEW_PASSWORD));
    app.wait_for_validate_status(&token, StatusCode::UNAUTHORIZED)
        .await;
    app.basic_login("ada@example.com", NEW_PASSWORD)
        .await
        .assert_status(200);
    let unknown = app
        .cli(
            &["user", "set-password", "nobody@example.com"],
            Some(&format!("{NEW_PASSWORD}\n")),
        )
        .await;
    assert_eq!(unknown.status.code(), Some(1));
}
