//! The Prometheus metrics Gatehouse records on its request path (requests, durations, logins),
//! as fixed arrays of atomics registered at start-up, and the text exposition format. A leaf:
//! the layers above record into it; `app` adds the gauges read at scrape time.
//!
//! Every label value is one of a fixed set (a route template, a method, a status, a login
//! contract and result): nothing a client sends ever becomes a label, so the series are
//! bounded and carry no user, email, address or token.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use histogram::{Histogram, HASH_BUCKETS, REQUEST_BUCKETS};

mod histogram;

/// The `route` of a request no route matched (a 404 from the fallback).
pub const UNMATCHED_ROUTE: &str = "unmatched";
/// The `route` of a matched template missing from the table given at start-up (none expected).
pub const OTHER_ROUTE: &str = "other";

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];

/// Statuses counted under their own code; any other is counted under its class (`2xx`, …).
const STATUSES: [u16; 21] = [
    200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 502,
    503, 504,
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const STATUS_SLOTS: usize = STATUSES.len() + CLASSES.len();

/// The login contracts: seeds 000/004's Basic `/login`, seed 003's JSON `/login`, seed 002's
/// `/auth/login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginContract {
    Basic = 0,
    Json = 1,
    AuthLogin = 2,
}
const CONTRACTS: [&str; 3] = ["basic", "json", "auth_login"];

