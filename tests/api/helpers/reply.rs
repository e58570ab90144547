//! A response read in full, with the assertions every test module shares.

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde_json::Value;

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn read(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("read the response body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Self {
            status,
            headers,
            text,
        }
    }

    /// The body as JSON; fails the test when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "expected a JSON body ({e}), got {} {:?}",
                self.status, self.text
            )
        })
    }

    /// A header's value, or "" when absent.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    }

    pub fn content_type(&self) -> String {
        self.header("content-type")
    }

    pub fn assert_status(&self, expected: u16) {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {:?}",
            self.text
        );
    }

    pub fn assert_json_content_type(&self) {
        assert!(
            self.content_type().starts_with("application/json"),
            "Content-Type {:?} is not JSON ({} {:?})",
            self.content_type(),
            self.status,
            self.text
        );
    }

    /// `status` with a JSON body `{"status": outcome, "message": message}`.
    fn assert_outcome(&self, status: u16, outcome: &str, message: &str) -> Value {
        self.assert_status(status);
        self.assert_json_content_type();
        let body = self.json();
        assert_eq!(body["status"], outcome, "body: {body}");
        assert_eq!(body["message"], message, "body: {body}");
        body
    }

    pub fn assert_failed(&self, status: u16, message: &str) -> Value {
        self.assert_outcome(status, "failed", message)
    }

    pub fn assert_success(&self, status: u16, message: &str) -> Value {
        self.assert_outcome(status, "success", message)
    }

    /// `status` with a `text/plain` body of exactly `body`.
    pub fn assert_text(&self, status: u16, body: &str) {
        self.assert_status(status);
        assert!(
            self.content_type().starts_with("text/plain"),
            "Content-Type {:?} is not text/plain",
            self.content_type()
        );
        assert_eq!(self.text, body);
    }

    /// A 4xx (never 5xx) with a JSON error body `{"status": "failed", "message": <string>}`.
    pub fn assert_client_error_json(&self) {
        assert!(
            self.status.is_client_error(),
            "expected a 4xx, got {} {:?}",
            self.status,
            self.text
        );
        self.assert_json_content_type();
        let body = self.json();
        assert_eq!(body["status"], "failed", "body: {body}");
        assert!(body["message"].is_string(), "no message in {body}");
    }

    /// The refusal `/validate` gives: 401, a Bearer `invalid_token` challenge, a JSON error body.
    pub fn assert_invalid_token(&self) {
        self.assert_status(401);
        let challenge = self.header("www-authenticate");
        assert!(
            challenge.contains("Bearer"),
            "WWW-Authenticate: {challenge:?}"
        );
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "WWW-Authenticate: {challenge:?}"
        );
        self.assert_json_content_type();
        assert_eq!(self.json()["status"], "failed", "body: {}", self.text);
    }
}
