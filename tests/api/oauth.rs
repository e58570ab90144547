//! `POST /oauth/introspect` (RFC 7662) and `POST /oauth/revoke` (RFC 7009), for clients added
//! with `gatehouse client add`: which tokens are active, what revoking does, how clients are
//! authenticated. `clients`: the CLI and the secret's secrecy; `replicas`: across processes.

use serde_json::{json, Value};

use crate::helpers::*;

mod clients;
mod refresh;
mod replicas;

backend_tests!(
    a_live_access_token_is_active_with_the_claims_validate_returns,
    a_live_refresh_token_is_active_with_its_session,
    expired_tokens_are_inactive,
    logged_out_tokens_are_inactive,
    revoking_an_access_token_refuses_it_alone,
    revoking_a_refresh_token_ends_its_session,
    unknown_and_malformed_tokens_are_inactive_and_revoke_answers_200,
    bad_client_credentials_are_refused_with_a_basic_challenge,
    malformed_requests_are_invalid_request,
);

/// One hour and the clock-skew leeway, and a second: every access token is expired by then.
const PAST_ACCESS_TTL: i64 = 3600 + 60 + 1;
const DAY: i64 = 86_400;

/// A signed-up user's first access and refresh tokens.
struct Tokens {
    access: String,
    refresh: String,
}

async fn signup(app: &TestApp, email: &str) -> Tokens {
    let reply = app
        .signup(json!({"email": email, "password": PASSWORD, "name": "Ada"}))
        .await;
    reply.assert_status(201);
    let body = reply.json();
    Tokens {
        access: body["jwt_token"].as_str().expect("jwt_token").to_owned(),
        refresh: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
    }
}

/// Introspects `token` as `client`; asserts a 200 JSON answer and returns it.
async fn introspected(app: &TestApp, client: &ClientCredentials, token: &str) -> Value {
    let reply = app.introspect(client, token).await;
    reply.assert_status(200);
    reply.assert_json_content_type();
    reply.json()
}

async fn assert_inactive(app: &TestApp, client: &ClientCredentials, token: &str) {
    let body = introspected(app, client, token).await;
    assert_eq!(body, json!({"active": false}), "token {token:?}");
}

fn assert_revoked_ok(reply: &Reply) {
    reply.assert_status(200);
    assert_eq!(reply.text, "", "RFC 7009: an empty body");
}

async fn a_live_access_token_is_active_with_the_claims_validate_returns(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;

    let body = introspected(&app, &client, &tokens.access).await;

    let mut expected = app.validate_token(&tokens.access).await.json();
    expected["active"] = json!(true);
    expected["token_type"] = json!("access_token");
    assert_eq!(body, expected);
    for claim in [
        "sub", "username", "email", "admin", "iat", "exp", "jti", "iss", "sid",
    ] {
        assert!(!body[claim].is_null(), "no {claim} in {body}");
    }
}

async fn a_live_refresh_token_is_active_with_its_session(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let claims = decode_claims(&tokens.access, &app.secret);

    let body = introspected(&app, &client, &tokens.refresh).await;

    assert_eq!(body["active"], true, "{body}");
    assert_eq!(body["token_type"], "refresh_token");
    assert_eq!(body["sub"], claims["sub"]);
    assert_eq!(body["sid"], claims["sid"]);
    assert_eq!(body["iat"], claims["iat"]);
    assert_eq!(
        body["iss"], claims["iss"],
        "the issuer, as for access tokens"
    );
    assert!(
        body["exp"].as_i64().unwrap() > app.now() + 29 * DAY,
        "{body}"
    );
    assert!(
        body.get("jti").is_none(),
        "a refresh token has no jti: {body}"
    );
}

async fn expired_tokens_are_inactive(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;

    // Past the access token's lifetime: it is expired, its refresh token lives on.
    app.clock.advance(PAST_ACCESS_TTL);
    assert_inactive(&app, &client, &tokens.access).await;
    assert_eq!(
        introspected(&app, &client, &tokens.refresh).await["active"],
        true
    );

    // Past the refresh token's 30 days: it is expired too.
    app.clock.advance(30 * DAY);
    assert_inactive(&app, &client, &tokens.refresh).await;
}

async fn logged_out_tokens_are_inactive(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;

    app.logout(&tokens.access).await.assert_status(200);

    assert_inactive(&app, &client, &tokens.access).await;
    assert_inactive(&app, &client, &tokens.refresh).await;
}

