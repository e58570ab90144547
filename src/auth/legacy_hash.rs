//! Legacy password formats: detecting, importing and verifying what the seed services stored.
//!
//! The seeds and the Python frameworks they were built on stored bcrypt, Werkzeug, passlib,
//! Django, hex PBKDF2 or plain text; their users must log in unchanged after the switch, and
//! are then upgraded to argon2id (by `auth::login`).
//!
//! Pure functions, no I/O. [`import`] turns a value from a legacy password column into what
//! Gatehouse stores; [`verify`] checks a password against any non-argon2 string `import`
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
//! of work. Above these limits `import` answers [`Rejected::TooExpensive`] and `verify` false,
//! so no row can pin a hashing worker for more than a few seconds. Each limit is well above
//! what the reference libraries write by default.
//!
//! | what | limit | reference defaults |
//! |---|---|---|
//! | bcrypt cost | [`MAX_BCRYPT_COST`] = 16 | 12 |
//! | PBKDF2 iterations | [`MAX_PBKDF2_ITERATIONS`] = 10,000,000 | Werkzeug/Django 1,000,000, passlib 29,000 |
//! | scrypt memory 128·N·r | [`MAX_SCRYPT_MEMORY_BYTES`] = 128 MiB | Werkzeug 32 MiB, Django 16 MiB |
//! | scrypt work N·r·p | [`MAX_SCRYPT_WORK`] = 2²² | Werkzeug 2¹⁸, Django 5·2¹⁷ |
//! | argon2 memory | [`MAX_ARGON2_MEMORY_KIB`] = 256 MiB | argon2-cffi 64 MiB, Django 100 MiB |
//! | argon2 work m·t | [`MAX_ARGON2_WORK_KIB`] = 2²⁰ KiB-passes | argon2-cffi 3·64 MiB |
//!
//! PBKDF2 and scrypt outputs must also be exactly as long as the reference libraries make
//! them (the digest size; 64 bytes for scrypt), which both bounds PBKDF2's work and rejects
//! truncated values that would match too easily.
//!
//! Every comparison of a derived key with the stored one is constant-time
//! ([`constant_time_eq`]); bcrypt's is the `bcrypt` crate's own constant-time check.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::PasswordHash;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha224, Sha256};

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

pub const MAX_BCRYPT_COST: u32 = 16;
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
pub const MAX_SCRYPT_MEMORY_BYTES: u64 = 128 * 1024 * 1024;
pub const MAX_SCRYPT_WORK: u64 = 1 << 22;
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
pub const MAX_ARGON2_WORK_KIB: u64 = 1 << 20;
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
        Parsed::Pbkdf2 {
            digest,
            iterations,
            salt,
            expected,
        } => {
            let mut derived = vec![0u8; expected.len()];
            digest.pbkdf2(password, &salt, iterations, &mut derived);
            constant_time_eq(&derived, &expected)
        }
        Parsed::Scrypt {
            params,
            salt,
            expected,
        } => {
            let mut derived = vec![0u8; expected.len()];
            scrypt::scrypt(password, salt, &params, &mut derived).is_ok()
                && constant_time_eq(&derived, &expected)
        }
    }
}

