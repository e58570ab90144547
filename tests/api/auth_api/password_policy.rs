//! The password policy on every path that sets a new password (signup, `POST /auth/password`,
//! `gatehouse user add` and `set-password`), `PASSWORD_MIN_LENGTH`, and NFKC: a password
//! logs in whichever way its accents were typed, and hashes of the typed form keep working.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::Argon2;
use gatehouse::store::Store;
use serde_json::json;

use crate::helpers::*;
use crate::migration::{assert_current_argon2id, log_in_both_ways, stderr, stored_user};

backend_tests!(
    signup_with_a_commonly_used_password_is_400_and_says_so,
    a_change_to_a_commonly_used_password_is_400_and_changes_nothing,
    the_cli_refuses_a_commonly_used_password,
    a_lowered_minimum_length_admits_shorter_passwords,
    composed_and_decomposed_accents_log_in_either_way,
    a_hash_of_the_typed_form_logs_in_and_is_upgraded_to_the_normalised_form,
);

const COMMON: &str =
    "Invalid password: it is a commonly used password, one of the first an attacker tries; \
     choose another";

/// "crème brûlée 42" with each accent one code point (U+00E8, U+00FB, U+00E9)…
const COMPOSED: &str = "cr\u{e8}me br\u{fb}l\u{e9}e 42";
/// …and with each accent a combining mark after its letter (U+0300, U+0302, U+0301).
const DECOMPOSED: &str = "cre\u{300}me bru\u{302}le\u{301}e 42";

async fn signup_as(app: &TestApp, email: &str, password: &str) -> Reply {
    app.signup(json!({"email": email, "password": password, "name": "A"}))
        .await
}

async fn signup_with_a_commonly_used_password_is_400_and_says_so(app: TestApp) {
    // In any capitalisation: the list has "password123".
    let refused = signup_as(&app, "ada@example.com", "PaSsWoRd123").await;

    refused.assert_failed(400, COMMON);
    // Nothing was created: the email is still free.
    signup_as(&app, "ada@example.com", PASSWORD)
        .await
        .assert_status(201);
}

async fn a_change_to_a_commonly_used_password_is_400_and_changes_nothing(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let body = json!({"current_password": PASSWORD, "new_password": "iloveyou"});
    let reply = app.change_password(Some(&token), &body).await;

    reply.assert_failed(400, COMMON);
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_status(200);
    app.basic_login("ada@example.com", "iloveyou")
        .await
        .assert_status(401);
}

async fn the_cli_refuses_a_commonly_used_password(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let add = app
        .cli(&["user", "add", "grace@example.com"], Some("sunshine\n"))
        .await;
    let set = app
        .cli(
            &["user", "set-password", "ada@example.com"],
            Some("sunshine\n"),
        )
        .await;

    for (output, what) in [(&add, "user add"), (&set, "user set-password")] {
        assert_eq!(output.status.code(), Some(1), "{what}: {}", stderr(output));
        assert!(
            stderr(output).contains(COMMON),
            "{what}: {}",
            stderr(output)
        );
    }
    assert!(stored_user(&app, "grace@example.com").await.is_none());
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_status(200);
}

async fn a_lowered_minimum_length_admits_shorter_passwords(mut app: TestApp) {
    let six = "x7#kq2";
    signup_as(&app, "ada@example.com", six).await.assert_failed(
        400,
        "Invalid password: it must be 8 to 1024 characters long",
    );

    app.restart_with("PASSWORD_MIN_LENGTH", "6").await;

    signup_as(&app, "ada@example.com", six)
        .await
        .assert_status(201);
    app.basic_login("ada@example.com", six)
        .await
        .assert_status(200);
    signup_as(&app, "grace@example.com", "x7#kq")
        .await
        .assert_failed(
            400,
            "Invalid password: it must be 6 to 1024 characters long",
        );
    // Short common passwords stay refused.
    signup_as(&app, "grace@example.com", "abc123")
        .await
        .assert_failed(400, COMMON);
    // The OpenAPI document states the deployment's minimum.
    let doc = app.get("/openapi.json").await.json();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["SignupRequest"]["properties"]["password"]["minLength"],
        6
    );
    assert_eq!(
        schemas["PasswordChange"]["properties"]["new_password"]["minLength"],
        6
    );
}

async fn composed_and_decomposed_accents_log_in_either_way(app: TestApp) {
    assert_ne!(COMPOSED, DECOMPOSED);
    let users = [
        ("composed@example.com", COMPOSED),
        ("decomposed@example.com", DECOMPOSED),
    ];
    for (email, password) in users {
        app.signup_user(email, password, "A").await;
    }

    for (email, _) in users {
        for typed in [COMPOSED, DECOMPOSED] {
            log_in_both_ways(&app, email, typed).await;
        }
    }
}

async fn a_hash_of_the_typed_form_logs_in_and_is_upgraded_to_the_normalised_form(app: TestApp) {
    // As Gatehouse stored it before it normalised: argon2id (OWASP, the argon2 crate's
    // default) of the password exactly as typed, decomposed.
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let salt = SaltString::generate(&mut OsRng);
    let typed_hash = Argon2::default()
        .hash_password(DECOMPOSED.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let store = Store::connect(&app.database_url).await.unwrap();
    store
        .set_password_hash("ada@example.com", &typed_hash, app.now())
        .await
        .unwrap()
        .expect("ada exists");
    store.close().await;
    // Typed the other way, it is another password to that hash.
    app.basic_login("ada@example.com", COMPOSED)
        .await
        .assert_status(401);

    log_in_both_ways(&app, "ada@example.com", DECOMPOSED).await;

    let upgraded = stored_user(&app, "ada@example.com").await.unwrap();
    assert_ne!(upgraded.password_hash, typed_hash);
    assert_current_argon2id(&upgraded);
    let parsed = PasswordHash::new(&upgraded.password_hash).unwrap();
    assert!(
        Argon2::default()
            .verify_password(COMPOSED.as_bytes(), &parsed)
            .is_ok(),
        "the new hash is of the NFKC (composed) form"
    );
    for typed in [COMPOSED, DECOMPOSED] {
        log_in_both_ways(&app, "ada@example.com", typed).await;
    }
}
