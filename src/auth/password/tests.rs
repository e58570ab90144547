use super::argon::*;
use super::*;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::PasswordHasher as _;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Version};

#[tokio::test]
async fn hashes_with_owasp_argon2id_and_verifies() {
    let hasher = PasswordHasher::new(1, 4).unwrap();
    let hash = hasher.hash("correct horse".into()).await.unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert_eq!(
        hasher
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap(),
        Verification {
            matches: true,
            needs_rehash: false
        }
    );
    assert_eq!(
        hasher
            .verify("wrong horse".into(), Some(hash))
            .await
            .unwrap(),
        Verification {
            matches: false,
            needs_rehash: false
        }
    );
}

#[test]
fn a_stored_hash_beyond_the_cost_limits_never_verifies() {
    // 19 MiB × 11 passes is just over the 200 MiB-passes work limit: a real hash of "pw",
    // refused all the same. (The memory limit is checked by the same function.)
    let costly = reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 11, 1, "pw");
    assert!(!verify_with(&mut Vec::new(), &costly, "pw"));
    // One pass fewer is within the limit and verifies.
    let affordable = reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 10, 1, "pw");
    assert!(verify_with(&mut Vec::new(), &affordable, "pw"));
}

#[test]
fn hashes_agree_with_the_reference_implementation() {
    // Ours verifies with the argon2 crate's own verifier, and the other way round, with
    // other algorithms and costs too.
    let ours = hash_with(
        &mut Vec::new(),
        &Params::new(OWASP_MEMORY_KIB, 2, 1, None).unwrap(),
        "pw",
    )
    .unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(argon2::PasswordVerifier::verify_password(&Argon2::default(), b"pw", &parsed).is_ok());
    for (algorithm, m, t, p) in [
        (Algorithm::Argon2id, 8192, 3, 2),
        (Algorithm::Argon2i, 4096, 2, 1),
    ] {
        let reference = Argon2::new(
            algorithm,
            Version::V0x13,
            Params::new(m, t, p, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(
            verify_with(&mut Vec::new(), &reference, "pw"),
            "{reference}"
        );
        assert!(
            !verify_with(&mut Vec::new(), &reference, "pW"),
            "{reference}"
        );
    }
}

#[test]
fn bigger_legacy_parameters_use_a_temporary_area() {
    let reference = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(32768, 1, 1, None).unwrap(),
    )
    .hash_password(b"pw", &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string();
    let mut memory = vec![Block::default(); OWASP_MEMORY_KIB as usize];
    assert!(verify_with(&mut memory, &reference, "pw"));
    assert_eq!(
        memory.len(),
        OWASP_MEMORY_KIB as usize,
        "the work area did not grow"
    );
}

#[tokio::test]
async fn unknown_user_never_verifies() {
    let hasher = PasswordHasher::new(1, 4).unwrap();
    let answer = hasher.verify("anything".into(), None).await.unwrap();
    assert!(!answer.matches && !answer.needs_rehash);
}

#[tokio::test]
async fn full_queue_refuses_instead_of_waiting() {
    // One worker and one waiting place: of three hashes submitted together, at most two
    // are taken (one hashing, one waiting); the rest are refused at once.
    let hasher = PasswordHasher::new(1, 1).unwrap();
    let (a, b, c) = tokio::join!(
        hasher.hash("a".into()),
        hasher.hash("b".into()),
        hasher.hash("c".into())
    );
    let results = [a, b, c];
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(HashError::Busy)))
        .count();
    assert!((1..=2).contains(&refused), "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(HashError::Busy))));
}

#[tokio::test]
async fn a_patient_job_takes_the_next_free_place() {
    // One worker and one waiting place, as above, but with patience: the third hash waits
    // for the place the first one frees instead of being refused.
    let hasher = PasswordHasher::new(1, 1)
        .unwrap()
        .with_patience(Duration::from_secs(30));
    let (a, b, c) = tokio::join!(
        hasher.hash("a".into()),
        hasher.hash("b".into()),
        hasher.hash("c".into())
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn patient_jobs_racing_for_one_place_all_get_in() {
    // Eight tasks push tiny jobs through one waiting place as fast as they can, so places
    // free up and get taken thousands of times a second, often by two tasks at once.
    // Losing that race must mean waiting for the next place, never a refusal, while the
    // patience lasts.
    let hasher = PasswordHasher::new(2, 1)
        .unwrap()
        .with_patience(Duration::from_secs(60));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                for _ in 0..5_000 {
                    hasher.run(|_| ()).await?;
                }
                Ok::<_, HashError>(())
            })
        })
        .collect();
    for task in tasks {
        let result = task.await.unwrap();
        assert!(result.is_ok(), "{result:?}");
    }
}

