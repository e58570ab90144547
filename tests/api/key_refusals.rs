//! What verification refuses, on an EdDSA deployment: `alg: none`, HS256 signed with the
//! public key as the secret (algorithm confusion), an unknown `kid`, a key named by `jku` or
//! `x5u`, a wrong `iss`, a tampered payload. Each forged token has a control: the same token
//! made the honest way (signed with the server's own key, read from its database) is accepted,
//! so the refusal is for the reason the test names. And the shared secret verifies kid-less
//! tokens only on a deployment that had users before its first start with EdDSA.

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

/// A Gatehouse on a SQLite file with `JWT_ALGORITHM=EdDSA` from its first start; returns its
/// address and what stops it.
async fn serve_eddsa(url: &str, secret: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let env: std::collections::HashMap<&str, &str> = [
        ("DATABASE_URL", url),
        ("JWT_SECRET", secret),
        ("JWT_ALGORITHM", "EdDSA"),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("SHUTDOWN_DRAIN_SECS", "0"),
    ]
    .into_iter()
    .collect();
    let config =
        gatehouse::config::Config::from_lookup(|name| env.get(name).map(|v| v.to_string()))
            .unwrap();
    let app = gatehouse::App::build(config).await.unwrap();
    let address = format!("http://{}", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Kid-less HS256 tokens (an earlier version's) verify after an upgrade straight to EdDSA, and
/// never on a deployment that started with EdDSA: there the secret verifies nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_verifies_only_tokens_from_before_an_upgrade() {
    for users_before_first_start in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let secret = random_hex(32);
        let store = gatehouse::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let user = gatehouse::store::NewUser {
            email: "ada@example.com".into(),
            username: None,
            name: "Ada".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
                .into(),
            admin: false,
            legacy_name: None,
        };
        let now = gatehouse::clock::Clock::now(&gatehouse::clock::SystemClock);
        if users_before_first_start {
            store.insert_user(&user, now).await.unwrap();
        }
        let (address, _stop) = serve_eddsa(&url, &secret).await;
        if !users_before_first_start {
            store.insert_user(&user, now).await.unwrap();
        }
        let claims = json!({"sub": "1", "username": "ada@example.com", "email": "ada@example.com",
            "admin": false, "iat": now, "exp": now + 600, "jti": "before", "iss": "gatehouse"});
        let kidless = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();

        let status = reqwest::Client::new()
            .post(format!("{address}/validate"))
            .bearer_auth(&kidless)
            .send()
            .await
            .unwrap()
            .status();

        let expected = if users_before_first_start { 200 } else { 401 };
        assert_eq!(
            status, expected,
            "users before the first start: {users_before_first_start}"
        );
    }
}