impl LoginContract {
    /// The `contract` label (and log field).
    pub fn as_str(self) -> &'static str {
        CONTRACTS[self as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginResult {
    Success = 0,
    /// Unknown user or wrong password.
    Invalid = 1,
    Disabled = 2,
    /// Refused by the account lockout.
    Locked = 3,
    /// The hashing queue stayed full.
    Busy = 4,
    /// The database did not answer.
    Unavailable = 5,
    /// Any other failure.
    Error = 6,
    /// Right password; a second factor is required (an mfa_token was given, or on Basic the
    /// code was missing).
    MfaRequired = 7,
}
const RESULTS: [&str; 8] = [
    "success",
    "invalid",
    "disabled",
    "locked",
    "busy",
    "unavailable",
    "error",
    "mfa_required",
];

impl LoginResult {
    /// The `result` label (and log field).
    pub fn as_str(self) -> &'static str {
        RESULTS[self as usize]
    }
}

/// Everything recorded on the request path. Shared (`Arc`) by the HTTP layer and the scrape.
#[derive(Debug)]
pub struct Metrics {
    /// Route templates, sorted (binary search); index `len` is `unmatched`, `len + 1` `other`.
    routes: Box<[Box<str>]>,
    /// route × method × status slot.
    requests: Box<[AtomicU64]>,
    /// route × method.
    durations: Box<[Histogram]>,
    logins: [AtomicU64; CONTRACTS.len() * RESULTS.len()],
}

impl Metrics {
    /// Registers every series for the route templates the router serves.
    pub fn new<'a>(templates: impl IntoIterator<Item = &'a str>) -> Self {
        let mut routes: Vec<Box<str>> = templates.into_iter().map(Box::from).collect();
        routes.sort();
        routes.dedup();
        let route_slots = routes.len() + 2;
        Self {
            routes: routes.into_boxed_slice(),
            requests: (0..route_slots * METHODS.len() * STATUS_SLOTS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            durations: (0..route_slots * METHODS.len())
                .map(|_| Histogram::new(REQUEST_BUCKETS))
                .collect(),
            logins: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// The series of a request: `route` is the matched template (`None`: no route matched).
    /// Found when the request arrives, so the answer's future holds only a number.
    pub fn series(&self, route: Option<&str>, method: &str) -> usize {
        let method = METHODS
            .iter()
            .position(|m| *m == method)
            .unwrap_or(METHODS.len() - 1);
        self.route_index(route) * METHODS.len() + method
    }

    /// Counts one answered request of `series` (from [`Metrics::series`]).
    pub fn record_request(&self, series: usize, status: u16, took: Duration) {
        let slot = series * STATUS_SLOTS + status_slot(status);
        if let (Some(count), Some(durations)) =
            (self.requests.get(slot), self.durations.get(series))
        {
            count.fetch_add(1, Ordering::Relaxed);
            durations.observe(took);
        }
    }

    pub fn record_login(&self, contract: LoginContract, result: LoginResult) {
        self.logins[contract as usize * RESULTS.len() + result as usize]
            .fetch_add(1, Ordering::Relaxed);
    }

    fn route_index(&self, route: Option<&str>) -> usize {
        match route {
            None => self.routes.len(),
            Some(route) => self
                .routes
                .binary_search_by(|known| known.as_ref().cmp(route))
                .unwrap_or(self.routes.len() + 1),
        }
    }

    fn route_name(&self, index: usize) -> &str {
        match self.routes.get(index) {
            Some(route) => route,
            None if index == self.routes.len() => UNMATCHED_ROUTE,
            None => OTHER_ROUTE,
        }
    }

    /// Writes the request and login families (series never seen are left out, except logins).
    pub fn render(&self, out: &mut String) {
        header(
            out,
            "gatehouse_http_requests_total",
            "counter",
            "HTTP requests answered, by matched route template, method and status.",
        );
        for (slot, count) in self.requests.iter().enumerate() {
            let count = count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let (series, status) = (slot / STATUS_SLOTS, slot % STATUS_SLOTS);
            let labels = self.series_labels(series);
            let status = match STATUSES.get(status) {
                Some(code) => code.to_string(),
                None => CLASSES[status - STATUSES.len()].to_owned(),
            };
            let _ = writeln!(
                out,
                "gatehouse_http_requests_total{{{labels},status=\"{status}\"}} {count}"
            );
        }
        let name = "gatehouse_http_request_duration_seconds";
        header(
            out,
            name,
            "histogram",
            "Time to answer an HTTP request, by matched route template and method.",
        );
        for (series, histogram) in self.durations.iter().enumerate() {
            if histogram.count() > 0 {
                histogram.render(out, name, &self.series_labels(series));
            }
        }
        header(
            out,
            "gatehouse_logins_total",
            "counter",
            "Logins, by contract and result.",
        );
        for (slot, count) in self.logins.iter().enumerate() {
            let (contract, result) = (
                CONTRACTS[slot / RESULTS.len()],
                RESULTS[slot % RESULTS.len()],
            );
            let count = count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "gatehouse_logins_total{{contract=\"{contract}\",result=\"{result}\"}} {count}"
            );
        }
    }

    fn series_labels(&self, series: usize) -> String {
        let (route, method) = (series / METHODS.len(), series % METHODS.len());
        format!(
            "route=\"{}\",method=\"{}\"",
            self.route_name(route),
            METHODS[method]
        )
    }
}

fn status_slot(status: u16) -> usize {
    match STATUSES.iter().position(|s| *s == status) {
        Some(index) => index,
        None => STATUSES.len() + usize::from((status / 100).clamp(1, 5) - 1),
    }
}

/// The `# HELP` and `# TYPE` lines of a family.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One sample; `labels` is empty or `a="x",b="y"`.
pub fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    if labels.is_empty() {
        let _ = writeln!(out, "{name} {value}");
    } else {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_counted_under_its_template_method_and_status() {
        let metrics = Metrics::new(["/validate", "/auth/sessions/{id}"]);

        let session = metrics.series(Some("/auth/sessions/{id}"), "DELETE");
        metrics.record_request(session, 204, Duration::ZERO);
        metrics.record_request(metrics.series(None, "GET"), 404, Duration::ZERO);
        metrics.record_request(
            metrics.series(Some("/unknown"), "BREW"),
            418,
            Duration::ZERO,
        );
        let mut out = String::new();
        metrics.render(&mut out);

        for line in [
            "gatehouse_http_requests_total{route=\"/auth/sessions/{id}\",method=\"DELETE\",status=\"204\"} 1",
            "gatehouse_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
            "gatehouse_http_requests_total{route=\"other\",method=\"other\",status=\"4xx\"} 1",
        ] {
            assert!(out.contains(line), "{line} missing from\n{out}");
        }
        assert!(!out.contains("/validate"));
    }

    #[test]
    fn logins_are_counted_by_contract_and_result() {
        let metrics = Metrics::new([]);

        metrics.record_login(LoginContract::AuthLogin, LoginResult::Busy);
        let mut out = String::new();
        metrics.render(&mut out);

        assert!(out.contains("gatehouse_logins_total{contract=\"auth_login\",result=\"busy\"} 1"));
        assert!(out.contains("gatehouse_logins_total{contract=\"basic\",result=\"busy\"} 0"));
    }
}
