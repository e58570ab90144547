//! The brute-force settings: the account lockout (`LOGIN_*`), the per-address limits
//! (`RATE_LIMIT_*`, `LOGIN_FAILURES_PER_IP_PER_MINUTE`) and `TRUSTED_PROXIES`.

use super::env::{parse, parse_positive};
use super::ConfigError;
use crate::auth::lockout::LockoutPolicy;
use crate::client_ip::TrustedProxies;

/// The per-address limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientLimits {
    /// Requests a minute each address may make to the credential endpoints; 0: no limit.
    pub requests_per_minute: u32,
    /// How many of those may come at once.
    pub burst: u32,
    /// Failed logins a minute each address may cause before it is paced; 0: not paced.
    pub failures_per_minute: u32,
    pub trusted_proxies: TrustedProxies,
}

pub(super) fn client_limits(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<ClientLimits, ConfigError> {
    let trusted_proxies = match get("TRUSTED_PROXIES") {
        None => TrustedProxies::default(),
        Some(list) => list.parse().map_err(|_| ConfigError::Invalid {
            name: "TRUSTED_PROXIES",
            value: list,
            reason: "a comma-separated list of IP addresses or CIDRs (10.0.0.0/8, ::1)",
        })?,
    };
    // Above what a whole server can verify (a 2-core one: 50 to 100 logins a second), so one
    // gateway that sends every user's login from its own address is limited by the hashing
    // queue first, never by this. See the README's security section.
    Ok(ClientLimits {
        requests_per_minute: parse(
            get,
            "RATE_LIMIT_PER_IP",
            Some(6000),
            "a whole number of requests a minute (0 turns the limit off)",
        )?,
        burst: parse_positive(get, "RATE_LIMIT_BURST", 200)?.min(u64::from(u32::MAX)) as u32,
        failures_per_minute: parse(
            get,
            "LOGIN_FAILURES_PER_IP_PER_MINUTE",
            Some(60),
            "a whole number of failed logins a minute (0 turns the pacing off)",
        )?,
        trusted_proxies,
    })
}

pub(super) fn lockout_policy(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<LockoutPolicy, ConfigError> {
    let default = LockoutPolicy::DEFAULT;
    let max_failures: u32 = parse(
        get,
        "LOGIN_MAX_FAILURES",
        Some(default.max_failures),
        "a whole number (0 turns the lockout off)",
    )?;
    let window_secs = parse_positive(get, "LOGIN_FAILURE_WINDOW_SECS", default.window_secs as u64)?;
    let lockout_secs = parse_positive(get, "LOGIN_LOCKOUT_SECS", default.lockout_secs as u64)?;
    let max_lockout_secs = parse_positive(
        get,
        "LOGIN_LOCKOUT_MAX_SECS",
        (default.max_lockout_secs as u64).max(lockout_secs),
    )?;
    if max_lockout_secs < lockout_secs {
        return Err(ConfigError::Invalid {
            name: "LOGIN_LOCKOUT_MAX_SECS",
            value: max_lockout_secs.to_string(),
            reason: "at least LOGIN_LOCKOUT_SECS",
        });
    }
    // A year bounds every length, so the arithmetic on timestamps cannot overflow.
    let seconds = |value: u64| value.min(365 * 86_400) as i64;
    Ok(LockoutPolicy {
        max_failures,
        window_secs: seconds(window_secs),
        lockout_secs: seconds(lockout_secs),
        max_lockout_secs: seconds(max_lockout_secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_lockout_is_on_by_default_and_zero_turns_it_off() {
        assert_eq!(lockout_policy(&lookup(&[])), Ok(LockoutPolicy::DEFAULT));
        let off = lockout_policy(&lookup(&[("LOGIN_MAX_FAILURES", "0")])).unwrap();
        assert_eq!(off.max_failures, 0);
        let set = lockout_policy(&lookup(&[
            ("LOGIN_MAX_FAILURES", "10"),
            ("LOGIN_FAILURE_WINDOW_SECS", "60"),
            ("LOGIN_LOCKOUT_SECS", "7200"),
        ]))
        .unwrap();
        // The cap follows a first lockout set above its default.
        assert_eq!(
            (
                set.max_failures,
                set.window_secs,
                set.lockout_secs,
                set.max_lockout_secs
            ),
            (10, 60, 7200, 7200)
        );
    }

    #[test]
    fn bad_lockout_settings_are_refused() {
        for (name, value) in [
            ("LOGIN_MAX_FAILURES", "-1"),
            ("LOGIN_MAX_FAILURES", "five"),
            ("LOGIN_FAILURE_WINDOW_SECS", "0"),
            ("LOGIN_LOCKOUT_SECS", "0"),
            ("LOGIN_LOCKOUT_MAX_SECS", "60"),
        ] {
            let err = lockout_policy(&lookup(&[(name, value)])).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn client_limits_default_above_a_servers_hashing_rate() {
        let limits = client_limits(&lookup(&[])).unwrap();
        assert_eq!(
            (
                limits.requests_per_minute,
                limits.burst,
                limits.failures_per_minute
            ),
            (6000, 200, 60)
        );
        assert!(limits.trusted_proxies.is_empty());
        let set = client_limits(&lookup(&[
            ("RATE_LIMIT_PER_IP", "0"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8"),
        ]))
        .unwrap();
        assert_eq!(set.requests_per_minute, 0);
        assert!(!set.trusted_proxies.is_empty());
    }

    #[test]
    fn bad_client_limits_are_refused() {
        for (name, value) in [
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("TRUSTED_PROXIES", "proxy.internal"),
            ("RATE_LIMIT_PER_IP", "many"),
            ("RATE_LIMIT_BURST", "0"),
            ("LOGIN_FAILURES_PER_IP_PER_MINUTE", "-3"),
        ] {
            let err = client_limits(&lookup(&[(name, value)])).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }
}
