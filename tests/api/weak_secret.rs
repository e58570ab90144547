//! A weak `JWT_SECRET` kept for an old deployment (`ALLOW_WEAK_SECRET`) no longer signs: a
//! generated Ed25519 key does, at once or from `WEAK_SECRET_SIGNS_UNTIL`, and the weak secret
//! verifies only tokens issued before the switch, until they expire. A token forged with the
//! cracked secret after the switch is refused.

use serde_json::{json, Value};

use crate::helpers::*;
use crate::keys::{fetch_jwks, login_token, verify_with_jwks};

backend_tests!(
    a_weak_secret_signs_until_its_date_then_a_strong_key_does,
    without_a_date_the_weak_secret_stops_signing_at_once,
);

/// What a seed-001 deployment might have: 16 bytes.
const WEAK: &str = "changeme-secret!";
const TTL: i64 = 3600;
const LEEWAY: i64 = 30;

/// A deployment whose weak secret still signs until `until` (Unix seconds), with Ada signed
/// up, and her token.
async fn weak_deployment(app: &mut TestApp, until: i64) -> String {
    app.set_env("JWT_SECRET", WEAK);
    app.set_env("ALLOW_WEAK_SECRET", "true");
    app.restart_with("WEAK_SECRET_SIGNS_UNTIL", &until.to_string())
        .await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    login_token(app).await
}

fn alg(token: &str) -> String {
    token_header(token)["alg"].as_str().unwrap().to_owned()
}

/// A token of Ada's forged with the weak secret and its key's `kid`, issued at `iat`.
fn forged(real: &str, iat: i64) -> String {
    let mut claims = decode_claims(real, WEAK);
    claims["iat"] = json!(iat);
    claims["exp"] = json!(iat + TTL);
    claims["jti"] = json!(format!("forged-{iat}"));
    claims["admin"] = json!(true);
    let kid = token_header(real)["kid"].clone();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = kid.as_str().map(str::to_owned);
    let key = jsonwebtoken::EncodingKey::from_secret(WEAK.as_bytes());
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.validate_token(token).await.status.as_u16()
}

async fn a_weak_secret_signs_until_its_date_then_a_strong_key_does(mut app: TestApp) {
    let switch = app.now() + 1_000;
    let weak_token = weak_deployment(&mut app, switch).await;
    assert_eq!(alg(&weak_token), "HS256", "the weak secret still signs");
    decode_claims(&weak_token, WEAK);
    // The strong key is published from the start, so verifiers have it before it signs.
    let (jwks, _) = fetch_jwks(&app).await;
    assert_eq!(jwks.keys.len(), 1, "only the strong key, never the secret");

    // Moving the date later moves the switch.
    app.restart_with("WEAK_SECRET_SIGNS_UNTIL", &(switch + 500).to_string())
        .await;
    app.clock.advance(1_000);
    assert_eq!(alg(&login_token(&app).await), "HS256");
    app.clock.advance(500);
    let strong_token = login_token(&app).await;

    assert_eq!(alg(&strong_token), "EdDSA");
    verify_with_jwks(&strong_token, &jwks).unwrap();
    assert_eq!(
        status(&app, &weak_token).await,
        200,
        "issued before: verifies"
    );
    let switched = switch + 500;
    app.clock.advance(LEEWAY + 1);
    let after = forged(&weak_token, app.now());
    let before = forged(&weak_token, switched - 1);
    assert_eq!(
        status(&app, &after).await,
        401,
        "issued after the switch: forged"
    );
    assert_eq!(
        status(&app, &before).await,
        200,
        "within the last token's life"
    );
    app.clock.advance(TTL);
    assert_eq!(
        status(&app, &before).await,
        401,
        "the weak secret verifies nothing more"
    );
    assert_eq!(
        status(&app, &strong_token).await,
        401,
        "expired too, by then"
    );
    assert_eq!(status(&app, &login_token(&app).await).await, 200);
}

async fn without_a_date_the_weak_secret_stops_signing_at_once(mut app: TestApp) {
    let until = app.now() + 100_000;
    let weak_token = weak_deployment(&mut app, until).await;
    app.clock.advance(60);

    app.unset_env("WEAK_SECRET_SIGNS_UNTIL");
    app.restart().await;
    let strong_token = login_token(&app).await;

    assert_eq!(alg(&strong_token), "EdDSA");
    let claims: Value = app.validate_token(&strong_token).await.json();
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(
        status(&app, &weak_token).await,
        200,
        "issued before: verifies"
    );
    app.clock.advance(LEEWAY + 1);
    assert_eq!(status(&app, &forged(&weak_token, app.now())).await, 401);
    app.clock.advance(TTL);
    assert_eq!(
        status(&app, &forged(&weak_token, app.now() - TTL)).await,
        401
    );
}
