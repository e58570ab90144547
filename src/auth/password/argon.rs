//! argon2 itself, run in a worker's reusable work area: hashing new passwords, verifying
//! stored PHC strings of any argon2 variant, and telling which stored hashes are outdated.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::{HashError, WorkArea, OWASP_MEMORY_KIB};
use crate::auth::legacy_hash::{self, wrap};

/// Runs argon2 in `memory`, growing it once to the standard size. A stored hash with bigger
/// parameters than the work area (an imported legacy hash) gets a temporary area instead.
pub(super) fn argon2_into(
    memory: &mut WorkArea,
    argon: &Argon2<'_>,
    blocks: usize,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    const STANDARD_BLOCKS: usize = OWASP_MEMORY_KIB as usize;
    if blocks > memory.len().max(STANDARD_BLOCKS) {
        let mut temporary = vec![Block::default(); blocks];
        return argon
            .hash_password_into_with_memory(password, salt, out, &mut temporary[..])
            .is_ok();
    }
    if memory.len() < blocks {
        memory.resize(STANDARD_BLOCKS.max(blocks), Block::default());
    }
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
        .is_ok()
}

pub(super) fn hash_with(
    memory: &mut WorkArea,
    params: &Params,
    password: impl AsRef<[u8]>,
) -> Result<String, HashError> {
    let internal = |e: argon2::password_hash::Error| HashError::Internal(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(internal)?;
    let mut out = [0u8; 32];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    if !argon2_into(
        memory,
        &argon,
        params.block_count(),
        password.as_ref(),
        salt_bytes,
        &mut out,
    ) {
        return Err(HashError::Internal("argon2 failed".into()));
    }
    let output = Output::new(&out).map_err(internal)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        output
    ))
}

/// Argon2 PHC strings are verified here, in the worker's work area, and so are wrapped legacy
/// hashes (the legacy digest of the password against their argon2id, see
/// [`crate::auth::legacy_hash::wrap`]); every other format by
/// [`crate::auth::legacy_hash::verify`], which is false for anything it cannot parse.
pub(super) fn verify_stored(memory: &mut WorkArea, stored: &str, password: &str) -> bool {
    if stored.starts_with("$argon2") {
        verify_with(memory, stored, password)
    } else if stored.starts_with(wrap::WRAP_PREFIX) {
        wrap::derive(stored, password).is_some_and(|(digest, phc)| verify_with(memory, phc, digest))
    } else {
        legacy_hash::verify(stored, password)
    }
}

/// An imported legacy hash with its digest wrapped in argon2id ([`wrap`]); argon2 hashes
/// and anything unparseable come back unchanged.
pub(super) fn wrap_legacy(
    memory: &mut WorkArea,
    params: &Params,
    stored: String,
) -> Result<String, HashError> {
    match wrap::split(&stored) {
        Some(split) => {
            let phc = hash_with(memory, params, &split.digest)?;
            Ok(wrap::wrapped(&split.blanked, &phc))
        }
        None => Ok(stored),
    }
}

/// Whether `stored` is what [`hash_with`] makes now: argon2id, version 0x13, the same m, t and
/// p, and a 32-byte output. Anything else is upgraded at the next successful login.
pub(super) fn is_current(stored: &str, params: &Params) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(stored_params) = Params::try_from(&hash) else {
        return false;
    };
    hash.algorithm == Algorithm::Argon2id.ident()
        && hash.version == Some(Version::V0x13 as u32)
        && stored_params.m_cost() == params.m_cost()
        && stored_params.t_cost() == params.t_cost()
        && stored_params.p_cost() == params.p_cost()
        && hash.hash.is_some_and(|output| output.len() == 32)
}

/// The parameters are read from the stored PHC string (argon2id, argon2i or argon2d), so older
/// hashes keep verifying. The comparison is constant-time (`Output`'s `==`).
///
/// Costs beyond the import limits never verify: the import refuses such hashes, and one written
/// into the database some other way must not make every login for it allocate hundreds of MiB.
pub(super) fn verify_with(memory: &mut WorkArea, stored: &str, password: impl AsRef<[u8]>) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    if !legacy_hash::argon2_affordable(&params) {
        tracing::warn!(
            m_cost_kib = params.m_cost(),
            t_cost = params.t_cost(),
            "a stored argon2 hash exceeds the cost limits and cannot verify"
        );
        return false;
    }
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    argon2_into(
        memory,
        &argon,
        params.block_count(),
        password.as_ref(),
        salt_bytes,
        &mut out,
    ) && Output::new(&out).is_ok_and(|computed| computed == expected)
}

pub(super) fn random_password() -> String {
    crate::secrets::random_token(32)
}
