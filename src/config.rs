//! Typed configuration, parsed once from the environment (the seeds' variable names included).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::auth::legacy_hash::Pbkdf2HexSettings;
use crate::auth::password::PasswordHasher;
use crate::legacy::ident::{Ident, IdentError, TableName};
use crate::legacy::{parse_format, LegacySettings, LegacyTable};
use crate::store::redact_url;

/// Secrets shorter than this are refused unless `ALLOW_WEAK_SECRET=true` (HS256 wants 256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// A value that must never be logged or printed: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call sites are few and easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([{} bytes redacted])", self.0.len())
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// `None`: generate one and keep it in the database (see `auth::keys`).
    pub jwt_secret: Option<Secret>,
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
    /// How often each process re-reads revocations and disabled users written by others.
    pub revocation_sync_interval: Duration,
    /// Threads that hash passwords (`HASH_WORKERS`; by default one per core but one).
    pub hash_workers: usize,
    /// Password hashes waiting for a worker beyond this many are refused with 503.
    pub hash_queue_capacity: usize,
    /// How long a login waits for a place in a full hashing queue before it gets 503.
    pub hash_queue_wait: Duration,
    pub request_timeout: Duration,
    /// Lazy migration from a seed service's user table: `LEGACY_DATABASE_URL` + `AUTH_TABLE`.
    pub legacy: Option<LegacySettings>,
    /// `ACCEPT_LEGACY_TOKENS`: tokens the old service signed with the same secret keep
    /// validating until they expire (see `legacy::tokens`).
    pub accept_legacy_tokens: bool,
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

        Ok(Self {
            database_url: database_url(&get)?,
            jwt_secret: jwt_secret.map(|(_, v)| Secret::new(v)),
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
            legacy: legacy_settings(&get)?,
            accept_legacy_tokens: parse_bool(&get, "ACCEPT_LEGACY_TOKENS", false)?,
        })
    }

    /// True when the configured secret is below the recommended length (accepted with a warning).
    pub fn secret_is_weak(&self) -> bool {
        self.jwt_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() < MIN_SECRET_BYTES)
    }
}

/// The legacy table for lazy migration, when `LEGACY_DATABASE_URL` is set. `AUTH_TABLE` alone
/// (seed 000 deployments carry it over) turns nothing on.
fn legacy_settings(
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

fn database_url(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
    if let Some(url) = get("DATABASE_URL").or_else(|| get("DATABASE_URI")) {
        return Ok(normalise_database_url(&url));
    }
    if let Some(host) = get("MYSQL_HOST") {
        return mysql_url_from_parts(get, &host);
    }
    let Some(host) = get("DATABASE_HOST") else {
        return Ok("sqlite://gatehouse.db".to_owned());
    };
    let part = |name: &'static str| {
        get(name).ok_or(ConfigError::IncompleteDatabaseParts { missing: name })
    };
    let (name, user) = (part("DATABASE_NAME")?, part("DATABASE_USER")?);
    let password = get("DATABASE_PASSWORD").unwrap_or_default();
    let port: u16 = parse(get, "DATABASE_PORT", Some(5432), "a port number")?;
    Ok(format!(
        "postgres://{}:{}@{}:{}/{}",
        percent_encode(&user),
        percent_encode(&password),
        host,
        port,
        percent_encode(&name)
    ))
}

/// Seed 004's names: `MYSQL_HOST`, `MYSQL_USER`, `MYSQL_PASSWORD`, `MYSQL_DB` (+ `MYSQL_PORT`, 3306).
fn mysql_url_from_parts(
    get: &impl Fn(&str) -> Option<String>,
    host: &str,
) -> Result<String, ConfigError> {
    let part =
        |name: &'static str| get(name).ok_or(ConfigError::IncompleteMysqlParts { missing: name });
    let (name, user) = (part("MYSQL_DB")?, part("MYSQL_USER")?);
    let password = get("MYSQL_PASSWORD").unwrap_or_default();
    let port: u16 = parse(get, "MYSQL_PORT", Some(3306), "a port number")?;
    let credentials = if password.is_empty() {
        percent_encode(&user)
    } else {
        format!("{}:{}", percent_encode(&user), percent_encode(&password))
    };
    Ok(format!(
        "mysql://{credentials}@{host}:{port}/{}",
        percent_encode(&name)
    ))
}

/// SQLAlchemy spells its URLs `postgresql+psycopg2://…` or `mysql+pymysql://…`; sqlx wants
/// `postgres://…` and `mysql://…`.
pub(crate) fn normalise_database_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest))
            if scheme.starts_with("postgresql") || scheme.starts_with("postgres+") =>
        {
            format!("postgres://{rest}")
        }
        Some((scheme, rest)) if scheme.starts_with("mysql+") || scheme == "mariadb" => {
            format!("mysql://{rest}")
        }
        _ => url.to_owned(),
    }
}

/// Encodes a URL userinfo or path component (passwords may hold `@`, `/`, `:`).
fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Option<T>,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match get(name) {
        Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            value,
            reason: expected,
        }),
        None => default.ok_or(ConfigError::Invalid {
            name,
            value: String::new(),
            reason: expected,
        }),
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

