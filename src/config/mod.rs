//! Typed configuration, parsed once from the environment (the seeds' variable names included).
//! Only the wiring (`app`, `cli`) reads it; everything below gets the values it needs.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::keys::KeySettings;
use crate::auth::lockout::LockoutPolicy;
use crate::auth::password::PasswordHasher;
use crate::legacy::ident::IdentError;
use crate::legacy::tokens::LegacyTokenSettings;
use crate::legacy::LegacySettings;
use crate::secrets::Secret;
use crate::validation::PasswordPolicy;
pub use connections::ConnectionLimits;
use connections::{connection_limits, shutdown_drain};
use database::database_url;
use env::{parse, parse_bool, parse_positive};
use legacy::{legacy_settings, legacy_token_settings};

mod connections;
mod database;
mod env;
mod keys;
mod legacy;
mod limits;

pub use limits::ClientLimits;

/// Secrets shorter than this are refused unless `ALLOW_WEAK_SECRET=true` (HS256 wants 256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// `None`: read `jwt_secret_file`, or on SQLite generate one into a file beside the
    /// database (see `app::signing_secret`).
    pub jwt_secret: Option<Secret>,
    /// `JWT_SECRET_FILE`: a file holding the signing secret.
    pub jwt_secret_file: Option<PathBuf>,
    pub allow_weak_secret: bool,
    pub host: IpAddr,
    pub port: u16,
    pub access_token_ttl: Duration,
    pub issuer: String,
    /// A refresh token's life; each refresh slides it forward, up to `refresh_token_max_ttl`
    /// after the login.
    pub refresh_token_ttl: Duration,
    pub refresh_token_max_ttl: Duration,
    /// An already-rotated refresh token presented again within this window gets the same
    /// successor (two tabs refreshing at once); later, it revokes the whole session.
    pub refresh_reuse_grace: Duration,
    /// Sessions a user may hold at once; a login beyond ends the oldest.
    pub max_sessions_per_user: u64,
    /// How often each process re-reads revocations and disabled users written by others.
    pub revocation_sync_interval: Duration,
    /// Threads that hash passwords (`HASH_WORKERS`; by default one per core but one).
    pub hash_workers: usize,
    /// Password hashes waiting for a worker beyond this many are refused with 503.
    pub hash_queue_capacity: usize,
    /// How long a login waits for a place in a full hashing queue before it gets 503.
    pub hash_queue_wait: Duration,
    pub request_timeout: Duration,
    /// What a new password may be: `PASSWORD_MIN_LENGTH` characters at least (default 8).
    pub password_policy: PasswordPolicy,
    /// Slow and idle clients: `HEADER_READ_TIMEOUT_SECS`, `IDLE_TIMEOUT_SECS`, `MAX_CONNECTIONS`.
    pub connections: ConnectionLimits,
    /// `SHUTDOWN_DRAIN_SECS`: after SIGTERM, `/ready` answers 503 and every answer says
    /// `Connection: close` while the server goes on serving this long; then it stops accepting
    /// and finishes the requests in flight.
    pub shutdown_drain: Duration,
    /// Lazy migration from a seed service's user table: `LEGACY_DATABASE_URL` + `AUTH_TABLE`.
    pub legacy: Option<LegacySettings>,
    /// `ACCEPT_LEGACY_TOKENS=true`: tokens the old service signed with the same secret keep
    /// validating until they expire, within the `LEGACY_TOKEN*` bounds (see `legacy::tokens`).
    pub legacy_tokens: Option<LegacyTokenSettings>,
    /// The account lockout (`LOGIN_MAX_FAILURES` and the `LOGIN_*` lengths).
    pub lockout: LockoutPolicy,
    /// The per-address limits and whose `X-Forwarded-For` is believed.
    pub client_limits: ClientLimits,
    /// `METRICS_ADDR` (`ip:port`): where `GET /metrics` is served, on its own listener.
    /// Unset (the default): no metrics are recorded and nothing more listens, since the
    /// public port must never expose them.
    pub metrics_addr: Option<SocketAddr>,
    /// `LOG_FORMAT`: `text` (the default) or `json`, one object per line.
    pub log_format: LogFormat,
    /// How tokens are signed: `JWT_ALGORITHM` and the key settings (see `auth::keys`).
    pub keys: KeySettings,
    /// `PUBLIC_URL`: the base of the URLs the discovery documents give.
    pub public_url: Option<String>,
    /// `MFA_REQUIRED_FOR_ADMIN`: tokens say `admin: true` only after a second factor.
    pub mfa_required_for_admin: bool,
    /// `REAUTH_MAX_AGE_SECS` (default 600): how recent a sign-in must be for a password
    /// change, removing the second factor or new recovery codes.
    pub reauth_max_age: Duration,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: coloured when stderr is a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value.to_ascii_lowercase().as_str() {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err(()),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error(
        "the JWT secret from {name} is {len} bytes; at least {MIN_SECRET_BYTES} are required. \
         Generate one with `openssl rand -hex 32`, or set ALLOW_WEAK_SECRET=true to keep an \
         existing short secret while you switch over"
    )]
    WeakSecret { name: &'static str, len: usize },
    #[error("DATABASE_HOST is set but {missing} is not: set all of DATABASE_HOST, DATABASE_NAME, DATABASE_USER and DATABASE_PASSWORD, or DATABASE_URL")]
    IncompleteDatabaseParts { missing: &'static str },
    #[error("MYSQL_HOST is set but {missing} is not: set all of MYSQL_HOST, MYSQL_DB and MYSQL_USER (and MYSQL_PASSWORD), or DATABASE_URL")]
    IncompleteMysqlParts { missing: &'static str },
    #[error("{name}: {source}")]
    InvalidName {
        name: &'static str,
        source: IdentError,
    },
    #[error("LEGACY_DATABASE_URL is set but AUTH_TABLE is not: name the legacy user table, e.g. AUTH_TABLE=user")]
    MissingAuthTable,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of mutating the environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let allow_weak_secret = parse_bool(&get, "ALLOW_WEAK_SECRET", false)?;
        let jwt_secret = ["JWT_SECRET", "JWT_SECRET_KEY", "SECRET_KEY"]
            .into_iter()
            .find_map(|name| get(name).map(|v| (name, v)));
        if let Some((name, value)) = &jwt_secret {
            if value.len() < MIN_SECRET_BYTES && !allow_weak_secret {
                return Err(ConfigError::WeakSecret {
                    name,
                    len: value.len(),
                });
            }
        }

        let weak_secret = jwt_secret
            .as_ref()
            .is_some_and(|(_, value)| value.len() < MIN_SECRET_BYTES);
        Ok(Self {
            database_url: database_url(&get)?,
            jwt_secret: jwt_secret.map(|(_, v)| Secret::new(v)),
            jwt_secret_file: get("JWT_SECRET_FILE").map(|path| PathBuf::from(path.trim())),
            allow_weak_secret,
            host: parse(&get, "HOST", "0.0.0.0".parse().ok(), "an IP address")?,
            port: parse(&get, "PORT", Some(5000), "a port number")?,
            access_token_ttl: Duration::from_secs(parse_positive(&get, "ACCESS_TOKEN_TTL", 3600)?),
            issuer: get("JWT_ISSUER").unwrap_or_else(|| "gatehouse".to_owned()),
            refresh_token_ttl: Duration::from_secs(parse_positive(
                &get,
                "REFRESH_TOKEN_TTL",
                30 * 86_400,
            )?),
            refresh_token_max_ttl: Duration::from_secs(parse_positive(
                &get,
                "REFRESH_TOKEN_MAX_TTL",
                90 * 86_400,
            )?),
            refresh_reuse_grace: Duration::from_secs(parse(
                &get,
                "REFRESH_REUSE_GRACE",
                Some(10),
                "a number of seconds",
            )?),
            max_sessions_per_user: parse_positive(&get, "MAX_SESSIONS_PER_USER", 1000)?,
            revocation_sync_interval: Duration::from_millis(parse_positive(
                &get,
                "REVOCATION_SYNC_INTERVAL_MS",
                5000,
            )?),
            hash_workers: hash_workers(&get)?,
            hash_queue_capacity: parse(&get, "HASH_QUEUE_CAPACITY", Some(256), "a number")?,
            hash_queue_wait: Duration::from_millis(parse(
                &get,
                "HASH_QUEUE_WAIT_MS",
                Some(1000),
                "a number of milliseconds",
            )?),
            request_timeout: Duration::from_secs(parse_positive(&get, "REQUEST_TIMEOUT", 30)?),
            password_policy: password_policy(&get)?,
            connections: connection_limits(&get)?,
            shutdown_drain: shutdown_drain(&get)?,
            legacy: legacy_settings(&get)?,
            legacy_tokens: legacy_token_settings(&get)?,
            lockout: limits::lockout_policy(&get)?,
            client_limits: limits::client_limits(&get)?,
            metrics_addr: match get("METRICS_ADDR") {
                None => None,
                Some(_) => Some(parse(
                    &get,
                    "METRICS_ADDR",
                    None,
                    "an ip:port, e.g. 0.0.0.0:9090",
                )?),
            },
            log_format: parse(&get, "LOG_FORMAT", Some(LogFormat::Text), "text or json")?,
            keys: keys::key_settings(&get, weak_secret)?,
            public_url: keys::public_url(&get)?,
            mfa_required_for_admin: parse_bool(&get, "MFA_REQUIRED_FOR_ADMIN", false)?,
            reauth_max_age: Duration::from_secs(parse_positive(&get, "REAUTH_MAX_AGE_SECS", 600)?),
        })
    }

    /// True when the configured secret is below the recommended length (accepted with a warning).
    pub fn secret_is_weak(&self) -> bool {
        self.jwt_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() < MIN_SECRET_BYTES)
    }
}