#[tokio::test]
async fn a_full_queue_refuses_once_the_patience_runs_out() {
    // A 19 MiB hash takes far longer than 1 ms, so of eight hashes submitted together,
    // those beyond the worker and its waiting place run out of patience.
    let hasher = PasswordHasher::new(1, 1)
        .unwrap()
        .with_patience(Duration::from_millis(1));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let hasher = hasher.clone();
            tokio::spawn(async move { hasher.hash(format!("password {i}")).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(HashError::Busy)))
        .count();
    assert!(refused >= 5, "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(HashError::Busy))));
    // Once the queue drains there is room again.
    assert!(hasher.wait_for_room().await.is_ok());
}

#[test]
fn garbage_hash_does_not_verify() {
    assert!(!verify_with(&mut Vec::new(), "not a phc string", "pw"));
    assert!(!verify_with(
        &mut Vec::new(),
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
        "pw"
    ));
}

fn reference_argon2(algorithm: Algorithm, m: u32, t: u32, p: u32, password: &str) -> String {
    Argon2::new(
        algorithm,
        Version::V0x13,
        Params::new(m, t, p, None).unwrap(),
    )
    .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string()
}

#[tokio::test]
async fn needs_rehash_unless_argon2id_with_the_current_parameters() {
    let hasher = PasswordHasher::new(1, 8).unwrap();
    let current = hasher.hash("pw".into()).await.unwrap();
    // The same parameters made by the reference implementation count as current too.
    let reference_current = reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 2, 1, "pw");
    for stored in [current, reference_current] {
        let answer = hasher
            .verify("pw".into(), Some(stored.clone()))
            .await
            .unwrap();
        assert_eq!(
            answer,
            Verification {
                matches: true,
                needs_rehash: false
            },
            "{stored}"
        );
    }
    let bcrypt_hash = bcrypt::hash("pw", 4).unwrap();
    let outdated = [
        reference_argon2(Algorithm::Argon2i, OWASP_MEMORY_KIB, 2, 1, "pw"),
        reference_argon2(Algorithm::Argon2id, 8192, 2, 1, "pw"),
        reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 3, 1, "pw"),
        reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 2, 2, "pw"),
        bcrypt_hash.clone(),
        bcrypt_hash.replacen("$2b$", "$2y$", 1),
    ];
    for stored in outdated {
        let answer = hasher
            .verify("pw".into(), Some(stored.clone()))
            .await
            .unwrap();
        assert_eq!(
            answer,
            Verification {
                matches: true,
                needs_rehash: true
            },
            "{stored}"
        );
        // A wrong password is never worth a rehash.
        let answer = hasher
            .verify("pW".into(), Some(stored.clone()))
            .await
            .unwrap();
        assert_eq!(
            answer,
            Verification {
                matches: false,
                needs_rehash: false
            },
            "{stored}"
        );
    }
}

#[tokio::test]
async fn verifies_every_imported_legacy_form() {
    use crate::auth::legacy_hash::{import, LegacyFormat, Pbkdf2HexSettings};
    let hasher = PasswordHasher::new(1, 8).unwrap();
    let settings = Pbkdf2HexSettings::default();
    // Seed 003: hashlib.pbkdf2_hmac('sha256', b'pw', b'salt', 1000, 64).hex()
    let mut seed003 = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"pw", b"salt", 1000, &mut seed003);
    let seed003: String = seed003.iter().map(|b| format!("{b:02x}")).collect();
    let legacy = [
        bcrypt::hash("pw", 4).unwrap(),
        seed003,
        reference_argon2(Algorithm::Argon2i, 4096, 2, 1, "pw"),
    ];
    for value in legacy {
        let imported = import(&value, None, &settings).unwrap();
        assert!(hasher
            .verify_imported("pw".into(), imported.clone())
            .await
            .unwrap());
        assert!(!hasher
            .verify_imported("pW".into(), imported.clone())
            .await
            .unwrap());
        let Imported::Hash(stored) = imported else {
            panic!("{value} imported as plain text");
        };
        let answer = hasher.verify("pw".into(), Some(stored)).await.unwrap();
        assert!(answer.matches && answer.needs_rehash, "{value}");
    }
    let plain = import("pw", Some(LegacyFormat::Plain), &settings).unwrap();
    assert!(hasher
        .verify_imported("pw".into(), plain.clone())
        .await
        .unwrap());
    assert!(!hasher.verify_imported("pw ".into(), plain).await.unwrap());
    assert!(
        !hasher
            .verify("pw".into(), Some("not a hash".into()))
            .await
            .unwrap()
            .matches
    );
}

#[tokio::test]
async fn a_wrapped_legacy_hash_verifies_and_is_upgraded() {
    let hasher = PasswordHasher::new(1, 4).unwrap();
    let bcrypt = bcrypt::hash("pw", 4).unwrap();
    let werkzeug = "pbkdf2:sha256:1000$3AcPd0VFx4Srfpse$".to_owned();
    let werkzeug = {
        use sha2::Sha256;
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"pw", b"3AcPd0VFx4Srfpse", 1000, &mut out);
        format!(
            "{werkzeug}{}",
            out.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    };
    for legacy in [bcrypt, werkzeug] {
        let wrapped = hasher.wrap_legacy(legacy.clone()).await.unwrap();
        assert!(wrapped.starts_with("$gatehouse-wrap$"), "{wrapped}");
        let digest = &legacy[legacy.len() - 31..];
        assert!(
            !wrapped.contains(digest),
            "the weak digest is gone: {wrapped}"
        );
        let right = hasher
            .verify("pw".into(), Some(wrapped.clone()))
            .await
            .unwrap();
        assert_eq!(
            right,
            Verification {
                matches: true,
                needs_rehash: true
            }
        );
        let wrong = hasher.verify("pW".into(), Some(wrapped)).await.unwrap();
        assert!(!wrong.matches);
    }
    // Argon2 is not wrapped.
    let own = hasher.hash("pw".into()).await.unwrap();
    assert_eq!(hasher.wrap_legacy(own.clone()).await.unwrap(), own);
}

mod normalisation;
