use super::*;

/// One entry of `tests/fixtures/legacy_hashes/vectors.json` (see its `generate.py`).
#[derive(serde::Deserialize)]
struct Vector {
    format: String,
    library: String,
    password: String,
    stored: String,
    note: String,
    settings: Option<VectorSettings>,
}

#[derive(serde::Deserialize)]
struct VectorSettings {
    salt: String,
    iterations: u32,
}

fn vectors() -> Vec<Vector> {
    serde_json::from_str(include_str!(
        "../../../tests/fixtures/legacy_hashes/vectors.json"
    ))
    .unwrap()
}

/// Verifies as Gatehouse does at login: argon2 through the argon2 crate (as
/// `password.rs` does), everything else through `verify`.
fn verifies(stored: &str, password: &str) -> bool {
    use argon2::password_hash::PasswordVerifier as _;
    if stored.starts_with("$argon2") {
        let hash = PasswordHash::new(stored).unwrap();
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    } else {
        verify(stored, password)
    }
}

/// Changes one character: the first (so bcrypt's 72-byte limit cannot hide it).
fn one_character_changed(password: &str) -> String {
    let mut chars: Vec<char> = password.chars().collect();
    chars[0] = if chars[0] == 'a' { 'b' } else { 'a' };
    chars.into_iter().collect()
}

#[test]
fn there_are_vectors_for_every_format() {
    let vectors = vectors();
    for format in LegacyFormat::ALL {
        assert!(
            vectors.iter().any(|v| v.format == format.name()),
            "no vector for {format}"
        );
    }
}

/// The vectors at low cost get every check; those at a library's default cost (a quarter
/// of a second each to verify) only the right and a one-character-changed password, so
/// the two halves run in parallel and neither takes long.
#[test]
fn every_low_cost_reference_vector_imports_and_verifies() {
    for v in vectors().iter().filter(|v| !is_default_cost(v)) {
        check_vector(v, true);
    }
}

#[test]
fn every_default_cost_reference_vector_imports_and_verifies() {
    for v in vectors().iter().filter(|v| is_default_cost(v)) {
        check_vector(v, false);
    }
}

/// generate.py says "default" in the note of each vector made at a library's default cost.
fn is_default_cost(v: &Vector) -> bool {
    v.note.contains("default")
}

/// The vector imports (auto-detected, and named explicitly, to the same result), verifies
/// with its password, and not with a one-character change (nor, when `thorough`, with a
/// character more or an empty password); and what it imported to imports again unchanged.
fn check_vector(v: &Vector, thorough: bool) {
    let what = format!("{} / {} / {}", v.format, v.library, v.note);
    let format: LegacyFormat = v.format.parse().unwrap();
    let settings = v
        .settings
        .as_ref()
        .map_or_else(Pbkdf2HexSettings::default, |s| Pbkdf2HexSettings {
            salt: s.salt.as_bytes().to_vec(),
            iterations: s.iterations,
        });
    let explicit =
        import(&v.stored, Some(format), &settings).unwrap_or_else(|e| panic!("{what}: {e}"));
    if format == LegacyFormat::Plain {
        assert_eq!(detect(&v.stored), None, "{what}");
        assert_eq!(
            import(&v.stored, None, &settings),
            Err(Rejected::Unrecognised)
        );
        assert_eq!(
            explicit,
            Imported::PlainPassword(v.password.clone()),
            "{what}"
        );
        return;
    }
    assert_eq!(detect(&v.stored), Some(format), "{what}");
    assert_eq!(
        import(&v.stored, None, &settings).as_ref(),
        Ok(&explicit),
        "{what}: auto-detection imports the same"
    );
    let Imported::Hash(stored) = explicit else {
        panic!("{what}: a hash imported as a plain password");
    };
    assert!(verifies(&stored, &v.password), "{what}: right password");
    assert!(
        !verifies(&stored, &one_character_changed(&v.password)),
        "{what}: one character changed"
    );
    if thorough {
        let longer = format!("{}x", v.password);
        if format == LegacyFormat::Bcrypt && v.password.len() >= 72 {
            // bcrypt reads 72 bytes and no more, as the reference library did.
            assert!(verifies(&stored, &longer), "{what}: bytes past the 72nd");
        } else {
            assert!(!verifies(&stored, &longer), "{what}: a character added");
        }
        assert!(!verifies(&stored, ""), "{what}: empty password");
    }
    // What import stores imports again unchanged, so a second import run is a no-op.
    assert_eq!(
        import(&stored, None, &Pbkdf2HexSettings::default()),
        Ok(Imported::Hash(stored.clone())),
        "{what}"
    );
}

