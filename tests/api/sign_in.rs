//! What tokens say about the sign-in (`auth_time`, `amr`, `acr`) on every login contract and
//! across refreshes; the step-up (`REAUTH_MAX_AGE_SECS`, `POST /auth/reauth`) on the injected
//! clock; `MFA_REQUIRED_FOR_ADMIN` for a password-only admin.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::migration::stdout;

backend_tests!(
    every_login_contract_says_how_and_when_the_user_signed_in,
    a_refresh_keeps_the_original_sign_in,
    a_password_change_needs_a_recent_sign_in,
    reauth_renews_the_sign_in_of_the_same_session,
    reauth_refuses_a_wrong_password_and_an_ended_session,
    mfa_required_for_admin_withholds_admin_from_a_password_sign_in,
);

const EMAIL: &str = "ada@example.com";
const NEW_PASSWORD: &str = "a new and better passphrase";

fn assert_password_sign_in(claims: &Value, auth_time: i64) {
    assert_eq!(claims["auth_time"], auth_time, "{claims}");
    assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
    assert_eq!(claims["acr"], "aal1", "{claims}");
}

async fn every_login_contract_says_how_and_when_the_user_signed_in(app: TestApp) {
    let signed_up = app.signup_user(EMAIL, PASSWORD, "Ada").await;
    let t0 = app.now();
    app.clock.advance(5);

    let basic = app.basic_login(EMAIL, PASSWORD).await.text;
    let json_login = app
        .json_login(json!({"email": EMAIL, "password": PASSWORD}))
        .await;
    let auth_login = app
        .auth_login(json!({"email": EMAIL, "password": PASSWORD}))
        .await;

    assert_password_sign_in(&app.validate_token(&signed_up).await.json(), t0);
    let tokens = [
        basic,
        token_of(&json_login.json()),
        auth_login.json()["jwt_token"].as_str().unwrap().to_owned(),
    ];
    for token in tokens {
        let validated = app.validate_token(&token).await;
        validated.assert_status(200);
        assert_password_sign_in(&validated.json(), t0 + 5);
    }
}

/// The access token of a JSON login's answer, whichever field its contract uses.
fn token_of(body: &Value) -> String {
    ["token", "access_token", "jwt_token"]
        .iter()
        .find_map(|name| body[name].as_str())
        .unwrap_or_else(|| panic!("no token in {body}"))
        .to_owned()
}

async fn a_refresh_keeps_the_original_sign_in(app: TestApp) {
    let reply = app
        .signup(json!({"email": EMAIL, "password": PASSWORD, "name": "Ada"}))
        .await;
    let signed_in_at = app.now();
    let refresh_token = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    app.clock.advance(2_000);

    let refreshed = app.refresh(&refresh_token).await;

    refreshed.assert_status(200);
    let token = refreshed.json()["jwt_token"].as_str().unwrap().to_owned();
    let claims = app.validate_token(&token).await.json();
    assert_password_sign_in(&claims, signed_in_at);
    assert_eq!(
        claims["iat"],
        signed_in_at + 2_000,
        "a new token all the same"
    );
}

async fn a_password_change_needs_a_recent_sign_in(mut app: TestApp) {
    let token = app.signup_user(EMAIL, PASSWORD, "Ada").await;
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});

    app.clock.advance(601);
    let stale = app.change_password(Some(&token), &body).await;

    stale.assert_failed(
        401,
        "Recent sign-in required: sign in again, or POST /auth/reauth",
    );
    assert_eq!(stale.json()["reauth_required"], true);
    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);

    app.set_env("REAUTH_MAX_AGE_SECS", "3600");
    app.restart().await;
    app.change_password(Some(&token), &body)
        .await
        .assert_status(200);
}

async fn reauth_renews_the_sign_in_of_the_same_session(app: TestApp) {
    let reply = app
        .signup(json!({"email": EMAIL, "password": PASSWORD, "name": "Ada"}))
        .await;
    let old = reply.json()["jwt_token"].as_str().unwrap().to_owned();
    let refresh_token = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    app.clock.advance(700);

    let reauth = app.reauth(&old, &json!({"password": PASSWORD})).await;

    reauth.assert_status(200);
    let fresh = reauth.json()["jwt_token"].as_str().unwrap().to_owned();
    let claims = app.validate_token(&fresh).await.json();
    assert_password_sign_in(&claims, app.now());
    let old_claims = app.validate_token(&old).await.json();
    assert_eq!(claims["sid"], old_claims["sid"], "the same session");
    let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    app.change_password(Some(&fresh), &body)
        .await
        .assert_status(200);
    // The session's refresh token goes on, and its tokens now carry the new sign-in time.
    let refreshed = app.refresh(&refresh_token).await;
    refreshed.assert_status(200);
    let token = refreshed.json()["jwt_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.validate_token(&token).await.json()["auth_time"],
        claims["auth_time"]
    );
}

async fn reauth_refuses_a_wrong_password_and_an_ended_session(app: TestApp) {
    let token = app.signup_user(EMAIL, PASSWORD, "Ada").await;

    let wrong = app
        .reauth(&token, &json!({"password": "not the password"}))
        .await;
    let missing = app.reauth(&token, &json!({})).await;
    app.logout(&token).await.assert_status(200);
    let ended = app.reauth(&token, &json!({"password": PASSWORD})).await;

    wrong.assert_failed(401, "Incorrect password");
    missing.assert_status(400);
    ended.assert_status(401);
}

async fn mfa_required_for_admin_withholds_admin_from_a_password_sign_in(mut app: TestApp) {
    let added = app
        .cli(
            &[
                "user",
                "add",
                "root@example.com",
                "--admin",
                "--name",
                "Root",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(added.status.success(), "{}", stdout(&added));
    let before = app.basic_login("root@example.com", PASSWORD).await.text;

    app.restart_with("MFA_REQUIRED_FOR_ADMIN", "true").await;
    let after = app.basic_login("root@example.com", PASSWORD).await.text;

    assert_eq!(app.validate_token(&before).await.json()["admin"], true);
    let claims = app.validate_token(&after).await.json();
    assert_eq!(claims["admin"], false, "{claims}");
    assert_eq!(claims["acr"], "aal1");
}
