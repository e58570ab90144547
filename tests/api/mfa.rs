//! The second factor (TOTP, recovery codes) through the HTTP API, on every backend. Codes are
//! computed by `totp-lite`, an implementation independent of the server's (`totp-rs`), and the
//! QR code is decoded by `rqrr`.

mod at_rest;
mod enrolment;
mod login;
mod replay;
mod step_up;

use serde_json::{json, Value};

use crate::helpers::*;

/// What `POST /auth/mfa/totp` gave.
pub struct Enrolled {
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

/// Decodes RFC 4648 base32 (no padding), as authenticator apps read the secret.
pub fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let index = ALPHABET
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("not base32: {c}"));
        value = (value << 5) | index as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// The code for `secret` (base32) at Unix time `at`: RFC 6238, SHA-1, 6 digits, 30 s.
pub fn code_at(secret: &str, at: i64) -> String {
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &base32_decode(secret), at as u64)
}

/// The code at the server's (injected) clock.
pub fn code_now(app: &TestApp, secret: &str) -> String {
    code_at(secret, app.now())
}

/// Moves the server's clock to the start of the next time step, so that the next code is
/// fresh and the step does not turn while a test uses it.
pub fn next_step(app: &TestApp) {
    let now = app.now();
    app.clock.advance(30 - now.rem_euclid(30));
}

pub async fn bearer_post(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> Reply {
    let mut request = app.client.post(app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    app.send(request).await
}

pub async fn mfa_status(app: &TestApp, token: &str) -> Value {
    let reply = app
        .send(app.client.get(app.url("/auth/mfa")).bearer_auth(token))
        .await;
    reply.assert_status(200);
    reply.json()
}

pub async fn enrol(app: &TestApp, token: &str) -> Enrolled {
    let reply = bearer_post(app, token, "/auth/mfa/totp", None).await;
    reply.assert_status(200);
    let body = reply.json();
    let text = |name: &str| body[name].as_str().expect(name).to_owned();
    Enrolled {
        secret: text("secret"),
        otpauth_uri: text("otpauth_uri"),
        qr_svg: text("qr_svg"),
    }
}

pub async fn confirm(app: &TestApp, token: &str, code: &str) -> Reply {
    bearer_post(
        app,
        token,
        "/auth/mfa/totp/confirm",
        Some(json!({"code": code})),
    )
    .await
}

/// Signs `email` up and activates TOTP: its secret, its recovery codes, and a token. The
/// clock is moved a step on, so the confirming code's step is past.
pub async fn user_with_totp(app: &TestApp, email: &str) -> (String, Vec<String>, String) {
    let token = app.signup_user(email, PASSWORD, "Ada").await;
    let enrolled = enrol(app, &token).await;
    next_step(app);
    let reply = confirm(app, &token, &code_now(app, &enrolled.secret)).await;
    reply.assert_status(200);
    let codes = reply.json()["recovery_codes"]
        .as_array()
        .expect("recovery_codes")
        .iter()
        .map(|c| c.as_str().expect("a code").to_owned())
        .collect();
    next_step(app);
    (enrolled.secret, codes, token)
}

/// `POST /auth/login/mfa`.
pub async fn login_mfa(app: &TestApp, body: Value) -> Reply {
    app.post_json("/auth/login/mfa", &body).await
}

/// The mfa_token of a password step that must ask for the second factor.
pub fn mfa_token_of(reply: &Reply) -> String {
    let body = reply.assert_failed(401, "MFA code required");
    assert_eq!(body["mfa_required"], true, "{}", reply.text);
    body["mfa_token"].as_str().expect("mfa_token").to_owned()
}