#[test]
fn seed003_hex_keeps_the_settings_of_its_import() {
    let v = vectors()
        .into_iter()
        .find(|v| {
            v.format == "pbkdf2-hex" && v.settings.as_ref().is_some_and(|s| s.iterations == 1000)
        })
        .unwrap();
    let Ok(Imported::Hash(stored)) = import(&v.stored, None, &Pbkdf2HexSettings::default()) else {
        panic!("seed 003 hash did not import");
    };
    assert_eq!(
        stored,
        format!("$gatehouse-pbkdf2-hex$i=1000$c2FsdA${}", v.stored)
    );
    // Verifying needs no settings: they are in the stored string.
    assert!(verify(&stored, &v.password));
    // Imported with other settings, the same row does not verify (the operator's
    // settings matter at import time, and only then).
    let other = Pbkdf2HexSettings {
        salt: b"pepper".to_vec(),
        iterations: 1000,
    };
    let Ok(Imported::Hash(wrong)) = import(&v.stored, None, &other) else {
        panic!("seed 003 hash did not import");
    };
    assert!(!verify(&wrong, &v.password));
    // A bare hex value is not verifiable by itself.
    assert!(!verify(&v.stored, &v.password));
    // Uppercase hex is the same key.
    assert_eq!(
        import(
            &v.stored.to_uppercase(),
            None,
            &Pbkdf2HexSettings::default()
        ),
        Ok(Imported::Hash(stored))
    );
}

#[test]
fn format_names_round_trip() {
    for format in LegacyFormat::ALL {
        assert_eq!(format.name().parse::<LegacyFormat>(), Ok(format));
        assert_eq!(format.to_string(), format.name());
    }
    assert_eq!(" BCrypt ".parse::<LegacyFormat>(), Ok(LegacyFormat::Bcrypt));
    let err = "md5".parse::<LegacyFormat>().unwrap_err().to_string();
    for name in [
        "auto",
        "argon2",
        "bcrypt",
        "werkzeug",
        "passlib",
        "django",
        "pbkdf2-hex",
        "plain",
    ] {
        assert!(err.contains(name), "{err}");
    }
    assert!(
        "auto".parse::<LegacyFormat>().is_err(),
        "auto is the callers' None"
    );
}

#[test]
fn rejections_say_why_without_quoting_the_value() {
    let s = Pbkdf2HexSettings::default();
    assert_eq!(import("", None, &s), Err(Rejected::Empty));
    assert_eq!(import("   ", None, &s), Err(Rejected::Empty));
    assert_eq!(
        import("", Some(LegacyFormat::Plain), &s),
        Err(Rejected::Empty)
    );
    assert_eq!(import("hunter2", None, &s), Err(Rejected::Unrecognised));
    assert_eq!(
        import("$2b$12$tooshort", None, &s),
        Err(Rejected::Malformed(LegacyFormat::Bcrypt))
    );
    assert_eq!(
        import("hunter2", Some(LegacyFormat::Werkzeug), &s),
        Err(Rejected::Malformed(LegacyFormat::Werkzeug))
    );
    assert_eq!(Rejected::Empty.to_string(), "empty password value");
    assert_eq!(
        Rejected::Unrecognised.to_string(),
        "unrecognised hash format"
    );
    assert_eq!(
        Rejected::Malformed(LegacyFormat::Bcrypt).to_string(),
        "malformed bcrypt hash"
    );
    assert_eq!(
        Rejected::TooExpensive(LegacyFormat::Werkzeug).to_string(),
        "werkzeug hash cost above the limit"
    );
    let imported = import("hunter2", Some(LegacyFormat::Plain), &s).unwrap();
    assert!(!format!("{imported:?}").contains("hunter2"));
}