/// Compares two byte strings in time independent of their contents and lengths.
///
/// Both sides are MACed first and the tags compared with `Mac::verify_slice`, which is
/// constant-time (the `subtle` crate). The extra MAC ("double HMAC") also leaves the optimiser
/// no early exit to find, and hides the lengths. The key need not be secret: it only has to
/// be fixed, so that equal inputs give equal tags. (ring's `constant_time` module is deprecated
/// and disclaims side-channel promises, hence not used.)
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    const KEY: &[u8] = b"gatehouse constant-time comparison";
    let tag = |data: &[u8]| {
        <Hmac<Sha256> as Mac>::new_from_slice(KEY).map(|mut mac| {
            mac.update(data);
            mac
        })
    };
    match (tag(a), tag(b)) {
        (Ok(a), Ok(b)) => b.verify_slice(&a.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

/// Whether an argon2 hash's costs are within the import limits.
fn argon2_affordable(params: &argon2::Params) -> bool {
    params.m_cost() <= MAX_ARGON2_MEMORY_KIB
        && u64::from(params.m_cost()) * u64::from(params.t_cost()) <= MAX_ARGON2_WORK_KIB
}

/// A stored value, parsed far enough to verify it.
enum Parsed<'a> {
    /// A PHC string (for Django's form, the part after "argon2").
    Argon2(&'a str),
    Bcrypt {
        hash: &'a str,
        sha256_hex: bool,
    },
    Pbkdf2 {
        digest: Digest,
        iterations: u32,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
    Scrypt {
        params: scrypt::Params,
        salt: &'a [u8],
        expected: Vec<u8>,
    },
}

/// Parses `v` (already trimmed) as `format`, including the cost limits.
fn parse(v: &str, format: LegacyFormat) -> Result<Parsed<'_>, Rejected> {
    let malformed = Rejected::Malformed(format);
    match format {
        LegacyFormat::Argon2 => parse_argon2(v, format),
        LegacyFormat::Bcrypt => parse_bcrypt(v, format, false),
        LegacyFormat::Werkzeug => parse_werkzeug(v),
        LegacyFormat::Passlib => parse_passlib(v),
        LegacyFormat::Django => parse_django(v),
        LegacyFormat::Pbkdf2Hex => parse_tagged_hex(v),
        LegacyFormat::Plain => Err(malformed),
    }
}

fn parse_argon2(v: &str, format: LegacyFormat) -> Result<Parsed<'_>, Rejected> {
    let malformed = Rejected::Malformed(format);
    let hash = PasswordHash::new(v).map_err(|_| malformed.clone())?;
    argon2::Algorithm::try_from(hash.algorithm).map_err(|_| malformed.clone())?;
    if let Some(version) = hash.version {
        argon2::Version::try_from(version).map_err(|_| malformed.clone())?;
    }
    let params = argon2::Params::try_from(&hash).map_err(|_| malformed.clone())?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(malformed);
    }
    if !argon2_affordable(&params) {
        return Err(Rejected::TooExpensive(format));
    }
    Ok(Parsed::Argon2(v))
}

/// `$2b$12$` + 22 characters of salt + 31 of hash, in bcrypt's base64 alphabet. `$2x$` (the
/// name crypt_blowfish gave to hashes made by its pre-2011 sign-extension bug) is verified as
/// `$2b$`: correct for ASCII passwords; a non-ASCII password under `$2x$` simply fails.
fn parse_bcrypt(v: &str, format: LegacyFormat, sha256_hex: bool) -> Result<Parsed<'_>, Rejected> {
    let malformed = Rejected::Malformed(format);
    let bytes = v.as_bytes();
    let well_formed = bytes.len() == 60
        && matches!(&bytes[..4], b"$2a$" | b"$2b$" | b"$2y$" | b"$2x$")
        && bytes[4..6].iter().all(u8::is_ascii_digit)
        && bytes[6] == b'$'
        && bytes[7..].iter().all(|b| BCRYPT_ALPHABET.contains(b));
    if !well_formed {
        return Err(malformed);
    }
    let cost: u32 = v[4..6].parse().map_err(|_| malformed.clone())?;
    if cost < 4 {
        return Err(malformed);
    }
    if cost > MAX_BCRYPT_COST {
        return Err(Rejected::TooExpensive(format));
    }
    Ok(Parsed::Bcrypt {
        hash: v,
        sha256_hex,
    })
}

