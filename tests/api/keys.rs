//! Signing keys through a real server: every token names its key, the JWKS verifies it with an
//! independent JWT library, each algorithm works, switching from HS256 keeps earlier tokens
//! valid until they expire, and rotation publishes before it signs (on the injected clock).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use crate::helpers::*;

backend_tests!(
    hs256_tokens_name_their_key_and_the_jwks_is_empty,
    each_algorithm_signs_tokens_the_jwks_verifies,
    tokens_signed_before_a_switch_to_eddsa_verify_until_their_key_retires,
    a_rotation_is_published_before_it_signs_and_retiring_refuses_old_tokens,
    discovery_documents_list_only_what_is_served,
    key_rotation_days_rotates_on_its_own,
);

const TTL: i64 = 3600;
/// Tokens verify this long after their `exp` (and their key after its last token's).
const LEEWAY: i64 = 30;

/// The JWKS the server publishes, with its `Cache-Control`.
pub async fn fetch_jwks(app: &TestApp) -> (JwkSet, String) {
    let reply = app.get("/.well-known/jwks.json").await;
    reply.assert_status(200);
    let cache = reply.header("cache-control");
    (serde_json::from_str(&reply.text).expect("a JWKS"), cache)
}

/// Verifies `token` the way another service would: the key its `kid` names in the JWKS, the
/// algorithm that key states, and the issuer. Returns the claims.
pub fn verify_with_jwks(token: &str, jwks: &JwkSet) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks
        .find(&kid)
        .ok_or(format!("kid {kid} not in the JWKS"))?;
    let algorithm: Algorithm = jwk
        .common
        .key_algorithm
        .ok_or("no alg in the JWK")?
        .to_string()
        .parse()
        .map_err(|_| "an unknown alg")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&["gatehouse"]);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

