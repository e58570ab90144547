//! Property-based fuzzing of everything that parses attacker-controlled input: the
//! `Authorization` header (Bearer and Basic), token decoding, and email normalisation.
//! `PROPTEST_CASES` sets the number of cases (`.ci/run` raises it for a longer pass).

use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::sync::Arc;

use gatehouse::auth::keys::KeySet;
use gatehouse::auth::token::AccessTokens;
use gatehouse::http::extract::{basic_credentials, bearer_token};
use gatehouse::secrets::Secret;
use gatehouse::store::User;
use gatehouse::validation::normalise_email;
use proptest::prelude::*;

fn headers_with(value: &[u8]) -> Option<HeaderMap> {
    let value = HeaderValue::from_bytes(value).ok()?;
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    Some(headers)
}

fn keys() -> AccessTokens {
    let keys = Arc::new(KeySet::hs256(&Secret::new("f".repeat(32))));
    AccessTokens::new(keys, "gatehouse".into(), 3600)
}

fn user() -> User {
    User {
        id: 42,
        email: "fuzz@example.com".into(),
        username: None,
        name: "Fuzz".into(),
        password_hash: String::new(),
        admin: false,
        disabled: false,
        created_at: 0,
        legacy_name: None,
    }
}

proptest! {
    #[test]
    fn bearer_parser_never_panics_and_returns_a_trimmed_part_of_the_header(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(headers) = headers_with(&raw) {
            if let Ok(token) = bearer_token(&headers) {
                prop_assert!(!token.is_empty());
                prop_assert_eq!(token.trim(), token);
                prop_assert!(headers[AUTHORIZATION].to_str().unwrap().contains(token));
            }
        }
    }

    #[test]
    fn basic_parser_never_panics_on_arbitrary_bytes(raw in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Some(headers) = headers_with(&raw) {
            let _ = basic_credentials(&headers);
        }
        let mut prefixed = b"Basic ".to_vec();
        prefixed.extend_from_slice(&raw);
        if let Some(headers) = headers_with(&prefixed) {
            let _ = basic_credentials(&headers);
        }
    }

    #[test]
    fn basic_credentials_round_trip(user in "[^:\\x00]{0,64}", password in "\\PC{0,128}") {
        let encoded = STANDARD.encode(format!("{user}:{password}"));
        let headers = headers_with(format!("Basic {encoded}").as_bytes()).unwrap();
        prop_assert_eq!(basic_credentials(&headers), Some((user, password)));
    }

    #[test]
    fn arbitrary_strings_never_verify(token in "\\PC{0,300}") {
        prop_assert!(keys().verify(&token, 1_000).is_err());
    }

    #[test]
    fn jwt_shaped_garbage_never_verifies(parts in proptest::collection::vec("[A-Za-z0-9_-]{0,80}", 3)) {
        prop_assert!(keys().verify(&parts.join("."), 1_000).is_err());
    }

    #[test]
    fn any_single_character_change_breaks_a_real_token(position in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_.-]") {
        let (token, claims) = keys().issue(&user(), "s1", 1_000, i64::MAX, &gatehouse::auth::sign_in::SignIn::new(None, 1_000)).unwrap();
        let index = position.index(token.len());
        let mut tampered = token.clone();
        tampered.replace_range(index..index + 1, &replacement);
        match keys().verify(&tampered, 1_000) {
            Ok(verified) => {
                // Only an identical token (same character put back) may still verify.
                prop_assert_eq!(&tampered, &token);
                prop_assert_eq!(verified.claims, claims);
            }
            Err(_) => prop_assert_ne!(&tampered, &token),
        }
    }

    #[test]
    fn email_normalisation_is_idempotent_and_total(raw in "\\PC{0,300}") {
        if let Ok(email) = normalise_email(&raw) {
            prop_assert_eq!(normalise_email(&email), Ok(email.clone()));
            prop_assert!(email.contains('@'));
        }
    }
}
