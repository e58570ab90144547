//! Reading one setting: numbers, durations and booleans, each failure one clear line.

use super::ConfigError;

pub(super) fn parse<T: std::str::FromStr>(
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

pub(super) fn parse_positive(
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

pub(super) fn parse_bool(
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
