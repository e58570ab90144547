//! Passwords are hashed and verified in NFKC form; hashes of the typed form still verify.

use super::super::argon::hash_with;
use super::super::*;

/// "café crème" with each accent one code point (as most keyboards type it)…
const COMPOSED: &str = "caf\u{e9} cr\u{e8}me";
/// …and with each accent a combining mark after its letter (as some input methods do).
const DECOMPOSED: &str = "cafe\u{301} cre\u{300}me";

fn owasp() -> Params {
    Params::new(OWASP_MEMORY_KIB, OWASP_ITERATIONS, OWASP_PARALLELISM, None).unwrap()
}

fn verified(matches: bool, needs_rehash: bool) -> Verification {
    Verification {
        matches,
        needs_rehash,
    }
}

#[tokio::test]
async fn either_form_typed_at_signup_verifies_either_form_at_login() {
    let hasher = PasswordHasher::new(1, 4).unwrap();
    for signed_up_with in [COMPOSED, DECOMPOSED] {
        let hash = hasher.hash(signed_up_with.into()).await.unwrap();

        for logs_in_with in [COMPOSED, DECOMPOSED] {
            let answer = hasher
                .verify(logs_in_with.into(), Some(hash.clone()))
                .await
                .unwrap();

            assert_eq!(
                answer,
                verified(true, false),
                "{signed_up_with:?} then {logs_in_with:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_hash_of_the_typed_form_verifies_as_typed_and_asks_for_an_upgrade() {
    // What Gatehouse stored before it normalised: a hash of the decomposed form itself.
    let hasher = PasswordHasher::new(1, 4).unwrap();
    let old_hash = hash_with(&mut Vec::new(), &owasp(), DECOMPOSED).unwrap();

    let as_typed = hasher
        .verify(DECOMPOSED.into(), Some(old_hash.clone()))
        .await
        .unwrap();
    let wrong = hasher
        .verify("cafe crème".into(), Some(old_hash))
        .await
        .unwrap();

    assert_eq!(as_typed, verified(true, true));
    assert_eq!(wrong, verified(false, false));
}

#[test]
fn a_failure_costs_as_many_tries_whatever_the_hash() {
    // A password whose NFKC form differs is tried twice against a user's hash and against the
    // dummy alike; one that is already normalised, once.
    for (typed, tries) in [(DECOMPOSED, 2), (COMPOSED, 1), ("plain ascii", 1)] {
        let mut tried = Vec::new();

        let matched = first_matching_form(typed, |form| {
            tried.push(form.to_owned());
            false
        });

        assert_eq!(matched, Matched::No);
        assert_eq!(tried.len(), tries, "{typed:?}: {tried:?}");
    }
    let matched = first_matching_form(DECOMPOSED, |form| form == DECOMPOSED);
    assert_eq!(matched, Matched::Typed);
    let matched = first_matching_form(DECOMPOSED, |form| form == COMPOSED);
    assert_eq!(matched, Matched::Normalised);
}

#[tokio::test]
async fn a_plain_text_legacy_password_matches_in_either_form() {
    let hasher = PasswordHasher::new(1, 4).unwrap();
    let plain = || Imported::PlainPassword(COMPOSED.into());

    let decomposed = hasher.verify_imported(DECOMPOSED.into(), plain()).await;
    let wrong = hasher.verify_imported("cafe creme".into(), plain()).await;

    assert!(decomposed.unwrap());
    assert!(!wrong.unwrap());
}

#[tokio::test]
async fn a_legacy_hash_of_the_typed_form_verifies_and_asks_for_an_upgrade() {
    // The old services hashed what was typed, never normalised (bcrypt here, as seed 002).
    let hasher = PasswordHasher::new(1, 4).unwrap();
    let legacy = bcrypt::hash(DECOMPOSED, 4).unwrap();

    let answer = hasher.verify(DECOMPOSED.into(), Some(legacy)).await;

    assert_eq!(answer.unwrap(), verified(true, true));
}
