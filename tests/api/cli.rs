//! The `gatehouse` binary, run against the same database as a running server.

use std::process::Output;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

backend_tests!(
    user_add_admin_can_log_in_with_an_admin_token,
    user_list_shows_emails_but_never_hashes,
    user_disable_ends_every_session_for_good,
    user_delete_refuses_existing_tokens,
    a_deletion_outlives_a_shorter_token_lifetime,
    migrate_twice_is_harmless,
    config_errors_exit_with_code_2_and_one_line,
);

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} exited with {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

async fn user_add_admin_can_log_in_with_an_admin_token(app: TestApp) {
    let added = app
        .cli(
            &[
                "user",
                "add",
                "admin@example.com",
                "--admin",
                "--name",
                "Root",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;

    assert_success(&added, "user add");
    assert!(!stdout(&added).contains(PASSWORD) && !stderr(&added).contains(PASSWORD));
    let login = app.basic_login("admin@example.com", PASSWORD).await;
    login.assert_status(200);
    let claims = decode_claims(&login.text, &app.secret);
    assert_eq!(claims["admin"], true);
    assert_eq!(claims["email"], "admin@example.com");
    let user = app.auth_user(&login.text).await.json();
    assert_eq!(user["details"]["admin"], true);
    assert_eq!(user["details"]["name"], "Root");
    app.basic_login("admin@example.com", "wrong password!")
        .await
        .assert_status(401);
}

async fn user_list_shows_emails_but_never_hashes(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let added = app
        .cli(
            &["user", "add", "grace@example.com"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert_success(&added, "user add");

    let list = app.cli(&["user", "list"], None).await;

    assert_success(&list, "user list");
    let out = stdout(&list);
    assert!(out.contains("ada@example.com"), "{out}");
    assert!(out.contains("grace@example.com"), "{out}");
    assert!(
        !out.contains("$argon2") && !stderr(&list).contains("$argon2"),
        "{out}"
    );
    assert!(!out.contains(PASSWORD), "{out}");
}

/// Disabling ends every session and refresh token the user holds: enabling the account again
/// brings none of them back (an attacker's stolen refresh token stays dead).
async fn user_disable_ends_every_session_for_good(app: TestApp) {
    let signup = app
        .signup(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .await;
    signup.assert_status(201);
    let token = signup.json()["jwt_token"].as_str().unwrap().to_owned();
    let refresh_token = signup.json()["refresh_token"].as_str().unwrap().to_owned();
    let other = app
        .signup_user("grace@example.com", PASSWORD, "Grace")
        .await;
    app.validate_token(&token).await.assert_status(200);

    let disabled = app.cli(&["user", "disable", "ada@example.com"], None).await;

    assert_success(&disabled, "user disable");
    let refused = app
        .wait_for_validate_status(&token, StatusCode::UNAUTHORIZED)
        .await;
    refused.assert_invalid_token();
    app.profile(&token).await.assert_status(401);
    let login = app.basic_login("ada@example.com", PASSWORD).await;
    assert!(
        matches!(login.status.as_u16(), 401 | 403),
        "disabled login: {login:?}"
    );
    app.validate_token(&other).await.assert_status(200);

    let enabled = app.cli(&["user", "enable", "ada@example.com"], None).await;

    assert_success(&enabled, "user enable");
    let fresh = app.basic_login("ada@example.com", PASSWORD).await;
    fresh.assert_status(200);
    app.wait_for_validate_status(&fresh.text, StatusCode::OK)
        .await;
    let refused = app.validate_token(&token).await;
    refused.assert_invalid_token();
    assert_eq!(
        refused.json()["message"],
        "JWT token is blocked. Please login again"
    );
    app.post_json(
        "/auth/token/refresh",
        &json!({"refresh_token": refresh_token}),
    )
    .await
    .assert_status(401);
    app.validate_token(&other).await.assert_status(200);
}

async fn user_delete_refuses_existing_tokens(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    app.validate_token(&token).await.assert_status(200);

    let deleted = app.cli(&["user", "delete", "ada@example.com"], None).await;

    assert_success(&deleted, "user delete");
    let refused = app
        .wait_for_validate_status(&token, StatusCode::UNAUTHORIZED)
        .await;
    refused.assert_invalid_token();
    app.auth_user(&token).await.assert_status(401);
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_text(401, "Invalid credentials");
    let list = app.cli(&["user", "list"], None).await;
    assert!(
        !stdout(&list).contains("ada@example.com"),
        "{}",
        stdout(&list)
    );

    // The email can be signed up again; the new account does not revive the old token.
    let fresh = app
        .signup_user("ada@example.com", PASSWORD, "Ada again")
        .await;
    app.validate_token(&fresh).await.assert_status(200);
    app.validate_token(&token).await.assert_invalid_token();
}

async fn migrate_twice_is_harmless(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let first = app.cli(&["migrate"], None).await;
    let second = app.cli(&["migrate"], None).await;

    assert_success(&first, "migrate");
    assert_success(&second, "migrate again");
    let login = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    login.assert_success(200, "User login successful.");
}

async fn config_errors_exit_with_code_2_and_one_line(app: TestApp) {
    let weak = app
        .cli_with_env(&["user", "list"], None, &[("JWT_SECRET", "short")])
        .await;
    let bad_port = app
        .cli_with_env(&["user", "list"], None, &[("PORT", "http")])
        .await;
    let weak_allowed = app
        .cli_with_env(
            &["user", "list"],
            None,
            &[("JWT_SECRET", "short"), ("ALLOW_WEAK_SECRET", "true")],
        )
        .await;

    for (output, name) in [(&weak, "JWT_SECRET"), (&bad_port, "PORT")] {
        assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(output));
        let err = stderr(output);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "one line on stderr: {err:?}"
        );
        assert!(err.contains(name), "{err:?}");
    }
    assert_success(&weak_allowed, "user list with ALLOW_WEAK_SECRET=true");
}

/// A deleted user's tokens stay refused until they expire by their own `exp`: lowering
/// `ACCESS_TOKEN_TTL` (here from three days to a minute) must not let the purge forget the
/// deletion while they still live.
async fn a_deletion_outlives_a_shorter_token_lifetime(mut app: TestApp) {
    app.restart_with("ACCESS_TOKEN_TTL", &(3 * 86_400).to_string())
        .await;
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let deleted = app.cli(&["user", "delete", "ada@example.com"], None).await;
    assert_success(&deleted, "user delete");
    app.wait_for_validate_status(&token, StatusCode::UNAUTHORIZED)
        .await;

    app.restart_with("ACCESS_TOKEN_TTL", "60").await;
    app.clock.advance(2 * 86_400);
    // A poll or two runs meanwhile, with its purge.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.restart().await;

    app.validate_token(&token).await.assert_invalid_token();
}