/// Werkzeug's `generate_password_hash`: `METHOD$SALT$HEX`, with the salt used as its UTF-8
/// bytes (never decoded) and the hex being the whole derived key. The defaults for a method
/// written without arguments are Werkzeug 3.1's (`werkzeug/security.py`, `_hash_internal`):
/// `pbkdf2` = sha256 with 1,000,000 iterations, `scrypt` = N 2^15, r 8, p 1. Werkzeug itself
/// always writes the arguments out, so these matter only for hand-made rows.
fn parse_werkzeug(v: &str) -> Result<Parsed<'_>, Rejected> {
    const FORMAT: LegacyFormat = LegacyFormat::Werkzeug;
    let malformed = || Rejected::Malformed(FORMAT);
    let mut fields = v.splitn(3, '$');
    let (Some(method), Some(salt), Some(hex)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed());
    };
    let expected = decode_hex(hex).ok_or_else(malformed)?;
    let mut args = method.split(':');
    match (
        args.next(),
        args.next(),
        args.next(),
        args.next(),
        args.next(),
    ) {
        (Some("pbkdf2"), digest, iterations, None, None) => {
            let digest = match digest {
                None => Digest::Sha256,
                Some(name) => Digest::from_hashlib_name(name).ok_or_else(malformed)?,
            };
            let iterations = match iterations {
                None => 1_000_000,
                Some(n) => parse_decimal(n).ok_or_else(malformed)?,
            };
            pbkdf2_parsed(
                FORMAT,
                digest,
                iterations,
                salt.as_bytes().to_vec(),
                expected,
            )
        }
        (Some("scrypt"), None, None, None, None) => {
            scrypt_parsed(FORMAT, 1 << 15, 8, 1, salt.as_bytes(), expected)
        }
        (Some("scrypt"), Some(n), Some(r), Some(p), None) => {
            let [n, r, p] = [n, r, p].map(parse_decimal);
            let (Some(n), Some(r), Some(p)) = (n, r, p) else {
                return Err(malformed());
            };
            scrypt_parsed(FORMAT, n, r, p, salt.as_bytes(), expected)
        }
        _ => Err(malformed()),
    }
}

/// passlib's `$pbkdf2-sha256$ROUNDS$SALT$CHECKSUM`, salt and checksum in its "adapted base64"
/// (`.` for `+`, no padding). `$pbkdf2$` is its sha1 variant.
fn parse_passlib(v: &str) -> Result<Parsed<'_>, Rejected> {
    const FORMAT: LegacyFormat = LegacyFormat::Passlib;
    let malformed = || Rejected::Malformed(FORMAT);
    let fields: Vec<&str> = v.split('$').collect();
    let ["", ident, rounds, salt, checksum] = fields[..] else {
        return Err(malformed());
    };
    let digest = match ident {
        "pbkdf2" => Digest::Sha1,
        "pbkdf2-sha256" => Digest::Sha256,
        "pbkdf2-sha512" => Digest::Sha512,
        _ => return Err(malformed()),
    };
    let iterations = parse_decimal(rounds).ok_or_else(malformed)?;
    let ab64 = |s: &str| STANDARD_LENIENT.decode(s.replace('.', "+")).ok();
    let salt = ab64(salt).ok_or_else(malformed)?;
    let expected = ab64(checksum).ok_or_else(malformed)?;
    pbkdf2_parsed(FORMAT, digest, iterations, salt, expected)
}

