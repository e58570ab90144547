//! What verification refuses, on an EdDSA deployment: `alg: none`, HS256 signed with the
//! public key as the secret (algorithm confusion), an unknown `kid`, a key named by `jku` or
//! `x5u`, a wrong `iss`, a tampered payload. Each forged token has a control: the same token
//! made the honest way (signed with the server's own key, read from its database) is accepted,
//! so the refusal is for the reason the test names.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::keys::login_token;

backend_tests!(
    alg_none_and_algorithm_confusion_are_refused,
    unknown_kids_and_keys_named_elsewhere_are_refused,
    a_wrong_issuer_or_a_tampered_payload_is_refused,
);

/// An EdDSA deployment with Ada signed up; her token, its claims, and the server's own
/// signing key (as an attacker who stole it would have it).
async fn eddsa_app(mut app: TestApp) -> (TestApp, String, Value, EncodingKey) {
    app.restart_with("JWT_ALGORITHM", "EdDSA").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let token = login_token(&app).await;
    let kid = token_header(&token)["kid"].as_str().unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let store = gatehouse::store::Store::connect(&app.database_url)
        .await
        .unwrap();
    let row = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|row| row.kid == kid)
        .unwrap();
    let stored = row.private_key.unwrap();
    let pkcs8 = STANDARD
        .decode(stored.strip_prefix("plain:").unwrap())
        .unwrap();
    (app, token, claims, EncodingKey::from_ed_der(&pkcs8))
}

fn header(alg: Algorithm, kid: &str) -> Header {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    header
}

fn sign(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(header, claims, key).unwrap()
}

async fn alg_none_and_algorithm_confusion_are_refused(app: TestApp) {
    let (app, token, claims, own_key) = eddsa_app(app).await;
    let kid = token_header(&token)["kid"].as_str().unwrap().to_owned();
    let (jwks, _) = crate::keys::fetch_jwks(&app).await;
    let jwk = jwks.find(&kid).unwrap();
    let public_json = serde_json::to_string(jwk).unwrap();
    let public_x = match &jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => {
            URL_SAFE_NO_PAD.decode(&p.x).unwrap()
        }
        other => panic!("an OKP key, not {other:?}"),
    };
    let control = sign(&header(Algorithm::EdDSA, &kid), &claims, &own_key);
    app.validate_token(&control).await.assert_status(200);

    let none_header =
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": kid}).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let none = format!("{none_header}.{body}.");
    let mut refused = vec![("alg none", none)];
    for (what, secret) in [
        ("the JWK", public_json.as_bytes()),
        ("the raw key", &public_x[..]),
    ] {
        let key = EncodingKey::from_secret(secret);
        refused.push((what, sign(&header(Algorithm::HS256, &kid), &claims, &key)));
        refused.push((what, sign(&Header::new(Algorithm::HS256), &claims, &key)));
    }

    for (what, forged) in refused {
        let reply = app.validate_token(&forged).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text);
    }
}

async fn unknown_kids_and_keys_named_elsewhere_are_refused(app: TestApp) {
    let (app, token, claims, own_key) = eddsa_app(app).await;
    let kid = token_header(&token)["kid"].as_str().unwrap().to_owned();
    let other =
        gatehouse::auth::keys::KeyPair::generate(gatehouse::auth::keys::SigningAlgorithm::EdDsa)
            .unwrap();
    let mut with_jku = header(Algorithm::EdDSA, &kid);
    with_jku.jku = Some("https://attacker.example/jwks.json".into());
    let mut with_x5u = header(Algorithm::EdDSA, &kid);
    with_x5u.x5u = Some("https://attacker.example/cert.pem".into());

    let refused = [
        (
            "another key's kid",
            sign(
                &header(Algorithm::EdDSA, &other.kid),
                &claims,
                &other.encoding_key(),
            ),
        ),
        (
            "another key under our kid",
            sign(
                &header(Algorithm::EdDSA, &kid),
                &claims,
                &other.encoding_key(),
            ),
        ),
        ("jku", sign(&with_jku, &claims, &own_key)),
        ("x5u", sign(&with_x5u, &claims, &own_key)),
    ];

    for (what, forged) in refused {
        let reply = app.validate_token(&forged).await;
        assert_eq!(reply.status, 401, "{what}: {}", reply.text);
    }
    let control = sign(&header(Algorithm::EdDSA, &kid), &claims, &own_key);
    app.validate_token(&control).await.assert_status(200);
}

async fn a_wrong_issuer_or_a_tampered_payload_is_refused(app: TestApp) {
    let (app, token, claims, own_key) = eddsa_app(app).await;
    let kid = token_header(&token)["kid"].as_str().unwrap().to_owned();
    let mut elsewhere = claims.clone();
    elsewhere["iss"] = json!("elsewhere");
    let mut admin = claims.clone();
    admin["admin"] = json!(true);
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(admin.to_string()),
        parts[2]
    );

    let wrong_issuer = sign(&header(Algorithm::EdDSA, &kid), &elsewhere, &own_key);

    app.validate_token(&wrong_issuer).await.assert_status(401);
    app.validate_token(&tampered).await.assert_status(401);
    app.validate_token(&token).await.assert_status(200);
}
