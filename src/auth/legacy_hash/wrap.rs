//! Wrapping an imported legacy hash, so that a stolen database does not expose the weak
//! format: the legacy digest is kept only under argon2id.
//!
//! ```text
//! $gatehouse-wrap$<the legacy hash with its digest blanked, base64>$<argon2id PHC of the digest>
//! ```
//!
//! Verifying computes the legacy digest of the password with the legacy parameters and salt
//! (kept in the blanked hash), then checks it against the argon2id PHC string. A guess costs
//! the legacy KDF and argon2id; the database holds nothing the legacy format's crackers can
//! use. The user's first successful login replaces it by a plain argon2id hash, as for any
//! legacy hash. Argon2 hashes are not wrapped: they are no weak format.

use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

use super::*;

pub const WRAP_PREFIX: &str = "$gatehouse-wrap$";
/// bcrypt's hash part: the last 31 characters of its 60.
const BCRYPT_HASH_CHARS: usize = 31;

/// A legacy hash split for wrapping: the hash with its digest blanked, and the digest.
pub struct Split {
    pub blanked: String,
    pub digest: Vec<u8>,
}

/// Splits an imported legacy hash (what [`import`] stored) for wrapping; `None` for argon2
/// (not wrapped) and for anything that does not parse.
pub fn split(stored: &str) -> Option<Split> {
    let stored = stored.trim();
    let format = detect(stored)?;
    let parsed = parse(stored, format).ok()?;
    let (blanked, digest) = match parsed {
        Parsed::Argon2(_) => return None,
        Parsed::Bcrypt { hash, .. } => {
            let cut = stored.len().checked_sub(BCRYPT_HASH_CHARS)?;
            let digest = hash.get(hash.len().checked_sub(BCRYPT_HASH_CHARS)?..)?;
            // '.' is zero in bcrypt's alphabet.
            let blanked = format!("{}{}", stored.get(..cut)?, ".".repeat(BCRYPT_HASH_CHARS));
            (blanked, digest.as_bytes().to_vec())
        }
        Parsed::Pbkdf2 { expected, .. } | Parsed::Scrypt { expected, .. } => {
            let (head, encoded) = stored.rsplit_once('$')?;
            // A digit or letter standing for zero in the digest's own encoding, so that the
            // blanked hash still parses: hex for Werkzeug and seed 003, base64 otherwise.
            let zero = match format {
                LegacyFormat::Werkzeug | LegacyFormat::Pbkdf2Hex => '0',
                _ => 'A',
            };
            let blank: String = encoded
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { zero } else { c })
                .collect();
            (format!("{head}${blank}"), expected)
        }
    };
    // The blanked hash must still parse, or verifying it later could not work.
    parse(&blanked, format).ok()?;
    Some(Split { blanked, digest })
}

/// The stored form: `blanked` and the argon2id PHC string of its digest.
pub fn wrapped(blanked: &str, digest_phc: &str) -> String {
    format!("{WRAP_PREFIX}{}${digest_phc}", B64.encode(blanked))
}

/// The legacy digest of `password` under a wrapped hash's parameters, and the PHC string to
/// check it against; `None` when `stored` is not a well-formed wrapped hash.
pub fn derive<'a>(stored: &'a str, password: &str) -> Option<(Vec<u8>, &'a str)> {
    let rest = stored.trim().strip_prefix(WRAP_PREFIX)?;
    let (blanked, phc) = rest.split_once('$')?;
    let blanked = String::from_utf8(B64.decode(blanked).ok()?).ok()?;
    if blanked.len() > MAX_STORED_LEN {
        return None;
    }
    let format = detect(&blanked)?;
    let password = password.as_bytes();
    let parsed = parse(&blanked, format).ok()?;
    let digest = match parsed {
        Parsed::Argon2(_) => return None,
        Parsed::Bcrypt { hash, sha256_hex } => {
            let cost: u32 = hash.get(4..6)?.parse().ok()?;
            let salt = base64::engine::GeneralPurpose::new(&alphabet::BCRYPT, LENIENT)
                .decode(hash.get(7..29)?)
                .ok()?;
            let salt: [u8; 16] = salt.get(..16)?.try_into().ok()?;
            let hashed = if sha256_hex {
                let digest = hex_lower(&Sha256::digest(password));
                bcrypt::hash_with_salt(digest.as_bytes(), cost, salt)
            } else {
                bcrypt::hash_with_salt(password, cost, salt)
            };
            let full = hashed.ok()?.to_string();
            full.get(full.len().checked_sub(BCRYPT_HASH_CHARS)?..)?
                .as_bytes()
                .to_vec()
        }
        other => derive_key(&other, password)?,
    };
    Some((digest, phc))
}
