//! Where Gatehouse's own database is: `DATABASE_URL`, or the parts seeds 000 and 004 set.

use super::env::parse;
use super::ConfigError;
use crate::db_url::{normalise_database_url, percent_encode};

pub(super) fn database_url(get: &impl Fn(&str) -> Option<String>) -> Result<String, ConfigError> {
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
