//! `GET /metrics` on `METRICS_ADDR`: the Prometheus text format, every family of issue 13,
//! requests counted under their route template, and no label a client could fill.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, PASSWORD};

const FAMILIES: [&str; 9] = [
    "gatehouse_http_requests_total",
    "gatehouse_http_request_duration_seconds",
    "gatehouse_logins_total",
    "gatehouse_password_hash_queue_depth",
    "gatehouse_password_hash_duration_seconds",
    "gatehouse_revocation_entries",
    "gatehouse_revocation_last_sync_timestamp_seconds",
    "gatehouse_db_pool_connections",
    "gatehouse_build_info",
];

/// Every label name any family may carry; anything else fails the test.
const ALLOWED_LABELS: [&str; 9] = [
    "route", "method", "status", "le", "contract", "result", "kind", "state", "version",
];

/// One sample line: `name{labels} value`.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape parsed as Prometheus text: the families declared by `# TYPE`, and the samples.
struct Scrape {
    families: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    fn parse(text: &str) -> Self {
        let mut families = BTreeMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                families.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') {
                samples.push(parse_sample(line));
            }
        }
        Self { families, samples }
    }

    /// The family a sample belongs to (`_bucket`, `_sum`, `_count` belong to histograms).
    fn family_of(&self, name: &str) -> String {
        let stripped = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|base| self.families.get(*base).is_some_and(|k| k == "histogram"));
        stripped.unwrap_or(name).to_owned()
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && s.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }
}

fn parse_sample(line: &str) -> Sample {
    let (series, value) = line
        .rsplit_once(' ')
        .unwrap_or_else(|| panic!("no value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
    };
    let Some((name, labels)) = series.split_once('{') else {
        return Sample {
            name: series.to_owned(),
            labels: BTreeMap::new(),
            value,
        };
    };
    let mut rest = labels
        .strip_suffix('}')
        .unwrap_or_else(|| panic!("unclosed: {line}"));
    let mut parsed = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("bad label: {line}"));
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => value.push(chars.next().expect("escaped character").1),
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated label value: {line}"),
            }
        };
        assert!(
            parsed.insert(key.to_owned(), value).is_none(),
            "label twice: {line}"
        );
        rest = after[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&after[end + 1..]);
    }
    Sample {
        name: name.to_owned(),
        labels: parsed,
        value,
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let address = app.metrics_address.as_ref().expect("a metrics listener");
    let response = app
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(&response.text().await.unwrap())
}

async fn requests_are_counted_by_route_template_with_only_known_labels(mut app: TestApp) {
    app.restart_with("METRICS_ADDR", "127.0.0.1:0").await;
    let email = "metrics@example.com";
    app.signup_user(email, PASSWORD, "Metrics").await;
    let token = app.basic_login(email, PASSWORD).await.text;
    let wrong = app
        .auth_login(json!({"email": email, "password": "wrong password"}))
        .await;
    let validated = app.validate_token(&token).await;
    let session_path = "/auth/sessions/no-such-session-4242";
    let ended = app
        .send(app.client.delete(app.url(session_path)).bearer_auth(&token))
        .await;
    let missing = app.get("/no/such/path/1234").await;

    let scrape = scrape(&app).await;

    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(validated.status, StatusCode::OK);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for family in FAMILIES {
        assert!(scrape.families.contains_key(family), "{family} missing");
    }
    let requests = "gatehouse_http_requests_total";
    let count = |route, method, status| {
        scrape.value(
            requests,
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(count("/validate", "POST", "200"), Some(1.0));
    assert_eq!(count("/login", "POST", "200"), Some(1.0));
    assert_eq!(count("/auth/login", "POST", "401"), Some(1.0));
    assert_eq!(count("unmatched", "GET", "404"), Some(1.0));
    let ended_status = ended.status.as_u16().to_string();
    assert_eq!(
        count("/auth/sessions/{id}", "DELETE", &ended_status),
        Some(1.0)
    );
    let logins = "gatehouse_logins_total";
    let basic_success = [("contract", "basic"), ("result", "success")];
    assert_eq!(scrape.value(logins, &basic_success), Some(1.0));
    let auth_invalid = [("contract", "auth_login"), ("result", "invalid")];
    assert_eq!(scrape.value(logins, &auth_invalid), Some(1.0));
    let validate_count = [("route", "/validate"), ("method", "POST")];
    let durations = "gatehouse_http_request_duration_seconds_count";
    assert_eq!(scrape.value(durations, &validate_count), Some(1.0));
    let hashes = scrape.value("gatehouse_password_hash_duration_seconds_count", &[]);
    assert!(
        hashes.is_some_and(|n| n >= 3.0),
        "signup and two logins hash: {hashes:?}"
    );
    let version = [("version", env!("CARGO_PKG_VERSION"))];
    assert_eq!(scrape.value("gatehouse_build_info", &version), Some(1.0));
    let mut unknown = BTreeSet::new();
    for sample in &scrape.samples {
        let family = scrape.family_of(&sample.name);
        assert!(
            scrape.families.contains_key(&family),
            "{} has no # TYPE",
            sample.name
        );
        for (name, value) in &sample.labels {
            if !ALLOWED_LABELS.contains(&name.as_str()) {
                unknown.insert(format!("{family}: {name}"));
            }
            assert!(!value.contains('@'), "an email in {sample:?}");
            assert!(value.parse::<IpAddr>().is_err(), "an address in {sample:?}");
            assert!(!value.contains("127.0.0.1"), "an address in {sample:?}");
            assert!(!value.contains("no-such"), "a raw path in {sample:?}");
            assert!(!value.contains(&token), "a token in {sample:?}");
        }
    }
    assert!(unknown.is_empty(), "unknown labels: {unknown:?}");
}

async fn without_metrics_addr_nothing_more_listens(app: TestApp) {
    let on_public_port = app.get("/metrics").await;

    assert_eq!(app.metrics_address, None);
    assert_eq!(on_public_port.status, StatusCode::NOT_FOUND);
    assert!(!on_public_port.text.contains("gatehouse_"));
}

backend_tests!(
    requests_are_counted_by_route_template_with_only_known_labels,
    without_metrics_addr_nothing_more_listens,
);