async fn revoking_an_access_token_refuses_it_alone(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;

    let reply = app.revoke(&client, &tokens.access).await;

    assert_revoked_ok(&reply);
    assert_inactive(&app, &client, &tokens.access).await;
    app.validate_token(&tokens.access)
        .await
        .assert_invalid_token();
    // Only that token: its session goes on, and a new access token from it is accepted.
    assert_eq!(
        introspected(&app, &client, &tokens.refresh).await["active"],
        true
    );
    let renewed = app
        .post_json(
            "/auth/token/refresh",
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    renewed.assert_status(200);
    let access = renewed.json()["jwt_token"].as_str().unwrap().to_owned();
    app.validate_token(&access).await.assert_status(200);
    // Revoking it again is harmless.
    assert_revoked_ok(&app.revoke(&client, &tokens.access).await);
}

async fn revoking_a_refresh_token_ends_its_session(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let other_device = second_session(&app).await;

    let reply = app.revoke(&client, &tokens.refresh).await;

    assert_revoked_ok(&reply);
    assert_inactive(&app, &client, &tokens.refresh).await;
    assert_inactive(&app, &client, &tokens.access).await;
    app.validate_token(&tokens.access)
        .await
        .assert_invalid_token();
    let refreshed = app
        .post_json(
            "/auth/token/refresh",
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    refreshed.assert_status(401);
    // Another session of the same user is untouched.
    app.validate_token(&other_device).await.assert_status(200);
}

/// A second session of ada@example.com; its access token.
async fn second_session(app: &TestApp) -> String {
    let reply = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    reply.assert_status(200);
    reply.json()["jwt_token"].as_str().unwrap().to_owned()
}

async fn unknown_and_malformed_tokens_are_inactive_and_revoke_answers_200(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let mut claims = decode_claims(&tokens.access, &app.secret);
    claims["admin"] = json!(true);
    let other_secret = forge_token(&claims, &random_hex(32));
    let sid = claims["sid"].as_str().unwrap();
    let unknown = [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        format!("{}x", tokens.access),
        other_secret,
        // A refresh token of the right shape whose tag is not the server's.
        format!("v2.{sid}.0.{}", "A".repeat(43)),
        // The shape of a refresh token from before the generation scheme, never issued.
        random_hex(16) + &"B".repeat(11),
        "x".repeat(20_000),
    ];

    for token in &unknown {
        assert_inactive(&app, &client, token).await;
        assert_revoked_ok(&app.revoke(&client, token).await);
    }

    // Revoking them ended nothing.
    app.validate_token(&tokens.access).await.assert_status(200);
    assert_eq!(
        introspected(&app, &client, &tokens.refresh).await["active"],
        true
    );
}

async fn bad_client_credentials_are_refused_with_a_basic_challenge(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let wrong_secret = ClientCredentials {
        id: client.id.clone(),
        secret: format!("{}x", client.secret),
    };
    let unknown_id = ClientCredentials {
        id: "no-such-client-id-at-all".into(),
        secret: client.secret.clone(),
    };
    let form = [("token", tokens.access.as_str())];

    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let anonymous = app.client.post(app.url(path)).form(&form);
        let bearer = app
            .client
            .post(app.url(path))
            .bearer_auth(&tokens.access)
            .form(&form);
        let mut replies = vec![app.send(anonymous).await, app.send(bearer).await];
        for credentials in [&wrong_secret, &unknown_id] {
            let request = app
                .client
                .post(app.url(path))
                .basic_auth(&credentials.id, Some(&credentials.secret))
                .form(&form);
            replies.push(app.send(request).await);
        }
        for reply in replies {
            reply.assert_status(401);
            assert_eq!(
                reply.header("www-authenticate"),
                r#"Basic realm="gatehouse""#
            );
            assert_eq!(reply.json(), json!({"error": "invalid_client"}), "{path}");
        }
    }
    // None of those revoked anything.
    app.validate_token(&tokens.access).await.assert_status(200);
}

async fn malformed_requests_are_invalid_request(app: TestApp) {
    let client = app.add_client("billing").await;
    let tokens = signup(&app, "ada@example.com").await;
    let basic = |path: &str| {
        app.client
            .post(app.url(path))
            .basic_auth(&client.id, Some(&client.secret))
    };
    let token = tokens.access.as_str();

    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let requests = [
            basic(path).form(&[("token_type_hint", "access_token")]),
            basic(path).form(&[("token", "")]),
            basic(path).form(&[("token", token), ("token", token)]),
            basic(path).json(&json!({"token": token})),
            basic(path),
        ];
        for request in requests {
            let reply = app.send(request).await;
            reply.assert_status(400);
            assert_eq!(
                reply.json()["error"],
                "invalid_request",
                "{path}: {}",
                reply.text
            );
        }
    }
    // A hint is accepted, whichever it says; parameters of no meaning here are ignored.
    let hinted = basic("/oauth/introspect").form(&[
        ("token", token),
        ("token_type_hint", "refresh_token"),
        ("scope", "a"),
        ("scope", "b"),
    ]);
    assert_eq!(app.send(hinted).await.json()["active"], true);
    app.validate_token(token).await.assert_status(200);
}
