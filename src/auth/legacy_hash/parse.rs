//! Parsing each legacy format far enough to verify it, and the key derivations themselves.

use super::*;

/// Whether an argon2 hash's costs are within the import limits.
pub(crate) fn argon2_affordable(params: &argon2::Params) -> bool {
    params.m_cost() <= MAX_ARGON2_MEMORY_KIB
        && u64::from(params.m_cost()) * u64::from(params.t_cost()) <= MAX_ARGON2_WORK_KIB
}

/// A stored value, parsed far enough to verify it.
pub(super) enum Parsed<'a> {
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
pub(super) fn parse(v: &str, format: LegacyFormat) -> Result<Parsed<'_>, Rejected> {
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

pub(super) fn parse_argon2(v: &str, format: LegacyFormat) -> Result<Parsed<'_>, Rejected> {
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
pub(super) fn parse_bcrypt(
    v: &str,
    format: LegacyFormat,
    sha256_hex: bool,
) -> Result<Parsed<'_>, Rejected> {
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
pub(super) fn parse_werkzeug(v: &str) -> Result<Parsed<'_>, Rejected> {
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
pub(super) fn parse_passlib(v: &str) -> Result<Parsed<'_>, Rejected> {
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
pub(super) fn parse_django(v: &str) -> Result<Parsed<'_>, Rejected> {
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
pub(super) fn parse_tagged_hex(v: &str) -> Result<Parsed<'_>, Rejected> {
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
pub(super) fn tag_seed003_hex(v: &str, settings: &Pbkdf2HexSettings) -> Result<String, Rejected> {
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
pub(super) fn decode_seed003_hex(hex: &str) -> Option<Vec<u8>> {
    decode_hex(hex).filter(|key| (16..=64).contains(&key.len()))
}

pub(super) fn pbkdf2_parsed(
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
pub(super) fn scrypt_parsed(
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
    // scrypt allocates 128·r·N bytes for its work area and 128·r·p for its blocks.
    if 128 * r64 * (n64 + p64) > MAX_SCRYPT_MEMORY_BYTES || n64 * r64 * p64 > MAX_SCRYPT_WORK {
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
pub(super) enum Digest {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub(super) fn from_hashlib_name(name: &str) -> Option<Self> {
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
    pub(super) fn len(self) -> usize {
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
    pub(super) fn pbkdf2(self, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
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
pub(super) fn parse_decimal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Hex of either case (Python writes lowercase).
pub(super) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16);
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? * 16 + nibble(pair[1])?) as u8))
        .collect()
}

pub(super) fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}