/// Django's `ALGORITHM$…` encodings, one per hasher in its default `PASSWORD_HASHERS`
/// (`django/contrib/auth/hashers.py`): salts are used as their UTF-8 text, hashes are
/// standard base64.
fn parse_django(v: &str) -> Result<Parsed<'_>, Rejected> {
    const FORMAT: LegacyFormat = LegacyFormat::Django;
    let malformed = || Rejected::Malformed(FORMAT);
    let (algorithm, rest) = v.split_once('$').ok_or_else(malformed)?;
    let b64 = |s: &str| STANDARD_LENIENT.decode(s).ok();
    match algorithm {
        "pbkdf2_sha256" | "pbkdf2_sha1" => {
            let digest = if algorithm == "pbkdf2_sha256" {
                Digest::Sha256
            } else {
                Digest::Sha1
            };
            let fields: Vec<&str> = rest.split('$').collect();
            let [iterations, salt, hash] = fields[..] else {
                return Err(malformed());
            };
            let iterations = parse_decimal(iterations).ok_or_else(malformed)?;
            let expected = b64(hash).ok_or_else(malformed)?;
            pbkdf2_parsed(
                FORMAT,
                digest,
                iterations,
                salt.as_bytes().to_vec(),
                expected,
            )
        }
        // "argon2" + "$argon2id$v=19$…": the rest is a standard PHC string.
        "argon2" => parse_argon2(&v["argon2".len()..], FORMAT),
        "bcrypt_sha256" | "bcrypt" => {
            // "bcrypt_sha256$" + "$2b$12$…": the rest, after the empty field, is the bcrypt hash.
            parse_bcrypt(rest, FORMAT, algorithm == "bcrypt_sha256")
        }
        "scrypt" => {
            let fields: Vec<&str> = rest.split('$').collect();
            let [n, salt, r, p, hash] = fields[..] else {
                return Err(malformed());
            };
            let [n, r, p] = [n, r, p].map(parse_decimal);
            let (Some(n), Some(r), Some(p)) = (n, r, p) else {
                return Err(malformed());
            };
            let expected = b64(hash).ok_or_else(malformed)?;
            scrypt_parsed(FORMAT, n, r, p, salt.as_bytes(), expected)
        }
        _ => Err(malformed()),
    }
}

/// Gatehouse's `$gatehouse-pbkdf2-hex$i=N$SALT$HEX` (see the module documentation).
fn parse_tagged_hex(v: &str) -> Result<Parsed<'_>, Rejected> {
    const FORMAT: LegacyFormat = LegacyFormat::Pbkdf2Hex;
    let malformed = || Rejected::Malformed(FORMAT);
    let fields: Vec<&str> = v.split('$').collect();
    let ["", "gatehouse-pbkdf2-hex", iterations, salt, hex] = fields[..] else {
        return Err(malformed());
    };
    let iterations = iterations
        .strip_prefix("i=")
        .and_then(parse_decimal)
        .ok_or_else(malformed)?;
    let salt = STANDARD_NO_PAD.decode(salt).map_err(|_| malformed())?;
    let expected = decode_seed003_hex(hex).ok_or_else(malformed)?;
    pbkdf2_parsed(FORMAT, Digest::Sha256, iterations, salt, expected)
}

/// A bare seed 003 value becomes the tagged form, with the settings in force now.
fn tag_seed003_hex(v: &str, settings: &Pbkdf2HexSettings) -> Result<String, Rejected> {
    const FORMAT: LegacyFormat = LegacyFormat::Pbkdf2Hex;
    let expected = decode_seed003_hex(v).ok_or(Rejected::Malformed(FORMAT))?;
    if settings.iterations == 0 {
        return Err(Rejected::Malformed(FORMAT));
    }
    if settings.iterations > MAX_PBKDF2_ITERATIONS {
        return Err(Rejected::TooExpensive(FORMAT));
    }
    Ok(format!(
        "{TAG_PREFIX}i={}${}${}",
        settings.iterations,
        STANDARD_NO_PAD.encode(&settings.salt),
        hex_lower(&expected)
    ))
}

/// Seed 003 stored 64 bytes (128 hex digits); other key lengths are accepted when the format
/// is named explicitly, from 16 bytes (below that a wrong password could match by chance)
/// to 64 (each 32 bytes more is another full PBKDF2 run).
fn decode_seed003_hex(hex: &str) -> Option<Vec<u8>> {
    decode_hex(hex).filter(|key| (16..=64).contains(&key.len()))
}

fn pbkdf2_parsed(
    format: LegacyFormat,
    digest: Digest,
    iterations: u32,
    salt: Vec<u8>,
    expected: Vec<u8>,
) -> Result<Parsed<'static>, Rejected> {
    // Seed 003's key is two SHA-256 blocks long; every other format's is one digest.
    let length_ok = if format == LegacyFormat::Pbkdf2Hex {
        (16..=64).contains(&expected.len())
    } else {
        expected.len() == digest.len()
    };
    if !length_ok || iterations == 0 {
        return Err(Rejected::Malformed(format));
    }
    if iterations > MAX_PBKDF2_ITERATIONS {
        return Err(Rejected::TooExpensive(format));
    }
    Ok(Parsed::Pbkdf2 {
        digest,
        iterations,
        salt,
        expected,
    })
}

