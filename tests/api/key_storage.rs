//! Where private keys live: sealed with `KEY_ENCRYPTION_KEY` in the database (and without it, or
//! with another, start-up says why it cannot sign), or in `JWT_PRIVATE_KEY_FILE`, whose public
//! half alone reaches the database.

use std::collections::HashMap;

use gatehouse::auth::keys::{KeyPair, SigningAlgorithm};
use gatehouse::config::Config;
use gatehouse::store::Store;
use gatehouse::App;

use crate::helpers::*;
use crate::keys::{fetch_jwks, login_token, verify_with_jwks};

backend_tests!(
    private_keys_are_sealed_and_do_not_open_without_their_key,
    a_pem_key_file_signs_and_only_its_public_half_is_stored,
);

const KEK: &str = "8f1e3c5a7b9d0f2e4c6a8b0d2f4e6a8c0e2d4f6a8c0b2e4d6f8a0c2e4b6d8f0a";

/// The error `gatehouse serve` would stop with, on `app`'s database with `settings`.
async fn start_up_error(app: &TestApp, settings: &[(&str, &str)]) -> String {
    let mut env: HashMap<&str, &str> = [
        ("DATABASE_URL", app.database_url.as_str()),
        ("JWT_SECRET", app.secret.as_str()),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
    ]
    .into_iter()
    .collect();
    env.extend(settings.iter().copied());
    let config = Config::from_lookup(|name| env.get(name).map(|v| v.to_string())).unwrap();
    match App::build(config).await {
        Ok(_) => panic!("started with {settings:?}"),
        Err(error) => format!("{error:#}"),
    }
}

async fn private_keys_are_sealed_and_do_not_open_without_their_key(mut app: TestApp) {
    app.set_env("KEY_ENCRYPTION_KEY", KEK);
    app.restart_with("JWT_ALGORITHM", "ES256").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let token = login_token(&app).await;

    let store = Store::connect(&app.database_url).await.unwrap();
    let rows = store.signing_keys().await.unwrap();
    let row = rows.iter().find(|row| row.algorithm == "ES256").unwrap();
    let without = start_up_error(&app, &[("JWT_ALGORITHM", "ES256")]).await;
    let other_key = "1".repeat(64);
    let wrong = start_up_error(
        &app,
        &[
            ("JWT_ALGORITHM", "ES256"),
            ("KEY_ENCRYPTION_KEY", &other_key),
        ],
    )
    .await;

    assert!(row
        .private_key
        .as_deref()
        .unwrap()
        .starts_with("aes256gcm:"));
    assert!(without.contains("set KEY_ENCRYPTION_KEY"), "{without}");
    assert!(wrong.contains("does not open"), "{wrong}");
    app.validate_token(&token).await.assert_status(200);
}

async fn a_pem_key_file_signs_and_only_its_public_half_is_stored(mut app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let dir = tempfile::tempdir().unwrap();
    // PKCS#8 for Ed25519 and P-256; PKCS#1 for RSA (what `openssl genrsa` writes).
    let cases = [
        (SigningAlgorithm::EdDsa, "PRIVATE KEY"),
        (SigningAlgorithm::Es256, "PRIVATE KEY"),
        (SigningAlgorithm::Rs256, "RSA PRIVATE KEY"),
    ];
    for (algorithm, tag) in cases {
        let pair = KeyPair::generate(algorithm).unwrap();
        let path = dir.path().join(format!("{}.pem", algorithm.name()));
        let text = pem::encode(&pem::Pem::new(tag, pair.private_der.clone()));
        std::fs::write(&path, text).unwrap();

        app.set_env("JWT_PRIVATE_KEY_FILE", path.to_str().unwrap());
        app.restart_with("JWT_ALGORITHM", algorithm.name()).await;
        let token = login_token(&app).await;

        assert_eq!(token_header(&token)["kid"], pair.kid.as_str());
        verify_with_jwks(&token, &fetch_jwks(&app).await.0).unwrap();
        let store = Store::connect(&app.database_url).await.unwrap();
        let rows = store.signing_keys().await.unwrap();
        let row = rows.iter().find(|row| row.kid == pair.kid).unwrap();
        assert_eq!(row.private_key, None, "the private key stays in its file");
        let env = [
            ("JWT_ALGORITHM", algorithm.name()),
            ("JWT_PRIVATE_KEY_FILE", path.to_str().unwrap()),
        ];
        let rotate = app.cli_with_env(&["keys", "rotate"], None, &env).await;
        assert!(!rotate.status.success(), "rotating a file's key is refused");
    }
}