#[test]
fn plain_text_is_taken_verbatim_and_only_when_asked() {
    let s = Pbkdf2HexSettings::default();
    assert_eq!(
        import(" spaced out ", Some(LegacyFormat::Plain), &s),
        Ok(Imported::PlainPassword(" spaced out ".into()))
    );
    // Even a value that looks like a hash is plain text when the operator says so.
    assert_eq!(
        import("$2b$04$abc", Some(LegacyFormat::Plain), &s),
        Ok(Imported::PlainPassword("$2b$04$abc".into()))
    );
    assert!(
        !verify("correct horse", "correct horse"),
        "plain text is never verified"
    );
}

#[test]
fn costs_above_the_limits_are_refused() {
    let s = Pbkdf2HexSettings::default();
    let bcrypt_17 = format!("$2b$17${}", "a".repeat(53));
    let expensive = [
        (bcrypt_17.clone(), LegacyFormat::Bcrypt),
        // Just above the reference libraries' defaults.
        (format!("$2b$13${}", "a".repeat(53)), LegacyFormat::Bcrypt),
        (format!("pbkdf2:sha256:1000001$salt${}", "00".repeat(32)), LegacyFormat::Werkzeug),
        (format!("scrypt:65536:8:1$salt${}", "00".repeat(64)), LegacyFormat::Werkzeug),
        (format!("scrypt:16384:8:6$salt${}", "00".repeat(64)), LegacyFormat::Werkzeug),
        (
            "$argon2id$v=19$m=102401,t=1,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY"
                .into(),
            LegacyFormat::Argon2,
        ),
        (
            "$argon2id$v=19$m=65536,t=4,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY"
                .into(),
            LegacyFormat::Argon2,
        ),
        (format!("pbkdf2:sha256:10000001$salt${}", "00".repeat(32)), LegacyFormat::Werkzeug),
        (format!("scrypt:2097152:8:1$salt${}", "00".repeat(64)), LegacyFormat::Werkzeug),
        (format!("scrypt:1048576:1:8$salt${}", "00".repeat(64)), LegacyFormat::Werkzeug),
        (format!("$pbkdf2-sha256$4000000000$c2FsdA${}", "A".repeat(43)), LegacyFormat::Passlib),
        (format!("pbkdf2_sha256$20000000$salt${}=", "A".repeat(43)), LegacyFormat::Django),
        (
            "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY"
                .into(),
            LegacyFormat::Argon2,
        ),
        (
            "$argon2id$v=19$m=65536,t=100,p=1$c2FsdHNhbHQ$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY"
                .into(),
            LegacyFormat::Argon2,
        ),
    ];
    for (value, format) in expensive {
        assert_eq!(
            import(&value, None, &s),
            Err(Rejected::TooExpensive(format)),
            "{value}"
        );
        // verify answers at once instead of running it.
        let started = std::time::Instant::now();
        assert!(!verify(&value, "pw"));
        assert!(
            started.elapsed() < std::time::Duration::from_millis(100),
            "{value}"
        );
    }
    let hex = "ab".repeat(64);
    let too_many = Pbkdf2HexSettings {
        salt: b"salt".to_vec(),
        iterations: MAX_PBKDF2_ITERATIONS + 1,
    };
    assert_eq!(
        import(&hex, None, &too_many),
        Err(Rejected::TooExpensive(LegacyFormat::Pbkdf2Hex))
    );
    let tagged = format!("$gatehouse-pbkdf2-hex$i=4000000000$c2FsdA${hex}");
    assert!(!verify(&tagged, "pw"));
    // The limits themselves are allowed (the bcrypt crate verifies up to its 31).
    assert!(import(&format!("$2b$12${}", "a".repeat(53)), None, &s).is_ok());
}