/// Each worker keeps a 19 MiB argon2 work area for its whole life, so the count is bounded.
const MAX_HASH_WORKERS: u64 = 256;

fn hash_workers(get: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    let default = PasswordHasher::default_workers() as u64;
    match parse_positive(get, "HASH_WORKERS", default)? {
        n if n <= MAX_HASH_WORKERS => Ok(n as usize),
        n => Err(ConfigError::Invalid {
            name: "HASH_WORKERS",
            value: n.to_string(),
            reason: "a whole number from 1 to 256",
        }),
    }
}

/// `PASSWORD_MIN_LENGTH`, from 1 to the maximum length. Below the default of 8 it is accepted
/// (the seeds had no minimum, and seed 002's clients sign up with 6 characters); start-up
/// warns about it (`app`).
fn password_policy(get: &impl Fn(&str) -> Option<String>) -> Result<PasswordPolicy, ConfigError> {
    const EXPECTED: &str = "a whole number from 1 to 1024";
    let default = PasswordPolicy::default().min_chars();
    let min_chars: usize = parse(get, "PASSWORD_MIN_LENGTH", Some(default), EXPECTED)?;
    PasswordPolicy::with_min_chars(min_chars).ok_or(ConfigError::Invalid {
        name: "PASSWORD_MIN_LENGTH",
        value: min_chars.to_string(),
        reason: EXPECTED,
    })
}

#[cfg(test)]
mod tests;