pub async fn login_token(app: &TestApp) -> String {
    let reply = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    reply.assert_status(200);
    reply.json()["jwt_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

fn kid(token: &str) -> String {
    token_header(token)["kid"]
        .as_str()
        .expect("a kid in the header")
        .to_owned()
}

async fn hs256_tokens_name_their_key_and_the_jwks_is_empty(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let header = token_header(&token);
    let (jwks, _) = fetch_jwks(&app).await;

    assert_eq!(header["alg"], "HS256");
    assert!(kid(&token).starts_with("hs256-"), "{header}");
    assert!(!kid(&token).contains(&app.secret));
    // Seed-compatible: a service holding the secret verifies it as before.
    assert_eq!(
        decode_claims(&token, &app.secret)["email"],
        "ada@example.com"
    );
    assert!(jwks.keys.is_empty(), "the secret is never published");
    app.validate_token(&token).await.assert_status(200);
}

async fn each_algorithm_signs_tokens_the_jwks_verifies(mut app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    for algorithm in ["EdDSA", "ES256", "RS256"] {
        app.restart_with("JWT_ALGORITHM", algorithm).await;

        let token = login_token(&app).await;
        let (jwks, cache) = fetch_jwks(&app).await;

        assert_eq!(token_header(&token)["alg"], algorithm);
        assert_eq!(cache, "public, max-age=600");
        let claims = verify_with_jwks(&token, &jwks)
            .unwrap_or_else(|e| panic!("{algorithm}: the JWKS does not verify the token: {e}"));
        assert_eq!(claims["email"], "ada@example.com");
        let published = serde_json::to_string(&jwks).unwrap();
        for private in ["\"d\"", "\"p\"", "\"k\"", "plain:", &app.secret] {
            assert!(!published.contains(private), "{private} in {published}");
        }
        app.validate_token(&token).await.assert_status(200);
    }
}

async fn tokens_signed_before_a_switch_to_eddsa_verify_until_their_key_retires(mut app: TestApp) {
    // Arrange: an HS256 token with a kid, and one from before kids (the secret, no kid) that
    // would otherwise live ten days.
    let with_kid = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let user_id = decode_claims(&with_kid, &app.secret)["sub"].clone();
    let now = app.now();
    let claims = json!({"sub": user_id, "username": "ada@example.com", "email": "ada@example.com",
        "admin": false, "iat": now, "exp": now + 10 * 86_400, "jti": "old-token", "iss": "gatehouse"});
    let kidless = forge_token(&claims, &app.secret);
    app.validate_token(&kidless).await.assert_status(200);

    // Act: switch the running deployment to EdDSA.
    app.restart_with("JWT_ALGORITHM", "EdDSA").await;

    // Assert: new tokens are EdDSA; both earlier ones still verify, until every token the
    // HS256 key could have signed has expired.
    let fresh = login_token(&app).await;
    assert_eq!(token_header(&fresh)["alg"], "EdDSA");
    app.validate_token(&with_kid).await.assert_status(200);
    app.validate_token(&kidless).await.assert_status(200);
    app.clock.advance(TTL + LEEWAY);
    app.validate_token(&kidless).await.assert_status(200);
    app.clock.advance(1);
    app.validate_token(&kidless).await.assert_status(401);
}

async fn a_rotation_is_published_before_it_signs_and_retiring_refuses_old_tokens(mut app: TestApp) {
    app.restart_with("JWT_ALGORITHM", "EdDSA").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let old = login_token(&app).await;
    let old_kid = kid(&old);
    let store = gatehouse::store::Store::connect(&app.database_url)
        .await
        .unwrap();
    let settings = gatehouse::auth::keys::KeySettings {
        algorithm: gatehouse::auth::keys::SigningAlgorithm::EdDsa,
        ..Default::default()
    };

    // Act: rotate at the server's time.
    let next = gatehouse::auth::keys::rotate(&store, &settings, app.now(), false)
        .await
        .unwrap();

    // Assert: the next key is in the JWKS (once the server heard) but does not sign yet.
    wait_until_published(&app, &next.kid).await;
    assert_eq!(kid(&login_token(&app).await), old_kid);
    // JWKS_MAX_AGE_SECS and the leeway later it signs, and the old key's tokens still verify.
    app.clock.advance(600 + LEEWAY - 1);
    assert_eq!(kid(&login_token(&app).await), old_kid);
    app.clock.advance(1);
    let new = login_token(&app).await;
    assert_eq!(kid(&new), next.kid);
    let (jwks, _) = fetch_jwks(&app).await;
    verify_with_jwks(&new, &jwks).unwrap();
    verify_with_jwks(&old, &jwks).unwrap();
    app.validate_token(&old).await.assert_status(200);

    // Act: retire the old key by hand (a leak): its tokens are refused from then on.
    gatehouse::auth::keys::retire(&store, &old_kid, app.now(), TTL)
        .await
        .unwrap();
    app.wait_for_validate_status(&old, reqwest::StatusCode::UNAUTHORIZED)
        .await;
    app.validate_token(&new).await.assert_status(200);
    let (jwks, _) = fetch_jwks(&app).await;
    assert!(
        jwks.find(&old_kid).is_none(),
        "a retired key leaves the JWKS"
    );
}

/// Polls the JWKS until it lists `kid`, for at most `SYNC_DEADLINE`.
async fn wait_until_published(app: &TestApp, kid: &str) {
    let started = std::time::Instant::now();
    while fetch_jwks(app).await.0.find(kid).is_none() {
        assert!(
            started.elapsed() < SYNC_DEADLINE,
            "{kid} not in the JWKS after {SYNC_DEADLINE:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn discovery_documents_list_only_what_is_served(mut app: TestApp) {
    app.restart_with("JWT_ALGORITHM", "ES256").await;
    let address = app.address.clone();

    let from_host = app.get("/.well-known/openid-configuration").await;
    app.restart_with("PUBLIC_URL", "https://auth.example.com/")
        .await;
    let configured = app.get("/.well-known/oauth-authorization-server").await;

    from_host.assert_status(200);
    let document = from_host.json();
    assert_eq!(document["issuer"], "gatehouse");
    assert_eq!(
        document["jwks_uri"],
        format!("{address}/.well-known/jwks.json")
    );
    assert_eq!(from_host.header("cache-control"), "no-store");
    configured.assert_status(200);
    let document = configured.json();
    assert_eq!(
        document["jwks_uri"],
        "https://auth.example.com/.well-known/jwks.json"
    );
    assert_eq!(
        document["introspection_endpoint"],
        "https://auth.example.com/oauth/introspect"
    );
    assert_eq!(
        document["revocation_endpoint"],
        "https://auth.example.com/oauth/revoke"
    );
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["ES256", "HS256"])
    );
    assert!(document.get("token_endpoint").is_none());
    assert!(document.get("authorization_endpoint").is_none());
}

async fn key_rotation_days_rotates_on_its_own(mut app: TestApp) {
    app.set_env("JWT_KEY_ROTATION_DAYS", "1");
    app.restart_with("JWT_ALGORITHM", "ES256").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let first = kid(&login_token(&app).await);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(fetch_jwks(&app).await.0.keys.len(), 1, "not due yet");

    // Act: a day passes on the server's clock.
    app.clock.advance(86_400);

    // Assert: a next key appears by itself (one, though every poll checks), signs 630 s on.
    let started = std::time::Instant::now();
    let next = loop {
        let (jwks, _) = fetch_jwks(&app).await;
        if let Some(key) = jwks
            .keys
            .iter()
            .find(|key| key.common.key_id.as_deref() != Some(&first))
        {
            break key.common.key_id.clone().unwrap();
        }
        assert!(started.elapsed() < SYNC_DEADLINE, "no rotation");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(fetch_jwks(&app).await.0.keys.len(), 2);
    assert_eq!(kid(&login_token(&app).await), first);
    app.clock.advance(600 + LEEWAY);
    assert_eq!(kid(&login_token(&app).await), next);
}
