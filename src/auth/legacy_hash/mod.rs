//! Legacy password formats: detecting, importing and verifying what the seed services stored.
//!
//! The seeds and the Python frameworks they were built on stored bcrypt, Werkzeug, passlib,
//! Django, hex PBKDF2 or plain text; their users must log in unchanged after the switch, and
//! are then upgraded to argon2id (by `auth::login`).
//!
//! Pure functions, no I/O. [`import`] turns a value from a legacy password column into a
//! self-describing hash (which `gatehouse import` then stores wrapped in argon2id, see
//! [`wrap`]); [`verify`] checks a password against any non-argon2 string `import`
//! produced (argon2 PHC strings are verified by [`crate::auth::password`], which also decides
//! when a hash must be upgraded).
//!
//! | [`LegacyFormat`] | stored as | recognised (auto-detection) |
//! |---|---|---|
//! | `argon2` | the PHC string unchanged (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, also argon2i/argon2d) | `$argon2` |
//! | `bcrypt` | unchanged | `$2a$`, `$2b$`, `$2y$`, `$2x$` |
//! | `werkzeug` | unchanged | `pbkdf2:DIGEST:N$salt$hex`, `pbkdf2[:DIGEST]$salt$hex`, `scrypt:N:r:p$salt$hex`, `scrypt$salt$hex` |
//! | `passlib` | unchanged | `$pbkdf2-sha256$`, `$pbkdf2-sha512$`, `$pbkdf2$` (sha1) |
//! | `django` | unchanged, except `argon2$argon2…` which becomes the plain PHC string | `pbkdf2_sha256$`, `pbkdf2_sha1$`, `argon2$`, `bcrypt_sha256$`, `bcrypt$`, `scrypt$N$salt$r$p$hash` |
//! | `pbkdf2-hex` | `$gatehouse-pbkdf2-hex$i=ITERATIONS$SALT$HEX` (below) | exactly 128 hex digits, or the tagged form |
//! | `plain` | never stored: [`Imported::PlainPassword`], which the caller hashes | only when asked for explicitly |
//!
//! # Gatehouse's tagged form of seed 003's hex PBKDF2
//! Seed 003 stored `hashlib.pbkdf2_hmac('sha256', pw, SALT, ITERATIONS, 64).hex()`: the salt
//! and the iteration count lived in its code, not in the column. `import` writes them into the
//! stored string, so changing [`Pbkdf2HexSettings`] later never breaks users already imported:
//!
//! ```text
//! $gatehouse-pbkdf2-hex$i=1000$c2FsdA$<128 lowercase hex digits>
//!                        │      │      └ the derived key as seed 003 stored it (32 to 128 hex digits)
//!                        │      └ the salt bytes, standard base64 without padding (may be empty)
//!                        └ PBKDF2-HMAC-SHA256 iterations
//! ```
//!
//! # Cost limits
//! Every cost is read from the stored string, so a hostile or corrupt row could ask for hours
//! of work, and an account not yet upgraded runs its legacy KDF on every wrong password. Above
//! these limits `import` answers [`Rejected::TooExpensive`] and `verify` false. Each limit is
//! the highest that the reference libraries write by default, no more: a guess against a
//! legacy account costs a worker about what it costs on an upgraded one.
//!
//! | what | limit | reference defaults |
//! |---|---|---|
//! | bcrypt cost | [`MAX_BCRYPT_COST`] = 12 | Flask-Bcrypt and the `bcrypt` package 12 |
//! | PBKDF2 iterations | [`MAX_PBKDF2_ITERATIONS`] = 1,000,000 | Werkzeug 3 and Django 1,000,000, passlib 29,000, seed 003 1,000 |
//! | scrypt memory 128·r·(N+p) | [`MAX_SCRYPT_MEMORY_BYTES`] = 32 MiB + 64 KiB | Werkzeug 32 MiB (+1 KiB), Django 16 MiB |
//! | scrypt work N·r·p | [`MAX_SCRYPT_WORK`] = 5·2¹⁷ | Werkzeug 2¹⁸, Django 5·2¹⁷ |
//! | argon2 memory | [`MAX_ARGON2_MEMORY_KIB`] = 100 MiB | argon2-cffi 64 MiB, Django 100 MiB |
//! | argon2 work m·t | [`MAX_ARGON2_WORK_KIB`] = 200 MiB-passes | argon2-cffi 3·64 MiB, Django 2·100 MiB |
//!
//! PBKDF2 and scrypt outputs must also be exactly as long as the reference libraries make
//! them (the digest size; 64 bytes for scrypt), which both bounds PBKDF2's work and rejects
//! truncated values that would match too easily.
//!
//! Every comparison of a derived key with the stored one is constant-time
//! ([`crate::secrets::constant_time_eq`]); bcrypt's is the `bcrypt` crate's own constant-time check.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::PasswordHash;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use sha2::{Digest as _, Sha224, Sha256};

use crate::secrets::constant_time_eq;

mod parse;
pub mod wrap;
pub(crate) use parse::argon2_affordable;
use parse::*;

