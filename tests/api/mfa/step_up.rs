//! The step-up with a second factor: `POST /auth/reauth` asks a user with TOTP for a code,
//! counts wrong ones (a right password between them clears nothing), and gives an `aal2`
//! token; `MFA_REQUIRED_FOR_ADMIN` grants `admin` to a sign-in with a code.

use serde_json::json;

use super::*;
use crate::migration::stdout;

backend_tests!(
    reauth_asks_a_user_with_totp_for_a_code,
    a_right_password_does_not_clear_wrong_codes_at_reauth,
    mfa_required_for_admin_grants_admin_after_a_second_factor,
    a_refresh_keeps_the_second_factor_of_the_sign_in,
);

const EMAIL: &str = "ada@example.com";

fn token_in(reply: &Reply) -> String {
    reply.json()["jwt_token"]
        .as_str()
        .expect("jwt_token")
        .to_owned()
}

async fn reauth_asks_a_user_with_totp_for_a_code(app: TestApp) {
    let (secret, _, token) = user_with_totp(&app, EMAIL).await;
    app.clock.advance(601);
    next_step(&app);

    let stale = app
        .send(
            app.client
                .delete(app.url("/auth/mfa/totp"))
                .bearer_auth(&token),
        )
        .await;
    let bare = app.reauth(&token, &json!({"password": PASSWORD})).await;
    let wrong = app
        .reauth(&token, &json!({"password": PASSWORD, "code": "000000"}))
        .await;
    let right = app
        .reauth(
            &token,
            &json!({"password": PASSWORD, "code": code_now(&app, &secret)}),
        )
        .await;

    assert_eq!(stale.json()["reauth_required"], true, "{}", stale.text);
    let body = bare.assert_failed(401, "MFA code required");
    assert_eq!(body["mfa_required"], true);
    wrong.assert_failed(401, "Invalid code");
    right.assert_status(200);
    let fresh = token_in(&right);
    let claims = app.validate_token(&fresh).await.json();
    assert_eq!(claims["amr"], json!(["pwd", "otp"]), "{claims}");
    assert_eq!(claims["acr"], "aal2");
    assert_eq!(claims["auth_time"], app.now());
    let removed = app
        .send(
            app.client
                .delete(app.url("/auth/mfa/totp"))
                .bearer_auth(&fresh),
        )
        .await;
    removed.assert_status(200);
}

async fn a_right_password_does_not_clear_wrong_codes_at_reauth(app: TestApp) {
    let (secret, _, token) = user_with_totp(&app, EMAIL).await;

    for _ in 0..5 {
        app.reauth(&token, &json!({"password": PASSWORD, "code": "000000"}))
            .await
            .assert_failed(401, "Invalid code");
    }
    let locked = app
        .reauth(
            &token,
            &json!({"password": PASSWORD, "code": code_now(&app, &secret)}),
        )
        .await;

    locked.assert_failed(429, "Too many failed login attempts, try again later");
}

/// An admin with TOTP on a deployment with `MFA_REQUIRED_FOR_ADMIN=true`, signed in with
/// `/auth/login` and a code: the second step's answer.
async fn admin_signed_in_with_a_code(app: &mut TestApp) -> Reply {
    let (secret, _, _) = user_with_totp(app, EMAIL).await;
    let made_admin = app.cli(&["user", "set-admin", EMAIL, "true"], None).await;
    assert!(made_admin.status.success(), "{}", stdout(&made_admin));
    app.restart_with("MFA_REQUIRED_FOR_ADMIN", "true").await;
    let password_step = app
        .auth_login(json!({"email": EMAIL, "password": PASSWORD}))
        .await;
    let code = code_now(app, &secret);
    let body = json!({"mfa_token": mfa_token_of(&password_step), "code": code});
    login_mfa(app, body).await
}

async fn mfa_required_for_admin_grants_admin_after_a_second_factor(mut app: TestApp) {
    let reply = admin_signed_in_with_a_code(&mut app).await;

    reply.assert_status(200);
    let claims = app.validate_token(&token_in(&reply)).await.json();
    assert_eq!(claims["admin"], true, "{claims}");
    assert_eq!(claims["acr"], "aal2");
}

async fn a_refresh_keeps_the_second_factor_of_the_sign_in(mut app: TestApp) {
    let signed_in = admin_signed_in_with_a_code(&mut app).await;
    let signed_in_at = app.now();
    let refresh_token = signed_in.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.clock.advance(2_000);

    let refreshed = app.refresh(&refresh_token).await;

    refreshed.assert_status(200);
    let claims = app.validate_token(&token_in(&refreshed)).await.json();
    assert_eq!(claims["amr"], json!(["pwd", "otp"]), "{claims}");
    assert_eq!(claims["acr"], "aal2");
    assert_eq!(claims["auth_time"], signed_in_at);
    assert_eq!(claims["admin"], true, "still a second-factor sign-in");
}
