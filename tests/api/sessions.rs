//! Sessions and refresh tokens: what logins hand out, and the helpers the submodules share.
//!
//! `refresh`: rotation and reuse detection; `expiry`: sliding and absolute lifetimes;
//! `listing`: `GET` / `DELETE /auth/sessions`; `logout`: `POST /auth/logout` and its scopes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::helpers::*;

mod expiry;
mod listing;
mod logout;
mod refresh;

backend_tests!(
    auth_login_returns_a_refresh_token_and_expires_in,
    signup_returns_a_refresh_token_that_refreshes,
    json_login_returns_token_refresh_token_and_expires_in,
    basic_login_still_returns_only_the_token_text,
    every_login_starts_a_new_session,
    expires_in_follows_access_token_ttl,
);

const DAY: i64 = 86_400;
const REVOKED: &str = "JWT token is blocked. Please login again";
const INVALID_REFRESH: &str = "Invalid refresh token";

/// What a JSON login hands out.
#[derive(Debug, Clone)]
struct Login {
    access: String,
    refresh: String,
    sid: String,
}

impl Login {
    /// Reads `{<access_field>, refresh_token, expires_in}` from a login or refresh body.
    fn from_body(app: &TestApp, body: &Value, access_field: &str) -> Self {
        let access = body[access_field].as_str().expect("an access token");
        let refresh = body["refresh_token"].as_str().expect("a refresh_token");
        assert_refresh_token_shape(refresh);
        // The access token's lifetime: the default 3600 s, or less when its session ends sooner.
        let claims = decode_claims(access, &app.secret);
        let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
        assert_eq!(body["expires_in"], lifetime, "body: {body}");
        assert!(lifetime <= 3600, "body: {body}");
        Self {
            access: access.to_owned(),
            refresh: refresh.to_owned(),
            sid: sid_of(app, access),
        }
    }
}

/// `POST /auth/login` as `email` with `user_agent`; asserts success.
async fn login_as(app: &TestApp, email: &str, user_agent: &str) -> Login {
    let request = app
        .client
        .post(app.url("/auth/login"))
        .header("User-Agent", user_agent)
        .json(&json!({"email": email, "password": PASSWORD}));
    let reply = app.send(request).await;
    let body = reply.assert_success(200, "User login successful.");
    Login::from_body(app, &body, "jwt_token")
}

async fn login(app: &TestApp, email: &str) -> Login {
    login_as(app, email, "sessions-test").await
}

/// Signs `email` up and returns its first session.
async fn signup(app: &TestApp, email: &str) -> Login {
    let reply = app
        .signup(json!({"email": email, "password": PASSWORD, "name": "Ada"}))
        .await;
    let body = reply.assert_success(201, "User signed up successful.");
    Login::from_body(app, &body, "jwt_token")
}

/// `POST /auth/token/refresh` with `{"refresh_token": token}`.
async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.refresh(token).await
}

/// Refreshes `token` and asserts the documented success body; returns the new pair.
async fn refresh_ok(app: &TestApp, token: &str) -> Login {
    let body = refresh(app, token)
        .await
        .assert_success(200, "Token refreshed");
    Login::from_body(app, &body, "jwt_token")
}

fn assert_refresh_invalid(reply: &Reply) {
    reply.assert_failed(401, INVALID_REFRESH);
}

/// The session id (`sid` claim) of a verified access token.
fn sid_of(app: &TestApp, token: &str) -> String {
    let claims = decode_claims(token, &app.secret);
    let sid = claims["sid"].as_str().expect("a string sid claim");
    assert!(!sid.is_empty(), "empty sid in {claims}");
    sid.to_owned()
}

/// `v2.<session id>.<generation>.<tag>`, the tag 43 base64url characters without padding
/// (a 256-bit HMAC): URL-safe, and unguessable without the server's key.
fn assert_refresh_token_shape(token: &str) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 4, "refresh token {token:?}");
    assert_eq!(parts[0], "v2", "refresh token {token:?}");
    assert!(parts[2].parse::<u64>().is_ok(), "refresh token {token:?}");
    let tag = URL_SAFE_NO_PAD
        .decode(parts[3])
        .unwrap_or_else(|e| panic!("refresh token {token:?} is not base64url: {e}"));
    assert_eq!(tag.len(), 32, "refresh token {token:?}");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
}

/// `/validate` refuses `token` because its session was ended.
async fn assert_session_ended(app: &TestApp, token: &str) {
    let reply = app.validate_token(token).await;
    reply.assert_invalid_token();
    assert_eq!(reply.json()["message"], REVOKED, "body: {}", reply.text);
}