/// The password formats Gatehouse can import; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyFormat {
    Argon2,
    Bcrypt,
    Werkzeug,
    Passlib,
    Django,
    Pbkdf2Hex,
    Plain,
}

impl LegacyFormat {
    /// Every format, in the order the `--format` help lists them.
    pub const ALL: [LegacyFormat; 7] = [
        LegacyFormat::Argon2,
        LegacyFormat::Bcrypt,
        LegacyFormat::Werkzeug,
        LegacyFormat::Passlib,
        LegacyFormat::Django,
        LegacyFormat::Pbkdf2Hex,
        LegacyFormat::Plain,
    ];

    /// The name used on the command line, in the fixtures and in import summaries.
    pub fn name(self) -> &'static str {
        match self {
            LegacyFormat::Argon2 => "argon2",
            LegacyFormat::Bcrypt => "bcrypt",
            LegacyFormat::Werkzeug => "werkzeug",
            LegacyFormat::Passlib => "passlib",
            LegacyFormat::Django => "django",
            LegacyFormat::Pbkdf2Hex => "pbkdf2-hex",
            LegacyFormat::Plain => "plain",
        }
    }
}

impl fmt::Display for LegacyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--format` value that names no format. "auto" is not one: callers map it to `None`
/// before parsing, but the message lists it because that is what a user may type.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error(
    "unknown password format {0:?}; expected one of: \
     auto, argon2, bcrypt, werkzeug, passlib, django, pbkdf2-hex, plain"
)]
pub struct UnknownFormat(pub String);

impl FromStr for LegacyFormat {
    type Err = UnknownFormat;

    /// Case-insensitive; surrounding whitespace is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        LegacyFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Where seed 003's bare hex PBKDF2 got its salt and iterations (they were constants in its
/// code). Captured into each imported hash, so changing them later affects only later imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pbkdf2HexSettings {
    pub salt: Vec<u8>,
    pub iterations: u32,
}

impl Default for Pbkdf2HexSettings {
    /// Seed 003's: `hashlib.pbkdf2_hmac('sha256', pw, b'salt', 1000, 64).hex()`.
    fn default() -> Self {
        Self {
            salt: b"salt".to_vec(),
            iterations: 1000,
        }
    }
}

/// What a legacy password value becomes.
#[derive(Clone, PartialEq, Eq)]
pub enum Imported {
    /// A self-describing hash that [`crate::auth::password::PasswordHasher::verify`] accepts.
    Hash(String),
    /// A plain-text password: the caller hashes it before storing. Never stored as is.
    PlainPassword(String),
}

/// Never prints the password, nor the hash (a hash is an offline-crackable secret too).
impl fmt::Debug for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Imported::Hash(_) => f.write_str("Hash(<redacted>)"),
            Imported::PlainPassword(_) => f.write_str("PlainPassword(<redacted>)"),
        }
    }
}

/// Why a legacy value cannot be imported. The messages are short reason kinds, for import
/// summaries that count rejected rows per reason; they never quote the value.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Rejected {
    #[error("empty password value")]
    Empty,
    #[error("unrecognised hash format")]
    Unrecognised,
    #[error("malformed {0} hash")]
    Malformed(LegacyFormat),
    #[error("{0} hash cost above the limit")]
    TooExpensive(LegacyFormat),
}

pub const MAX_BCRYPT_COST: u32 = 12;
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 32 * 1024 * 1024 + 64 * 1024;
pub const MAX_SCRYPT_WORK: u64 = 5 << 17;
pub const MAX_ARGON2_MEMORY_KIB: u32 = 100 * 1024;
pub const MAX_ARGON2_WORK_KIB: u64 = 200 * 1024;
/// No format needs more; a longer value is corrupt (or an attempt to make parsing costly).
const MAX_STORED_LEN: usize = 4096;

const TAG_PREFIX: &str = "$gatehouse-pbkdf2-hex$";
/// bcrypt's own base64 alphabet, which its 53-character salt-and-hash part uses.
const BCRYPT_ALPHABET: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Decoding is lenient the way Python's `base64.b64decode` is (padding optional, non-zero
/// trailing bits accepted): what Python wrote, or a hand-edited row, must decode here too.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
/// The tagged form writes the salt canonically: standard alphabet, no padding.
const STANDARD_NO_PAD: GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

/// Which format a stored value looks like, from its prefix (or, for seed 003, its shape).
/// Never [`LegacyFormat::Plain`]: any string could be a plain-text password, so plain text is
/// only ever chosen explicitly. A detected format may still fail to parse: [`import`] then
/// answers `Malformed` with it.
pub fn detect(value: &str) -> Option<LegacyFormat> {
    let v = value.trim();
    if v.starts_with("$argon2") {
        return Some(LegacyFormat::Argon2);
    }
    if ["$2a$", "$2b$", "$2y$", "$2x$"]
        .iter()
        .any(|p| v.starts_with(p))
    {
        return Some(LegacyFormat::Bcrypt);
    }
    if ["$pbkdf2$", "$pbkdf2-sha256$", "$pbkdf2-sha512$"]
        .iter()
        .any(|p| v.starts_with(p))
    {
        return Some(LegacyFormat::Passlib);
    }
    if v.starts_with(TAG_PREFIX) || (v.len() == 128 && v.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Some(LegacyFormat::Pbkdf2Hex);
    }
    let (head, _) = v.split_once('$')?;
    match head {
        "pbkdf2_sha256" | "pbkdf2_sha1" | "argon2" | "bcrypt_sha256" | "bcrypt" => {
            Some(LegacyFormat::Django)
        }
        // Both frameworks call it "scrypt": Django's has six `$` fields, Werkzeug's three.
        "scrypt" if v.split('$').count() == 6 => Some(LegacyFormat::Django),
        _ if head == "pbkdf2"
            || head == "scrypt"
            || head.starts_with("pbkdf2:")
            || head.starts_with("scrypt:") =>
        {
            Some(LegacyFormat::Werkzeug)
        }
        _ => None,
    }
}

/// Turns a value from a legacy password column into what Gatehouse stores: a self-describing
/// hash string that `verify` understands, or a plain password that the caller must hash before
/// storing. `format` None = auto-detect (never plain).
///
/// Hash values are trimmed (CHAR columns pad them; no format contains whitespace), fully
/// parsed and checked against the cost limits, so that what is stored always verifies in
/// bounded time. A plain-text value is taken exactly as it is.
pub fn import(
    value: &str,
    format: Option<LegacyFormat>,
    settings: &Pbkdf2HexSettings,
) -> Result<Imported, Rejected> {
    if format == Some(LegacyFormat::Plain) {
        if value.is_empty() {
            return Err(Rejected::Empty);
        }
        return Ok(Imported::PlainPassword(value.to_owned()));
    }
    let v = value.trim();
    if v.is_empty() {
        return Err(Rejected::Empty);
    }
    let format = match format {
        Some(format) => format,
        None => detect(v).ok_or(Rejected::Unrecognised)?,
    };
    if v.len() > MAX_STORED_LEN {
        return Err(Rejected::Malformed(format));
    }
    if format == LegacyFormat::Pbkdf2Hex && !v.starts_with(TAG_PREFIX) {
        return tag_seed003_hex(v, settings).map(Imported::Hash);
    }
    Ok(Imported::Hash(match parse(v, format)? {
        // Django's argon2 encoding is "argon2" followed by a PHC string: store the PHC string,
        // which the argon2 verifier (and the rehash check) understand directly.
        Parsed::Argon2(phc) => phc.to_owned(),
        _ => v.to_owned(),
    }))
}

/// Verifies a password against a stored non-argon2 hash string produced by `import` (bcrypt,
/// werkzeug, passlib, django, and Gatehouse's own tagged form of seed 003's bare hex).
/// Constant-time comparison. Returns false for anything unparseable.
///
/// Also false for argon2 PHC strings (the password module verifies those, in its reusable
/// work area) and for a bare seed 003 hex value, which lacks its salt and iterations.
pub fn verify(stored: &str, password: &str) -> bool {
    let stored = stored.trim();
    if stored.len() > MAX_STORED_LEN {
        return false;
    }
    let Some(format) = detect(stored) else {
        return false;
    };
    let Ok(parsed) = parse(stored, format) else {
        return false;
    };
    let password = password.as_bytes();
    match parsed {
        Parsed::Argon2(_) => false,
        Parsed::Bcrypt { hash, sha256_hex } => {
            if sha256_hex {
                // Django's bcrypt_sha256: bcrypt of the lowercase hex SHA-256 of the password.
                let digest = hex_lower(&Sha256::digest(password));
                bcrypt::verify(digest.as_bytes(), hash).unwrap_or(false)
            } else {
                // The crate truncates past 72 bytes, as every bcrypt (and pyca/bcrypt < 5) did
                // when the row was written; its comparison is constant-time.
                bcrypt::verify(password, hash).unwrap_or(false)
            }
        }
        Parsed::Pbkdf2 { ref expected, .. } | Parsed::Scrypt { ref expected, .. } => {
            derive_key(&parsed, password)
                .is_some_and(|derived| constant_time_eq(&derived, expected))
        }
    }
}

/// The key a PBKDF2 or scrypt hash derives from `password`, as long as the stored one; `None`
/// for the other formats.
fn derive_key(parsed: &Parsed<'_>, password: &[u8]) -> Option<Vec<u8>> {
    match parsed {
        Parsed::Pbkdf2 {
            digest,
            iterations,
            salt,
            expected,
        } => {
            let mut derived = vec![0u8; expected.len()];
            digest.pbkdf2(password, salt, *iterations, &mut derived);
            Some(derived)
        }
        Parsed::Scrypt {
            params,
            salt,
            expected,
        } => {
            let mut derived = vec![0u8; expected.len()];
            scrypt::scrypt(password, salt, params, &mut derived).ok()?;
            Some(derived)
        }
        Parsed::Argon2(_) | Parsed::Bcrypt { .. } => None,
    }
}

#[cfg(test)]
mod tests;
