//! Slow and idle clients: `HEADER_READ_TIMEOUT_SECS`, `IDLE_TIMEOUT_SECS`, `MAX_CONNECTIONS`;
//! and how long a stopping server keeps serving: `SHUTDOWN_DRAIN_SECS`.

use std::time::Duration;

use super::env::parse;
use super::ConfigError;

/// What one client connection may cost: how long it may take to send a request's headers, how
/// long it may wait between requests, and how many may be open at once (see `app::serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers must be complete this long after the connection opened (its first
    /// request) or after the request's first byte arrived (later requests), however they trickle.
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this long without a
    /// byte of the next request.
    pub idle_timeout: Duration,
    /// Connections beyond this many wait in the kernel's listen backlog until one closes.
    pub max_connections: usize,
}

impl ConnectionLimits {
    /// Long enough for any client that sends its headers in one go, even over a slow link.
    pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
    /// Longer than the 60 s idle timeout of common proxies and load balancers (nginx's upstream
    /// keep-alive, AWS ALB), so that they, not we, close an idle connection: were we first, one
    /// could send a request onto the connection just as it closes.
    pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 75;
    /// Measured (README, Security model): a held slowloris connection costs about 15 KB, one
    /// that first fills its 64 KiB of headers about 76 KB, so 1,024 hold 15 MB, 80 MB at worst.
    pub const DEFAULT_MAX_CONNECTIONS: u64 = 1024;
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(Self::DEFAULT_HEADER_READ_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(Self::DEFAULT_IDLE_TIMEOUT_SECS),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS as usize,
        }
    }
}

pub(super) fn connection_limits(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<ConnectionLimits, ConfigError> {
    let header_read_timeout = within(
        get,
        "HEADER_READ_TIMEOUT_SECS",
        ConnectionLimits::DEFAULT_HEADER_READ_TIMEOUT_SECS,
        3600,
        "a whole number of seconds from 1 to 3600",
    )?;
    let idle_timeout = within(
        get,
        "IDLE_TIMEOUT_SECS",
        ConnectionLimits::DEFAULT_IDLE_TIMEOUT_SECS,
        86_400,
        "a whole number of seconds from 1 to 86400",
    )?;
    let max_connections = within(
        get,
        "MAX_CONNECTIONS",
        ConnectionLimits::DEFAULT_MAX_CONNECTIONS,
        1_000_000,
        "a whole number from 1 to 1000000",
    )?;
    Ok(ConnectionLimits {
        header_read_timeout: Duration::from_secs(header_read_timeout),
        idle_timeout: Duration::from_secs(idle_timeout),
        max_connections: max_connections as usize,
    })
}

/// Long enough for Kubernetes to take a terminating pod out of its Service's endpoints: that
/// happens asynchronously, so kube-proxy and ingress controllers keep sending new connections
/// for a second or a few after SIGTERM. Serving them meanwhile is what makes a rolling update
/// lose nothing.
pub const DEFAULT_SHUTDOWN_DRAIN_SECS: u64 = 5;
/// Longer would outlast any sensible `terminationGracePeriodSeconds`.
const MAX_SHUTDOWN_DRAIN_SECS: u64 = 300;

/// `SHUTDOWN_DRAIN_SECS`: after SIGTERM, how long the server goes on accepting and serving
/// (`/ready` answering 503) before it stops accepting; `0` stops at once.
pub(super) fn shutdown_drain(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Duration, ConfigError> {
    let reason = "a whole number of seconds from 0 to 300";
    match parse(
        get,
        "SHUTDOWN_DRAIN_SECS",
        Some(DEFAULT_SHUTDOWN_DRAIN_SECS),
        reason,
    )? {
        secs if secs <= MAX_SHUTDOWN_DRAIN_SECS => Ok(Duration::from_secs(secs)),
        secs => Err(ConfigError::Invalid {
            name: "SHUTDOWN_DRAIN_SECS",
            value: secs.to_string(),
            reason,
        }),
    }
}

/// A whole number from 1 to `max`, or `default` when unset.
fn within(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
    max: u64,
    reason: &'static str,
) -> Result<u64, ConfigError> {
    match parse(get, name, Some(default), reason)? {
        n if (1..=max).contains(&n) => Ok(n),
        n => Err(ConfigError::Invalid {
            name,
            value: n.to_string(),
            reason,
        }),
    }
}
