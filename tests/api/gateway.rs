//! Seeds 000/004/003: `POST /login` (Basic or JSON) and `POST /validate`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::*;

backend_tests!(
    no_answer_carrying_a_token_may_be_cached,
    basic_login_returns_the_token_as_plain_text,
    token_carries_every_claim_and_verifies_with_the_secret,
    each_login_gets_a_distinct_jti,
    login_without_credentials_is_missing_credentials,
    basic_login_failures_are_identical_and_challenge_basic,
    json_login_accepts_email_or_username,
    json_login_failures_are_json_invalid_credentials,
    validate_returns_the_claims_for_bearer_and_bare_tokens,
    validate_refuses_missing_or_malformed_tokens,
    validate_refuses_a_token_signed_with_another_secret,
    validate_allows_30_seconds_of_leeway_after_expiry,
    validate_allows_30_seconds_of_leeway_on_iat,
    validate_refuses_a_wrong_issuer_or_algorithm,
    access_token_ttl_sets_the_token_lifetime,
);

/// Claims for a token of `user` (claims of a real token) issued at `iat`, as another signer would.
fn claims_like(user: &Value, iat: i64, jti: &str) -> Value {
    json!({
        "sub": user["sub"], "username": user["username"], "email": user["email"],
        "admin": user["admin"], "iat": iat, "exp": iat + 3600, "jti": jti, "iss": "gatehouse",
    })
}

async fn basic_login_returns_the_token_as_plain_text(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let reply = app.basic_login("ada@example.com", PASSWORD).await;

    reply.assert_status(200);
    assert!(
        reply.content_type().starts_with("text/plain"),
        "{}",
        reply.content_type()
    );
    assert_eq!(
        reply.text.split('.').count(),
        3,
        "not a JWT: {:?}",
        reply.text
    );
    let claims = decode_claims(&reply.text, &app.secret);
    assert_eq!(claims["email"], "ada@example.com");
}

async fn token_carries_every_claim_and_verifies_with_the_secret(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let now = app.now();

    let token = app.basic_login("ada@example.com", PASSWORD).await.text;

    assert_eq!(token_header(&token)["alg"], "HS256");
    let claims = decode_claims(&token, &app.secret);
    let profile = app.profile(&token).await.json();
    assert_eq!(
        claims["sub"],
        profile["user_id"].to_string(),
        "sub is the user id as a string"
    );
    assert_eq!(claims["username"], "ada@example.com");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["admin"], false);
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["exp"], now + 3600);
    assert_eq!(claims["iss"], "gatehouse");
    assert!(
        claims["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "jti: {}",
        claims["jti"]
    );
}

async fn each_login_gets_a_distinct_jti(app: TestApp) {
    let from_signup = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let first = app.basic_login("ada@example.com", PASSWORD).await.text;
    let second = app.basic_login("ada@example.com", PASSWORD).await.text;

    let jtis: Vec<Value> = [&from_signup, &first, &second]
        .iter()
        .map(|t| decode_claims(t, &app.secret)["jti"].clone())
        .collect();
    assert_ne!(jtis[0], jtis[1]);
    assert_ne!(jtis[1], jtis[2]);
    assert_ne!(jtis[0], jtis[2]);
}

async fn login_without_credentials_is_missing_credentials(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let none = app.send(app.client.post(app.url("/login"))).await;
    let digest = app
        .send(
            app.client
                .post(app.url("/login"))
                .header("Authorization", "Digest x"),
        )
        .await;
    let bare = app
        .send(
            app.client
                .post(app.url("/login"))
                .header("Authorization", "Basic"),
        )
        .await;

    none.assert_text(401, "Missing credentials");
    digest.assert_text(401, "Missing credentials");
    bare.assert_text(401, "Missing credentials");
}

async fn basic_login_failures_are_identical_and_challenge_basic(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let wrong_password = app.basic_login("ada@example.com", "not the password").await;
    let unknown_email = app.basic_login("nobody@example.com", PASSWORD).await;

    for reply in [&wrong_password, &unknown_email] {
        reply.assert_text(401, "Invalid credentials");
        assert_eq!(
            reply.header("www-authenticate"),
            r#"Basic realm="gatehouse""#
        );
    }
    assert_eq!(wrong_password.content_type(), unknown_email.content_type());
}