/// `token` validates and its session still refreshes; returns the refreshed pair.
async fn assert_session_alive(app: &TestApp, session: &Login) -> Login {
    app.validate_token(&session.access).await.assert_status(200);
    let renewed = refresh_ok(app, &session.refresh).await;
    assert_eq!(renewed.sid, session.sid);
    renewed
}

/// `GET /auth/sessions` with `token`.
async fn list_sessions(app: &TestApp, token: &str) -> Reply {
    let request = app.client.get(app.url("/auth/sessions")).bearer_auth(token);
    app.send(request).await
}

/// The ids `GET /auth/sessions` lists for `token`, in order; asserts success.
async fn listed_ids(app: &TestApp, token: &str) -> Vec<String> {
    let body = list_sessions(app, token)
        .await
        .assert_success(200, "Active sessions");
    let sessions = body["sessions"].as_array().expect("a sessions array");
    sessions
        .iter()
        .map(|s| s["id"].as_str().expect("a string id").to_owned())
        .collect()
}

/// `POST /auth/logout?scope=…` (`None`: no query).
async fn auth_login_returns_a_refresh_token_and_expires_in(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let reply = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;

    let body = reply.assert_success(200, "User login successful.");
    let session = Login::from_body(&app, &body, "jwt_token");
    let claims = decode_claims(&session.access, &app.secret);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["iat"], app.now(), "claims: {claims}");
    assert_eq!(claims["exp"], app.now() + 3600, "claims: {claims}");
    assert_ne!(session.refresh, session.access);
    app.validate_token(&session.access).await.assert_status(200);
    refresh_ok(&app, &session.refresh).await;
}

async fn signup_returns_a_refresh_token_that_refreshes(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;

    let renewed = refresh_ok(&app, &session.refresh).await;

    assert_eq!(renewed.sid, session.sid);
    assert_ne!(renewed.refresh, session.refresh);
    let claims = decode_claims(&renewed.access, &app.secret);
    assert_eq!(claims["email"], "ada@example.com");
    app.validate_token(&renewed.access).await.assert_status(200);
}

async fn json_login_returns_token_refresh_token_and_expires_in(app: TestApp) {
    let first = signup(&app, "ada@example.com").await;

    let reply = app
        .json_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;

    reply.assert_status(200);
    reply.assert_json_content_type();
    let session = Login::from_body(&app, &reply.json(), "token");
    assert_ne!(session.sid, first.sid);
    assert_ne!(session.refresh, first.refresh);
    app.validate_token(&session.access).await.assert_status(200);
    let renewed = refresh_ok(&app, &session.refresh).await;
    assert_eq!(renewed.sid, session.sid);
}

async fn basic_login_still_returns_only_the_token_text(app: TestApp) {
    let first = signup(&app, "ada@example.com").await;

    let reply = app.basic_login("ada@example.com", PASSWORD).await;

    reply.assert_status(200);
    assert!(
        reply.content_type().starts_with("text/plain"),
        "Content-Type {:?}",
        reply.content_type()
    );
    assert_eq!(
        reply.text.split('.').count(),
        3,
        "not a JWT: {:?}",
        reply.text
    );
    assert!(!reply.text.contains("refresh"), "body: {:?}", reply.text);
    let sid = sid_of(&app, &reply.text);
    assert_ne!(sid, first.sid);
    app.validate_token(&reply.text).await.assert_status(200);
}

async fn every_login_starts_a_new_session(app: TestApp) {
    let first = signup(&app, "ada@example.com").await;

    let second = login(&app, "ada@example.com").await;
    let third = login(&app, "ada@example.com").await;

    let sids = [&first.sid, &second.sid, &third.sid];
    let refreshes = [&first.refresh, &second.refresh, &third.refresh];
    for i in 0..3 {
        for j in (i + 1)..3 {
            assert_ne!(sids[i], sids[j], "sessions {i} and {j} share an id");
            assert_ne!(
                refreshes[i], refreshes[j],
                "logins {i} and {j} share a token"
            );
        }
    }
}

async fn expires_in_follows_access_token_ttl(mut app: TestApp) {
    app.restart_with("ACCESS_TOKEN_TTL", "600").await;

    let reply = app
        .signup(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .await;

    let body = reply.assert_success(201, "User signed up successful.");
    assert_eq!(body["expires_in"], 600, "body: {body}");
    let token = body["jwt_token"].as_str().expect("jwt_token");
    let claims = decode_claims(token, &app.secret);
    assert_eq!(claims["exp"], app.now() + 600, "claims: {claims}");
    let refresh_token = body["refresh_token"].as_str().expect("refresh_token");
    let renewed = refresh(&app, refresh_token)
        .await
        .assert_success(200, "Token refreshed");
    assert_eq!(renewed["expires_in"], 600, "body: {renewed}");
}
