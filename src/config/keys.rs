//! The signing-key settings: `JWT_ALGORITHM`, `KEY_ENCRYPTION_KEY`, `JWT_PRIVATE_KEY_FILE`,
//! `JWKS_MAX_AGE_SECS`, `JWT_KEY_ROTATION_DAYS`, `WEAK_SECRET_SIGNS_UNTIL`, and `PUBLIC_URL`
//! (discovery's base URL).

use std::path::PathBuf;

use super::env::{parse, parse_positive};
use super::ConfigError;
use crate::auth::keys::{KeyEncryptionKey, KeySettings, SigningAlgorithm};
use crate::time_format::parse_instant;

/// A JWKS may be cached at most a day: a new key waits this long before it signs.
const MAX_JWKS_MAX_AGE_SECS: u64 = 86_400;

/// What signs when `JWT_ALGORITHM` is HS256 but the secret is weak: anyone who cracks a weak
/// secret offline from one token could forge any token, admin claims included, so it no
/// longer signs (after `WEAK_SECRET_SIGNS_UNTIL`, if set) and a generated Ed25519 key does.
pub const STRONG_ALGORITHM_FOR_A_WEAK_SECRET: SigningAlgorithm = SigningAlgorithm::EdDsa;

/// `weak_secret`: the configured `JWT_SECRET` is shorter than 32 bytes (`ALLOW_WEAK_SECRET`).
pub(super) fn key_settings(
    get: &impl Fn(&str) -> Option<String>,
    weak_secret: bool,
) -> Result<KeySettings, ConfigError> {
    let configured = parse(
        get,
        "JWT_ALGORITHM",
        Some(SigningAlgorithm::Hs256),
        "HS256, EdDSA, ES256 or RS256",
    )?;
    let signs_until = get("WEAK_SECRET_SIGNS_UNTIL")
        .map(|value| {
            parse_instant(&value).ok_or(ConfigError::Invalid {
                name: "WEAK_SECRET_SIGNS_UNTIL",
                value,
                reason: "Unix seconds or an RFC 3339 date-time such as 2027-03-01T00:00:00Z",
            })
        })
        .transpose()?;
    let weak_hs256 = weak_secret && configured == SigningAlgorithm::Hs256;
    let algorithm = match weak_hs256 {
        true => STRONG_ALGORITHM_FOR_A_WEAK_SECRET,
        false => configured,
    };
    let encryption =
        match get("KEY_ENCRYPTION_KEY") {
            None => None,
            Some(value) => Some(value.parse::<KeyEncryptionKey>().map_err(|_| {
                ConfigError::Invalid {
                    name: "KEY_ENCRYPTION_KEY",
                    value: "(redacted)".into(),
                    reason: "32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)",
                }
            })?),
        };
    let private_key_file = get("JWT_PRIVATE_KEY_FILE").map(|path| PathBuf::from(path.trim()));
    if private_key_file.is_some() && !configured.is_asymmetric() {
        return Err(ConfigError::Invalid {
            name: "JWT_ALGORITHM",
            value: configured.name().into(),
            reason: "EdDSA, ES256 or RS256, the algorithm of the key in JWT_PRIVATE_KEY_FILE",
        });
    }
    let jwks_max_age_secs = parse_positive(get, "JWKS_MAX_AGE_SECS", 600)?;
    if jwks_max_age_secs > MAX_JWKS_MAX_AGE_SECS {
        return Err(ConfigError::Invalid {
            name: "JWKS_MAX_AGE_SECS",
            value: jwks_max_age_secs.to_string(),
            reason: "a number of seconds from 1 to 86400",
        });
    }
    let rotation_days = match get("JWT_KEY_ROTATION_DAYS") {
        None => None,
        Some(_) => Some(parse_positive(get, "JWT_KEY_ROTATION_DAYS", 1)?),
    };
    Ok(KeySettings {
        algorithm,
        encryption,
        private_key_file,
        jwks_max_age_secs: jwks_max_age_secs as i64,
        rotation_days,
        // Only a weak secret that HS256 would sign with has anything to sign until.
        weak_secret_signs_until: signs_until.filter(|_| weak_hs256),
    })
}

/// `PUBLIC_URL`: where clients reach Gatehouse (`https://auth.example.com`), without a
/// trailing slash; discovery documents build their URLs on it.
pub(super) fn public_url(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let Some(url) = get("PUBLIC_URL") else {
        return Ok(None);
    };
    let trimmed = url.trim().trim_end_matches('/');
    let valid = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && !trimmed.contains(['?', '#', ' '])
        && trimmed
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty());
    if !valid {
        return Err(ConfigError::Invalid {
            name: "PUBLIC_URL",
            value: url,
            reason: "an http:// or https:// URL without query or fragment",
        });
    }
    Ok(Some(trimmed.to_owned()))
}