#[test]
fn malformed_values_are_rejected_and_never_verify() {
    let s = Pbkdf2HexSettings::default();
    let cases = [
        // bcrypt: cost below 4, bad alphabet, wrong length
        (format!("$2b$03${}", "a".repeat(53)), LegacyFormat::Bcrypt),
        (format!("$2b$10${}!", "a".repeat(52)), LegacyFormat::Bcrypt),
        (format!("$2b$10${}", "a".repeat(54)), LegacyFormat::Bcrypt),
        // werkzeug: unknown digest, short key, non-hex, scrypt N not a power of two
        (
            format!("pbkdf2:md5:1000$salt${}", "00".repeat(16)),
            LegacyFormat::Werkzeug,
        ),
        (
            format!("pbkdf2:sha256:1000$salt${}", "00".repeat(16)),
            LegacyFormat::Werkzeug,
        ),
        (
            format!("pbkdf2:sha256:1000$salt${}", "zz".repeat(32)),
            LegacyFormat::Werkzeug,
        ),
        (
            format!("pbkdf2:sha256:-5$salt${}", "00".repeat(32)),
            LegacyFormat::Werkzeug,
        ),
        (
            format!("pbkdf2:sha256:0$salt${}", "00".repeat(32)),
            LegacyFormat::Werkzeug,
        ),
        (
            format!("scrypt:1000:8:1$salt${}", "00".repeat(64)),
            LegacyFormat::Werkzeug,
        ),
        (
            format!("scrypt:16384:0:1$salt${}", "00".repeat(64)),
            LegacyFormat::Werkzeug,
        ),
        ("scrypt:16384:8$salt$00".into(), LegacyFormat::Werkzeug),
        ("pbkdf2:sha256:1000$nohash".into(), LegacyFormat::Werkzeug),
        // passlib: missing checksum, unknown variant, checksum of the wrong length
        ("$pbkdf2-sha256$1000$c2FsdA".into(), LegacyFormat::Passlib),
        (
            format!("$pbkdf2-sha256$1000$c2FsdA${}", "A".repeat(20)),
            LegacyFormat::Passlib,
        ),
        // django: wrong field count, bad base64, bad embedded bcrypt or argon2
        ("pbkdf2_sha256$1000$salt".into(), LegacyFormat::Django),
        ("pbkdf2_sha256$1000$salt$!!!!".into(), LegacyFormat::Django),
        ("bcrypt_sha256$$2b$04$short".into(), LegacyFormat::Django),
        ("argon2$argon2id$v=19$m=x".into(), LegacyFormat::Django),
        // our tagged form: bad iterations, bad salt
        (
            format!("$gatehouse-pbkdf2-hex$1000$c2FsdA${}", "ab".repeat(64)),
            LegacyFormat::Pbkdf2Hex,
        ),
        (
            format!("$gatehouse-pbkdf2-hex$i=1000$!!$${}", "ab".repeat(64)),
            LegacyFormat::Pbkdf2Hex,
        ),
        // argon2: not PHC, unknown algorithm
        (
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA".into(),
            LegacyFormat::Argon2,
        ),
        (
            "$argon2x$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$YWJj".into(),
            LegacyFormat::Argon2,
        ),
    ];
    for (value, format) in cases {
        assert_eq!(detect(&value), Some(format), "{value}");
        assert_eq!(
            import(&value, None, &s),
            Err(Rejected::Malformed(format)),
            "{value}"
        );
        assert!(!verify(&value, "pw"), "{value}");
    }
    let huge = format!(
        "pbkdf2:sha256:1000${}${}",
        "s".repeat(5000),
        "00".repeat(32)
    );
    assert_eq!(
        import(&huge, None, &s),
        Err(Rejected::Malformed(LegacyFormat::Werkzeug))
    );
    // Explicit pbkdf2-hex accepts other key lengths from 16 to 64 bytes, nothing else.
    assert!(import(&"ab".repeat(32), Some(LegacyFormat::Pbkdf2Hex), &s).is_ok());
    for bad in [
        "ab".repeat(8),
        "ab".repeat(65),
        "abc".into(),
        "xy".repeat(64),
    ] {
        assert_eq!(
            import(&bad, Some(LegacyFormat::Pbkdf2Hex), &s),
            Err(Rejected::Malformed(LegacyFormat::Pbkdf2Hex)),
            "{bad}"
        );
    }
    assert_eq!(
        detect(&"ab".repeat(32)),
        None,
        "only seed 003's exact length is guessed"
    );
    for garbage in [
        "", "$", "$$$$", "$2b$", "pbkdf2:", "argon2$", "\u{0}", "scrypt$$",
    ] {
        assert!(!verify(garbage, ""), "{garbage:?}");
        assert!(!verify(garbage, "pw"), "{garbage:?}");
    }
}

