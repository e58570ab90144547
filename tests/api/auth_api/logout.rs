//! Seed 002: `/auth/logout`, revocation, and the token errors every Bearer endpoint shares.

use crate::helpers::*;

backend_tests!(
    logout_revokes_that_token_everywhere,
    logout_leaves_other_tokens_of_the_user_working,
    revocation_survives_a_restart,
    logout_without_a_token_is_auth_token_missing,
    logout_with_an_expired_token_says_so,
    logout_with_another_secret_says_the_signature_does_not_match,
    logout_with_a_garbage_token_is_an_invalid_signature,
    auth_user_refuses_missing_or_bad_tokens,
);

async fn logout_revokes_that_token_everywhere(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    app.validate_token(&token).await.assert_status(200);

    let logout = app.logout(&token).await;

    logout.assert_success(200, "Logout Successful");
    app.validate_token(&token).await.assert_invalid_token();
    app.auth_user(&token).await.assert_status(401);
    app.profile(&token).await.assert_status(401);
    let second = app.logout(&token).await;
    second.assert_failed(401, "JWT token is blocked. Please login again");
}

async fn logout_leaves_other_tokens_of_the_user_working(app: TestApp) {
    let first = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let second = app.basic_login("ada@example.com", PASSWORD).await.text;
    let other_user = app
        .signup_user("grace@example.com", PASSWORD, "Grace")
        .await;

    app.logout(&first).await.assert_status(200);

    app.validate_token(&first).await.assert_invalid_token();
    app.validate_token(&second).await.assert_status(200);
    app.auth_user(&second).await.assert_status(200);
    app.profile(&other_user).await.assert_status(200);
}

async fn revocation_survives_a_restart(mut app: TestApp) {
    let revoked = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let kept = app.basic_login("ada@example.com", PASSWORD).await.text;
    app.logout(&revoked).await.assert_status(200);

    app.restart().await;

    app.validate_token(&revoked).await.assert_invalid_token();
    app.logout(&revoked)
        .await
        .assert_failed(401, "JWT token is blocked. Please login again");
    app.validate_token(&kept).await.assert_status(200);
}

async fn logout_without_a_token_is_auth_token_missing(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let reply = app.send(app.client.post(app.url("/auth/logout"))).await;

    reply.assert_failed(401, "Auth token missing");
}

async fn logout_with_an_expired_token_says_so(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    app.clock.advance(3600 + 31);
    let reply = app.logout(&token).await;

    reply.assert_failed(401, "Signature is expired. Please log in again to refresh");
}

async fn logout_with_another_secret_says_the_signature_does_not_match(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let forged = forge_token(&decode_claims(&token, &app.secret), &random_hex(32));

    let reply = app.logout(&forged).await;

    reply.assert_failed(401, "Token Signature doesn't match");
    app.validate_token(&token).await.assert_status(200);
}

async fn logout_with_a_garbage_token_is_an_invalid_signature(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let reply = app.logout("not-a-token").await;

    reply.assert_failed(401, "Invalid token signature");
}

async fn auth_user_refuses_missing_or_bad_tokens(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let forged = forge_token(&decode_claims(&token, &app.secret), &random_hex(32));

    let missing = app.send(app.client.get(app.url("/auth/user"))).await;
    let garbage = app.auth_user("not-a-token").await;
    let other_secret = app.auth_user(&forged).await;

    missing.assert_failed(401, "Auth token missing");
    garbage.assert_failed(401, "Invalid token signature");
    other_secret.assert_failed(401, "Token Signature doesn't match");
    app.auth_user(&token).await.assert_status(200);
}
