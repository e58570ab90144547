use super::*;
use crate::auth::legacy_hash::{LegacyFormat, Pbkdf2HexSettings};
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
fn the_password_minimum_defaults_to_8_and_may_be_1_to_1024() {
    assert_eq!(config(&[]).unwrap().password_policy.min_chars(), 8);
    let c = config(&[("PASSWORD_MIN_LENGTH", "6")]).unwrap();
    assert_eq!(c.password_policy.min_chars(), 6);
    for refused in ["0", "1025", "six", "-1"] {
        let err = config(&[("PASSWORD_MIN_LENGTH", refused)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("PASSWORD_MIN_LENGTH={refused:?} is not valid: a whole number from 1 to 1024")
        );
    }
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
fn a_weak_secret_no_longer_signs_unless_until_a_date() {
    use crate::auth::keys::SigningAlgorithm;
    let weak = [("JWT_SECRET", "short"), ("ALLOW_WEAK_SECRET", "true")];
    let c = config(&weak).unwrap();
    assert_eq!(
        c.keys.algorithm,
        SigningAlgorithm::EdDsa,
        "a strong key signs"
    );
    assert_eq!(c.keys.weak_secret_signs_until, None);

    let until = [
        &weak[..],
        &[("WEAK_SECRET_SIGNS_UNTIL", "2027-03-01T00:00:00Z")],
    ]
    .concat();
    let c = config(&until).unwrap();
    assert_eq!(c.keys.weak_secret_signs_until, Some(1_803_859_200));

    let chosen = [&weak[..], &[("JWT_ALGORITHM", "ES256")]].concat();
    assert_eq!(
        config(&chosen).unwrap().keys.algorithm,
        SigningAlgorithm::Es256
    );

    let strong = [
        ("JWT_SECRET", &"s".repeat(32)[..]),
        ("WEAK_SECRET_SIGNS_UNTIL", "2027-03-01T00:00:00Z"),
    ];
    let c = config(&strong).unwrap();
    assert_eq!(
        c.keys.algorithm,
        SigningAlgorithm::Hs256,
        "a strong secret still signs"
    );
    assert_eq!(c.keys.weak_secret_signs_until, None);

    let bad = [&weak[..], &[("WEAK_SECRET_SIGNS_UNTIL", "next march")]].concat();
    let err = config(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with("WEAK_SECRET_SIGNS_UNTIL=\"next march\" is not valid"),
        "{err}"
    );
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
    assert!(c.legacy.is_none() && c.legacy_tokens.is_none());
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
    assert!(c.legacy_tokens.is_some());
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
fn legacy_tokens_have_bounds() {
    let c = config(&[("ACCEPT_LEGACY_TOKENS", "true")]).unwrap();
    let bounds = c.legacy_tokens.unwrap();
    assert_eq!(bounds.issued_before, None, "the first start decides");
    assert_eq!(bounds.max_age_secs, 86_400);
    assert_eq!(bounds.until, None);
    let bounds = config(&[
        ("ACCEPT_LEGACY_TOKENS", "true"),
        ("LEGACY_TOKENS_ISSUED_BEFORE", "2026-11-23T14:05:12Z"),
        ("LEGACY_TOKEN_MAX_AGE_SECS", "3600"),
        ("LEGACY_TOKENS_UNTIL", "1795450000"),
    ])
    .unwrap()
    .legacy_tokens
    .unwrap();
    assert_eq!(bounds.issued_before, Some(1_795_442_712));
    assert_eq!(bounds.max_age_secs, 3600);
    assert_eq!(bounds.until, Some(1_795_450_000));
    let err = config(&[
        ("ACCEPT_LEGACY_TOKENS", "true"),
        ("LEGACY_TOKENS_UNTIL", "soon"),
    ])
    .unwrap_err();
    assert!(
        err.to_string().starts_with("LEGACY_TOKENS_UNTIL=\"soon\""),
        "{err}"
    );
    assert!(config(&[
        ("ACCEPT_LEGACY_TOKENS", "true"),
        ("LEGACY_TOKEN_MAX_AGE_SECS", "0")
    ])
    .is_err());
}

#[test]
fn slow_and_idle_client_limits_have_defaults_and_may_be_set() {
    let limits = config(&[]).unwrap().connections;
    assert_eq!(limits, ConnectionLimits::default());
    assert_eq!(limits.header_read_timeout, Duration::from_secs(10));
    assert_eq!(limits.idle_timeout, Duration::from_secs(75));
    assert_eq!(limits.max_connections, 1024);
    let limits = config(&[
        ("HEADER_READ_TIMEOUT_SECS", "2"),
        ("IDLE_TIMEOUT_SECS", " 600 "),
        ("MAX_CONNECTIONS", "20000"),
    ])
    .unwrap()
    .connections;
    assert_eq!(limits.header_read_timeout, Duration::from_secs(2));
    assert_eq!(limits.idle_timeout, Duration::from_secs(600));
    assert_eq!(limits.max_connections, 20_000);
}

#[test]
fn the_shutdown_drain_defaults_to_5_s_and_may_be_0_to_300() {
    assert_eq!(config(&[]).unwrap().shutdown_drain, Duration::from_secs(5));
    for (value, secs) in [("0", 0), (" 12 ", 12), ("300", 300)] {
        let drain = config(&[("SHUTDOWN_DRAIN_SECS", value)])
            .unwrap()
            .shutdown_drain;
        assert_eq!(drain, Duration::from_secs(secs), "{value}");
    }
    for value in ["301", "-1", "1.5", "soon"] {
        let error = config(&[("SHUTDOWN_DRAIN_SECS", value)]).unwrap_err();
        assert!(
            error.to_string().contains("SHUTDOWN_DRAIN_SECS"),
            "{value}: {error}"
        );
    }
}

#[test]
fn zero_or_nonsense_slow_client_limits_are_one_clear_error() {
    for (name, value, reason) in [
        (
            "HEADER_READ_TIMEOUT_SECS",
            "0",
            "a whole number of seconds from 1 to 3600",
        ),
        (
            "HEADER_READ_TIMEOUT_SECS",
            "3601",
            "a whole number of seconds from 1 to 3600",
        ),
        (
            "HEADER_READ_TIMEOUT_SECS",
            "1.5",
            "a whole number of seconds from 1 to 3600",
        ),
        (
            "IDLE_TIMEOUT_SECS",
            "0",
            "a whole number of seconds from 1 to 86400",
        ),
        (
            "IDLE_TIMEOUT_SECS",
            "-5",
            "a whole number of seconds from 1 to 86400",
        ),
        (
            "IDLE_TIMEOUT_SECS",
            "1m",
            "a whole number of seconds from 1 to 86400",
        ),
        ("MAX_CONNECTIONS", "0", "a whole number from 1 to 1000000"),
        (
            "MAX_CONNECTIONS",
            "1000001",
            "a whole number from 1 to 1000000",
        ),
        (
            "MAX_CONNECTIONS",
            "many",
            "a whole number from 1 to 1000000",
        ),
    ] {
        let err = config(&[(name, value)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{name}={value:?} is not valid: {reason}"),
            "{name}={value}"
        );
    }
}

#[test]
fn metrics_are_off_by_default_and_metrics_addr_is_an_ip_and_port() {
    assert_eq!(config(&[]).unwrap().metrics_addr, None);
    let c = config(&[("METRICS_ADDR", "0.0.0.0:9090")]).unwrap();
    assert_eq!(c.metrics_addr, Some("0.0.0.0:9090".parse().unwrap()));
    for refused in ["9090", "localhost:9090", "0.0.0.0"] {
        let error = config(&[("METRICS_ADDR", refused)]).unwrap_err();
        assert!(
            error.to_string().contains("METRICS_ADDR"),
            "{refused}: {error}"
        );
    }
}

#[test]
fn logs_are_text_by_default_and_log_format_is_text_or_json() {
    assert_eq!(config(&[]).unwrap().log_format, LogFormat::Text);
    assert_eq!(
        config(&[("LOG_FORMAT", "JSON")]).unwrap().log_format,
        LogFormat::Json
    );
    assert_eq!(
        config(&[("LOG_FORMAT", "text")]).unwrap().log_format,
        LogFormat::Text
    );
    let error = config(&[("LOG_FORMAT", "logfmt")]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "LOG_FORMAT=\"logfmt\" is not valid: text or json"
    );
}