fn parse_positive(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    let value: u64 = parse(get, name, Some(default), "a whole number greater than zero")?;
    if value == 0 {
        return Err(ConfigError::Invalid {
            name,
            value: "0".into(),
            reason: "a whole number greater than zero",
        });
    }
    Ok(value)
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
        Some(value) => Err(ConfigError::Invalid {
            name,
            value,
            reason: "true or false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::legacy_hash::LegacyFormat;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_on_port_5000() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://gatehouse.db");
        assert_eq!(c.port, 5000);
        assert_eq!(c.host.to_string(), "0.0.0.0");
        assert_eq!(c.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(c.issuer, "gatehouse");
        assert!(c.jwt_secret.is_none());
        assert_eq!(c.hash_queue_capacity, 256);
        assert_eq!(c.hash_queue_wait, Duration::from_secs(1));
    }

    #[test]
    fn hash_workers_default_to_one_per_core_but_one_and_may_be_set() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(config(&[]).unwrap().hash_workers, (cores - 1).max(1));
        assert_eq!(config(&[("HASH_WORKERS", "3")]).unwrap().hash_workers, 3);
        for refused in ["0", "257", "two", "-1"] {
            assert!(config(&[("HASH_WORKERS", refused)]).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_hash_queue_wait_is_milliseconds_and_may_be_zero() {
        let c = config(&[("HASH_QUEUE_WAIT_MS", "0")]).unwrap();
        assert_eq!(c.hash_queue_wait, Duration::ZERO);
        let c = config(&[("HASH_QUEUE_WAIT_MS", "250")]).unwrap();
        assert_eq!(c.hash_queue_wait, Duration::from_millis(250));
        assert!(config(&[("HASH_QUEUE_WAIT_MS", "soon")]).is_err());
    }

    #[test]
    fn seed_000_database_parts_compose_a_postgres_url() {
        let c = config(&[
            ("DATABASE_HOST", "db.internal"),
            ("DATABASE_NAME", "auth"),
            ("DATABASE_USER", "svc"),
            ("DATABASE_PASSWORD", "p@ss/word"),
        ])
        .unwrap();
        assert_eq!(
            c.database_url,
            "postgres://svc:p%40ss%2Fword@db.internal:5432/auth"
        );
    }

    #[test]
    fn incomplete_database_parts_name_what_is_missing() {
        let err = config(&[("DATABASE_HOST", "db")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::IncompleteDatabaseParts {
                missing: "DATABASE_NAME"
            }
        );
    }

    #[test]
    fn seed_004_mysql_parts_compose_a_mysql_url() {
        let c = config(&[
            ("MYSQL_HOST", "mysql"),
            ("MYSQL_DB", "auth"),
            ("MYSQL_USER", "root"),
            ("MYSQL_PASSWORD", "p@ss"),
        ])
        .unwrap();
        assert_eq!(c.database_url, "mysql://root:p%40ss@mysql:3306/auth");
        let c = config(&[
            ("MYSQL_HOST", "127.0.0.1"),
            ("MYSQL_DB", "test"),
            ("MYSQL_USER", "root"),
            ("MYSQL_PORT", "3307"),
        ])
        .unwrap();
        assert_eq!(c.database_url, "mysql://root@127.0.0.1:3307/test");
        let err = config(&[("MYSQL_HOST", "db")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::IncompleteMysqlParts {
                missing: "MYSQL_DB"
            }
        );
    }

    #[test]
    fn sqlalchemy_mysql_urls_are_normalised() {
        let c = config(&[("DATABASE_URL", "mysql+pymysql://u:p@h/db")]).unwrap();
        assert_eq!(c.database_url, "mysql://u:p@h/db");
    }

    #[test]
    fn seed_001_and_003_names_are_accepted() {
        let secret = "k".repeat(32);
        let c = config(&[
            ("DATABASE_URI", "postgresql://u:p@h/db"),
            ("JWT_SECRET_KEY", &secret),
        ])
        .unwrap();
        assert_eq!(c.database_url, "postgres://u:p@h/db");
        assert_eq!(c.jwt_secret.unwrap().expose(), secret);
        let c = config(&[("SECRET_KEY", &secret)]).unwrap();
        assert!(c.jwt_secret.is_some());
    }

    #[test]
    fn short_secret_is_refused_unless_allowed() {
        let err = config(&[("JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::WeakSecret {
                name: "JWT_SECRET",
                len: 5
            }
        );
        assert!(err.to_string().contains("ALLOW_WEAK_SECRET=true"));
        let c = config(&[("JWT_SECRET", "short"), ("ALLOW_WEAK_SECRET", "true")]).unwrap();
        assert!(c.secret_is_weak());
    }

    #[test]
    fn bad_numbers_are_one_clear_error() {
        let err = config(&[("PORT", "http")]).unwrap_err();
        assert_eq!(err.to_string(), "PORT=\"http\" is not valid: a port number");
        assert!(config(&[("ACCESS_TOKEN_TTL", "0")]).is_err());
    }

    #[test]
    fn lazy_migration_needs_a_legacy_url_and_a_table() {
        let c = config(&[]).unwrap();
        assert!(c.legacy.is_none() && !c.accept_legacy_tokens);
        // Seed 000 deployments carry AUTH_TABLE over: alone, it turns nothing on.
        assert!(config(&[("AUTH_TABLE", "auth_user")])
            .unwrap()
            .legacy
            .is_none());
        let err = config(&[("LEGACY_DATABASE_URL", "postgres://h/db")]).unwrap_err();
        assert_eq!(err, ConfigError::MissingAuthTable);

        let c = config(&[
            ("LEGACY_DATABASE_URL", "mysql+pymysql://root:pw@h/auth"),
            ("AUTH_TABLE", "user"),
            ("ACCEPT_LEGACY_TOKENS", "true"),
        ])
        .unwrap();
        assert!(c.accept_legacy_tokens);
        let legacy = c.legacy.unwrap();
        assert_eq!(legacy.url, "mysql://root:pw@h/auth");
        assert_eq!(legacy.table.table.to_string(), "user");
        assert_eq!(
            (legacy.table.email.as_str(), legacy.table.password.as_str()),
            ("email", "password")
        );
        assert!(legacy.table.name.is_none() && legacy.table.admin.is_none());
        assert_eq!(legacy.format, None);
        assert!(!legacy.admin_default);
        assert_eq!(legacy.pbkdf2, Pbkdf2HexSettings::default());
        assert!(!format!("{legacy:?}").contains("pw@"));
    }

    #[test]
    fn every_legacy_setting_is_read() {
        let legacy = config(&[
            ("LEGACY_DATABASE_URL", "sqlite:///srv/old.db"),
            ("AUTH_TABLE", "public.auth_user"),
            ("LEGACY_EMAIL_COLUMN", "mail"),
            ("LEGACY_PASSWORD_COLUMN", "pw_hash"),
            ("LEGACY_NAME_COLUMN", "full_name"),
            ("LEGACY_ADMIN_COLUMN", "is_admin"),
            ("LEGACY_PASSWORD_FORMAT", "pbkdf2-hex"),
            ("LEGACY_ADMIN_DEFAULT", "yes"),
            ("LEGACY_PBKDF2_SALT", "pepper "),
            ("LEGACY_PBKDF2_ITERATIONS", "5000"),
        ])
        .unwrap()
        .legacy
        .unwrap();
        assert_eq!(legacy.table.table.to_string(), "public.auth_user");
        assert_eq!(legacy.table.email.as_str(), "mail");
        assert_eq!(legacy.table.password.as_str(), "pw_hash");
        assert_eq!(legacy.table.name.unwrap().as_str(), "full_name");
        assert_eq!(legacy.table.admin.unwrap().as_str(), "is_admin");
        assert_eq!(legacy.format, Some(LegacyFormat::Pbkdf2Hex));
        assert!(legacy.admin_default);
        assert_eq!(legacy.pbkdf2.salt, b"pepper ");
        assert_eq!(legacy.pbkdf2.iterations, 5000);
    }

    #[test]
    fn bad_legacy_settings_are_one_clear_line() {
        let base = [("LEGACY_DATABASE_URL", "postgres://u:secret@h/db")];
        let with = |extra: (&'static str, &'static str)| {
            let mut vars = vec![base[0], ("AUTH_TABLE", "user")];
            vars.retain(|(k, _)| *k != extra.0);
            vars.push(extra);
            config(&vars).unwrap_err().to_string()
        };
        let err = with(("AUTH_TABLE", "user; DROP TABLE users"));
        assert!(
            err.starts_with("AUTH_TABLE: \"user; DROP TABLE users\" is not a valid table name:"),
            "{err}"
        );
        let err = with(("LEGACY_EMAIL_COLUMN", "e-mail"));
        assert!(
            err.starts_with("LEGACY_EMAIL_COLUMN: \"e-mail\" is not a valid email column"),
            "{err}"
        );
        let err = with(("LEGACY_PASSWORD_FORMAT", "md5"));
        assert!(
            err.starts_with("LEGACY_PASSWORD_FORMAT=\"md5\" is not valid"),
            "{err}"
        );
        assert!(with(("LEGACY_PBKDF2_ITERATIONS", "0")).starts_with("LEGACY_PBKDF2_ITERATIONS"));
        assert!(with(("LEGACY_ADMIN_DEFAULT", "maybe")).starts_with("LEGACY_ADMIN_DEFAULT"));
        let err = with(("LEGACY_DATABASE_URL", "http://u:secret@h/db"));
        assert!(err.starts_with("LEGACY_DATABASE_URL="), "{err}");
        assert!(!err.contains("secret"), "{err}");
        for err in [err, with(("AUTH_TABLE", "a.b.c"))] {
            assert!(!err.contains('\n'), "{err}");
        }
        assert!(config(&[("ACCEPT_LEGACY_TOKENS", "sometimes")]).is_err());
    }

    #[test]
    fn secret_debug_never_shows_the_value() {
        let s = Secret::new("hunter2-hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