/// Werkzeug's and Django's scrypt: `hashlib.scrypt(pw, salt=SALT, n, r, p, dklen=64)`.
fn scrypt_parsed(
    format: LegacyFormat,
    n: u32,
    r: u32,
    p: u32,
    salt: &[u8],
    expected: Vec<u8>,
) -> Result<Parsed<'_>, Rejected> {
    let malformed = Rejected::Malformed(format);
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 || expected.len() != 64 {
        return Err(malformed);
    }
    let (n64, r64, p64) = (u64::from(n), u64::from(r), u64::from(p));
    if 128 * n64 * r64 > MAX_SCRYPT_MEMORY_BYTES || n64 * r64 * p64 > MAX_SCRYPT_WORK {
        return Err(Rejected::TooExpensive(format));
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| malformed.clone())?;
    let params = scrypt::Params::new(log_n, r, p, 64).map_err(|_| malformed)?;
    Ok(Parsed::Scrypt {
        params,
        salt,
        expected,
    })
}

/// The HMAC digests PBKDF2 runs on here: hashlib's names for those Werkzeug accepts, and
/// what passlib and Django use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digest {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn from_hashlib_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sha1" => Digest::Sha1,
            "sha224" => Digest::Sha224,
            "sha256" => Digest::Sha256,
            "sha384" => Digest::Sha384,
            "sha512" => Digest::Sha512,
            _ => return None,
        })
    }

    /// The output size, which is also the key length every reference library derives.
    fn len(self) -> usize {
        match self {
            Digest::Sha1 => 20,
            Digest::Sha224 => 28,
            Digest::Sha256 => 32,
            Digest::Sha384 => 48,
            Digest::Sha512 => 64,
        }
    }

    /// PBKDF2-HMAC into `out`. ring's implementation for the common digests: it is optimised
    /// in every build (its SHA cores are assembly), so default-cost vectors stay quick in
    /// debug tests too; the `pbkdf2` crate for SHA-224, which ring lacks. The parsers have
    /// already made sure `iterations` is at least 1.
    fn pbkdf2(self, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
        use ring::pbkdf2::{
            derive, PBKDF2_HMAC_SHA1, PBKDF2_HMAC_SHA256, PBKDF2_HMAC_SHA384, PBKDF2_HMAC_SHA512,
        };
        let Some(rounds) = std::num::NonZeroU32::new(iterations) else {
            return;
        };
        match self {
            Digest::Sha1 => derive(PBKDF2_HMAC_SHA1, rounds, salt, password, out),
            Digest::Sha224 => pbkdf2::pbkdf2_hmac::<Sha224>(password, salt, iterations, out),
            Digest::Sha256 => derive(PBKDF2_HMAC_SHA256, rounds, salt, password, out),
            Digest::Sha384 => derive(PBKDF2_HMAC_SHA384, rounds, salt, password, out),
            Digest::Sha512 => derive(PBKDF2_HMAC_SHA512, rounds, salt, password, out),
        }
    }
}

/// Digits only (no sign, no spaces), at least 1, fitting a u32.
fn parse_decimal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Hex of either case (Python writes lowercase).
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16);
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? * 16 + nibble(pair[1])?) as u8))
        .collect()
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
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
            "../../tests/fixtures/legacy_hashes/vectors.json"
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
                v.format == "pbkdf2-hex"
                    && v.settings.as_ref().is_some_and(|s| s.iterations == 1000)
            })
            .unwrap();
        let Ok(Imported::Hash(stored)) = import(&v.stored, None, &Pbkdf2HexSettings::default())
        else {
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
        assert!(import(&format!("$2b$16${}", "a".repeat(53)), None, &s).is_ok());
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

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