#[test]
fn whitespace_around_a_hash_is_ignored() {
    let v = vectors()
        .into_iter()
        .find(|v| v.format == "bcrypt")
        .unwrap();
    let padded = format!("  {}\n", v.stored);
    assert_eq!(detect(&padded), Some(LegacyFormat::Bcrypt));
    assert_eq!(
        import(&padded, None, &Pbkdf2HexSettings::default()),
        Ok(Imported::Hash(v.stored.clone()))
    );
}

#[test]
fn bcrypt_2x_verifies_ascii_passwords_as_2b() {
    let v = vectors()
        .into_iter()
        .find(|v| v.stored.starts_with("$2b$04$") && v.password.is_ascii())
        .unwrap();
    let as_2x = v.stored.replacen("$2b$", "$2x$", 1);
    assert_eq!(
        import(&as_2x, None, &Pbkdf2HexSettings::default()),
        Ok(Imported::Hash(as_2x.clone()))
    );
    assert!(verify(&as_2x, &v.password));
    assert!(!verify(&as_2x, &one_character_changed(&v.password)));
}

#[test]
fn werkzeug_accepts_every_hashlib_sha_digest() {
    // hashlib.pbkdf2_hmac(DIGEST, b'pw', b'NaCl', 1000).hex(), from Python 3.11; Werkzeug's
    // check_password_hash accepts both as "pbkdf2:DIGEST:1000$NaCl$HEX".
    for (digest, hex) in [
        (
            "sha224",
            "8636d9447a9744bf4657ffc2257b58709474279779a15bc8a1924513",
        ),
        (
            "sha384",
            "d8c435e8018dc9691f4bd1b13621aad7efeeb4d5d7ff747fcd0748a55152854d\
             9a80a68b951d7beeb87f9b9c46a0cb52",
        ),
    ] {
        let stored = format!("pbkdf2:{digest}:1000$NaCl${hex}");
        assert_eq!(detect(&stored), Some(LegacyFormat::Werkzeug));
        assert!(import(&stored, None, &Pbkdf2HexSettings::default()).is_ok());
        assert!(verify(&stored, "pw"), "{digest}");
        assert!(!verify(&stored, "pW"), "{digest}");
        // hashlib's names are case-insensitive, and so are they here.
        assert!(verify(
            &stored.replacen(digest, &digest.to_uppercase(), 1),
            "pw"
        ));
    }
}

/// Every weak format splits into a blanked hash (its salt and parameters, no digest) and the
/// digest, and the digest is derived again from the right password only.
#[test]
fn every_weak_vector_wraps_without_its_digest() {
    for v in vectors().iter().filter(|v| !is_default_cost(v)) {
        let what = format!("{} / {} / {}", v.format, v.library, v.note);
        let settings = v
            .settings
            .as_ref()
            .map_or_else(Pbkdf2HexSettings::default, |s| Pbkdf2HexSettings {
                salt: s.salt.as_bytes().to_vec(),
                iterations: s.iterations,
            });
        let Ok(Imported::Hash(stored)) = import(&v.stored, v.format.parse().ok(), &settings) else {
            continue; // plain text: never stored
        };
        let Some(split) = wrap::split(&stored) else {
            assert!(
                stored.starts_with("$argon2"),
                "{what}: only argon2 is not wrapped"
            );
            continue;
        };
        let digest_text = stored.rsplit('$').next().unwrap();
        let tail = &digest_text[digest_text.len().saturating_sub(31)..];
        assert!(!split.blanked.contains(tail), "{what}: {}", split.blanked);
        let wrapped = wrap::wrapped(&split.blanked, "$argon2id$placeholder");
        assert!(!wrapped.contains(tail), "{what}");
        let (derived, phc) = wrap::derive(&wrapped, &v.password).expect("derives");
        assert_eq!(derived, split.digest, "{what}");
        assert_eq!(phc, "$argon2id$placeholder");
        let (wrong, _) = wrap::derive(&wrapped, &one_character_changed(&v.password)).unwrap();
        assert_ne!(wrong, split.digest, "{what}");
    }
    assert!(wrap::derive("$gatehouse-wrap$!!$x", "pw").is_none());
    assert!(wrap::derive("$2b$04$abc", "pw").is_none());
}
