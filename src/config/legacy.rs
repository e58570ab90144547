//! The lazy-migration settings: `LEGACY_DATABASE_URL`, `AUTH_TABLE` and the `LEGACY_*` names.

use super::env::{parse, parse_bool, parse_positive};
use super::ConfigError;
use crate::auth::legacy_hash::Pbkdf2HexSettings;
use crate::db_url::{normalise_database_url, redact_url};
use crate::legacy::ident::{Ident, TableName};
use crate::legacy::tokens::LegacyTokenSettings;
use crate::legacy::{parse_format, LegacySettings, LegacyTable};
use crate::time_format::parse_instant;

/// The legacy table for lazy migration, when `LEGACY_DATABASE_URL` is set. `AUTH_TABLE` alone
/// (seed 000 deployments carry it over) turns nothing on.
pub(super) fn legacy_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<LegacySettings>, ConfigError> {
    let Some(url) = get("LEGACY_DATABASE_URL") else {
        return Ok(None);
    };
    let url = normalise_database_url(url.trim());
    if !LegacySettings::supports_url(&url) {
        return Err(ConfigError::Invalid {
            name: "LEGACY_DATABASE_URL",
            value: redact_url(&url),
            reason: "a postgres://, mysql:// or sqlite:// URL",
        });
    }
    let table = get("AUTH_TABLE").ok_or(ConfigError::MissingAuthTable)?;
    let ident = |name: &'static str, what: &'static str, value: &str| {
        Ident::parse(value.trim(), what).map_err(|source| ConfigError::InvalidName { name, source })
    };
    let optional = |name: &'static str, what: &'static str| {
        get(name).map(|v| ident(name, what, &v)).transpose()
    };
    let required = |name: &'static str, what: &'static str, default: &str| {
        ident(name, what, get(name).as_deref().unwrap_or(default))
    };
    let table = LegacyTable {
        table: TableName::parse(table.trim()).map_err(|source| ConfigError::InvalidName {
            name: "AUTH_TABLE",
            source,
        })?,
        email: required("LEGACY_EMAIL_COLUMN", "email column", "email")?,
        password: required("LEGACY_PASSWORD_COLUMN", "password column", "password")?,
        name: optional("LEGACY_NAME_COLUMN", "name column")?,
        username: optional("LEGACY_USERNAME_COLUMN", "username column")?,
        admin: optional("LEGACY_ADMIN_COLUMN", "admin column")?,
    };
    let format = match get("LEGACY_PASSWORD_FORMAT") {
        None => None,
        Some(value) => parse_format(&value).map_err(|_| ConfigError::Invalid {
            name: "LEGACY_PASSWORD_FORMAT",
            value,
            reason: "one of auto, plain, bcrypt, werkzeug, passlib, django, pbkdf2-hex, argon2",
        })?,
    };
    let defaults = Pbkdf2HexSettings::default();
    let iterations: u32 = parse(
        get,
        "LEGACY_PBKDF2_ITERATIONS",
        Some(defaults.iterations),
        "a whole number from 1 to 4294967295",
    )?;
    if iterations == 0 {
        return Err(ConfigError::Invalid {
            name: "LEGACY_PBKDF2_ITERATIONS",
            value: "0".into(),
            reason: "a whole number from 1 to 4294967295",
        });
    }
    Ok(Some(LegacySettings {
        url,
        table,
        format,
        admin_default: parse_bool(get, "LEGACY_ADMIN_DEFAULT", false)?,
        pbkdf2: Pbkdf2HexSettings {
            // Taken byte for byte as set, not trimmed: a salt may contain spaces.
            salt: get("LEGACY_PBKDF2_SALT").map_or(defaults.salt, String::into_bytes),
            iterations,
        },
    }))
}

/// `ACCEPT_LEGACY_TOKENS` and its bounds: `LEGACY_TOKENS_ISSUED_BEFORE` (default: the first
/// start with the setting on), `LEGACY_TOKEN_MAX_AGE_SECS` (default one day, what the seeds
/// issued) and `LEGACY_TOKENS_UNTIL` (default: when the last token issued before the switch
/// has expired).
pub(super) fn legacy_token_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<LegacyTokenSettings>, ConfigError> {
    if !parse_bool(get, "ACCEPT_LEGACY_TOKENS", false)? {
        return Ok(None);
    }
    let instant = |name: &'static str| {
        get(name)
            .map(|value| {
                parse_instant(&value).ok_or(ConfigError::Invalid {
                    name,
                    value,
                    reason: "Unix seconds or an RFC 3339 date-time such as 2026-12-01T00:00:00Z",
                })
            })
            .transpose()
    };
    Ok(Some(LegacyTokenSettings {
        issued_before: instant("LEGACY_TOKENS_ISSUED_BEFORE")?,
        max_age_secs: parse_positive(get, "LEGACY_TOKEN_MAX_AGE_SECS", 86_400)?
            .try_into()
            .unwrap_or(i64::MAX),
        until: instant("LEGACY_TOKENS_UNTIL")?,
    }))
}