async fn json_login_accepts_email_or_username(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let added = app
        .cli(
            &["user", "add", "grace@example.com", "--username", "grace"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(
        added.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&added.stderr)
    );

    let by_email = app
        .json_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    let by_username_as_email = app
        .json_login(json!({"username": "ada@example.com", "password": PASSWORD}))
        .await;
    let by_username = app
        .json_login(json!({"username": "grace", "password": PASSWORD}))
        .await;

    for (reply, email) in [
        (&by_email, "ada@example.com"),
        (&by_username_as_email, "ada@example.com"),
        (&by_username, "grace@example.com"),
    ] {
        reply.assert_status(200);
        reply.assert_json_content_type();
        let token = reply.json()["token"].as_str().expect("token").to_owned();
        let claims = decode_claims(&token, &app.secret);
        assert_eq!(claims["email"], email);
        assert_eq!(claims["username"], email, "the username claim is the email");
    }
}

async fn json_login_failures_are_json_invalid_credentials(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let wrong_password = app
        .json_login(json!({"email": "ada@example.com", "password": "nope-nope"}))
        .await;
    let unknown_user = app
        .json_login(json!({"username": "nobody", "password": PASSWORD}))
        .await;
    let unknown_email = app
        .json_login(json!({"email": "nobody@example.com", "password": PASSWORD}))
        .await;

    wrong_password.assert_failed(401, "Invalid credentials");
    unknown_user.assert_failed(401, "Invalid credentials");
    unknown_email.assert_failed(401, "Invalid credentials");
    assert_eq!(wrong_password.text, unknown_email.text);
}

async fn validate_returns_the_claims_for_bearer_and_bare_tokens(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let bearer = app.validate(Some(&format!("Bearer {token}"))).await;
    let bare = app.validate(Some(&token)).await;

    for reply in [&bearer, &bare] {
        reply.assert_status(200);
        reply.assert_json_content_type();
        assert_eq!(reply.json(), decode_claims(&token, &app.secret));
    }
}

async fn validate_refuses_missing_or_malformed_tokens(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let truncated = format!("Bearer {}", &token[..token.len() - 3]);

    let mut replies = vec![app.validate(None).await];
    for value in [
        "",
        "Bearer",
        "Bearer ",
        "Bearer not.a.jwt",
        "garbage",
        "Basic YWRhOnB3",
        &truncated,
    ] {
        replies.push(app.validate(Some(value)).await);
    }

    for reply in replies {
        reply.assert_invalid_token();
    }
}

async fn validate_refuses_a_token_signed_with_another_secret(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let claims = decode_claims(&token, &app.secret);
    let forged = forge_token(&claims, &random_hex(32));

    let reply = app.validate_token(&forged).await;

    reply.assert_invalid_token();
    app.validate_token(&token).await.assert_status(200);
}

async fn validate_allows_30_seconds_of_leeway_after_expiry(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    app.clock.advance(3600 + 30);
    let at_leeway_end = app.validate_token(&token).await;
    app.clock.advance(1);
    let past_leeway = app.validate_token(&token).await;

    at_leeway_end.assert_status(200);
    past_leeway.assert_invalid_token();
}

async fn validate_allows_30_seconds_of_leeway_on_iat(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let user = decode_claims(&token, &app.secret);
    let now = app.now();
    let within = forge_token(&claims_like(&user, now + 30, "forged-within"), &app.secret);
    let beyond = forge_token(&claims_like(&user, now + 31, "forged-beyond"), &app.secret);

    let within_reply = app.validate_token(&within).await;
    let beyond_reply = app.validate_token(&beyond).await;

    within_reply.assert_status(200);
    beyond_reply.assert_invalid_token();
}

async fn validate_refuses_a_wrong_issuer_or_algorithm(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let user = decode_claims(&token, &app.secret);
    let now = app.now();
    let mut other_issuer = claims_like(&user, now, "forged-iss");
    other_issuer["iss"] = json!("elsewhere");
    let claims = claims_like(&user, now, "forged-alg");
    let key = EncodingKey::from_secret(app.secret.as_bytes());
    let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &key).expect("sign");
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );

    for forged in [forge_token(&other_issuer, &app.secret), hs512, none] {
        app.validate_token(&forged).await.assert_invalid_token();
    }
    app.validate_token(&forge_token(&claims, &app.secret))
        .await
        .assert_status(200);
}

async fn access_token_ttl_sets_the_token_lifetime(mut app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    app.restart_with("ACCESS_TOKEN_TTL", "120").await;

    let token = app.basic_login("ada@example.com", PASSWORD).await.text;

    let claims = decode_claims(&token, &app.secret);
    assert_eq!(claims["exp"], app.now() + 120);
    app.clock.advance(120 + 30);
    app.validate_token(&token).await.assert_status(200);
    app.clock.advance(1);
    app.validate_token(&token).await.assert_invalid_token();
}

/// Tokens and claims must not be kept by a cache on the way (RFC 6749 §5.1).
async fn no_answer_carrying_a_token_may_be_cached(app: TestApp) {
    let signup = app
        .signup(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}))
        .await;
    let refresh_token = signup.json()["refresh_token"].as_str().unwrap().to_owned();
    let basic = app.basic_login("ada@example.com", PASSWORD).await;
    let json_login = app
        .json_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    let auth_login = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    let refreshed = app
        .post_json(
            "/auth/token/refresh",
            &json!({"refresh_token": refresh_token}),
        )
        .await;
    let validated = app.validate_token(&basic.text).await;
    let failed = app.basic_login("ada@example.com", "wrong password").await;

    for (what, reply) in [
        ("signup", &signup),
        ("Basic /login", &basic),
        ("JSON /login", &json_login),
        ("/auth/login", &auth_login),
        ("refresh", &refreshed),
        ("/validate", &validated),
        ("a failed login", &failed),
    ] {
        assert!(reply.status.as_u16() < 500, "{what}: {}", reply.text);
        assert_eq!(reply.header("cache-control"), "no-store", "{what}");
    }
}
