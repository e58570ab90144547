//! Where log lines go and how they look: stderr, filtered by `RUST_LOG` (info when serving,
//! warnings otherwise), as text for people or, with `LOG_FORMAT=json`, one JSON object per
//! line for log collectors: `timestamp`, `level`, `target`, `message`, then the event's and
//! its spans' fields, and `request_id` on every line logged while a request is served.

use std::fmt;
use std::fmt::Write as _;
use std::io::IsTerminal as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;
use crate::http::request_id;

/// Installs the process's subscriber; a second call (tests) keeps the first.
pub fn init(serving: bool, format: LogFormat) {
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .try_init(),
    };
}

/// One flat JSON object per event, written straight into the line (no map is built: an
/// access line per request is on the hot path). tracing-subscriber's own JSON nests the
/// event's fields and lists every span; flat keys are what log queries filter on.
struct JsonLines;

impl<S> FormatEvent<S, JsonFields> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        let mut line = String::with_capacity(256);
        line.push_str("{\"timestamp\":");
        push_json_str(&mut line, &now_rfc3339());
        line.push_str(",\"level\":\"");
        line.push_str(metadata.level().as_str());
        line.push_str("\",\"target\":");
        push_json_str(&mut line, metadata.target());
        // The message first (one pass for it), then the other fields in their order.
        let mut fields = FieldsWriter::new(&mut line, Pass::Message);
        event.record(&mut fields);
        if !fields.wrote_message {
            line.push_str(",\"message\":\"\"");
        }
        let mut fields = FieldsWriter::new(&mut line, Pass::Others);
        event.record(&mut fields);
        let event_has_request_id = fields.saw_request_id;
        // The spans' fields, outermost first, from their JSON (`JsonFields` stored it).
        if let Some(scope) = context.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(formatted) = extensions.get::<FormattedFields<JsonFields>>() else {
                    continue;
                };
                let inner = formatted
                    .trim()
                    .trim_start_matches('{')
                    .trim_end_matches('}');
                if !inner.is_empty() {
                    line.push(',');
                    line.push_str(inner);
                }
            }
        }
        if !event_has_request_id {
            if let Some(id) = request_id::current() {
                line.push_str(",\"request_id\":");
                push_json_str(&mut line, &id);
            }
        }
        line.push('}');
        writeln!(writer, "{line}")
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Appends `text` as a JSON string (quoted and escaped by serde_json).
fn push_json_str(line: &mut String, text: &str) {
    match serde_json::to_string(text) {
        Ok(quoted) => line.push_str(&quoted),
        Err(_) => line.push_str("\"\""),
    }
}

/// Field names that the fixed keys already use: such a field is dropped, not repeated.
const FIXED_KEYS: [&str; 4] = ["timestamp", "level", "target", "message"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Message,
    Others,
}

/// Writes each field as `,"name":value`: numbers and booleans as such, the rest as strings.
struct FieldsWriter<'a> {
    line: &'a mut String,
    pass: Pass,
    wrote_message: bool,
    saw_request_id: bool,
}

impl<'a> FieldsWriter<'a> {
    fn new(line: &'a mut String, pass: Pass) -> Self {
        Self {
            line,
            pass,
            wrote_message: false,
            saw_request_id: false,
        }
    }

    /// Whether this pass writes `field`; starts its `,"name":` when it does.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        let is_message = name == "message";
        let wanted = match self.pass {
            Pass::Message => is_message,
            Pass::Others => !FIXED_KEYS.contains(&name),
        };
        if wanted {
            self.wrote_message |= is_message;
            self.saw_request_id |= name == "request_id";
            self.line.push(',');
            push_json_str(self.line, name);
            self.line.push(':');
        }
        wanted
    }

    fn raw(&mut self, field: &Field, value: impl fmt::Display) {
        if self.start(field) {
            let _ = write!(self.line, "{value}");
        }
    }

    fn text(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            push_json_str(self.line, value);
        }
    }
}

impl Visit for FieldsWriter<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.raw(field, value);
        } else {
            self.raw(field, "null");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.raw(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.raw(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.raw(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, &value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn json_lines_of(emit: impl FnOnce()) -> Vec<Value> {
        raw_lines_of(emit)
            .iter()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect()
    }

    fn raw_lines_of(emit: impl FnOnce()) -> Vec<String> {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .fmt_fields(JsonFields::new())
            .event_format(JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn each_event_is_one_flat_object_with_the_fixed_keys_first() {
        let raw = raw_lines_of(|| {
            let span = tracing::info_span!("login", client_ip = "192.0.2.1");
            let _entered = span.enter();
            tracing::warn!(
                user_id = 7_i64,
                ok = true,
                took = 1.5_f64,
                reason = %"a \"quoted\"\nline",
                "could not upgrade"
            );
        });

        assert_eq!(raw.len(), 1);
        let at = |key: &str| raw[0].find(&format!("\"{key}\":")).unwrap();
        assert_eq!(at("timestamp"), 1);
        assert!(at("timestamp") < at("level") && at("level") < at("target"));
        assert!(at("target") < at("message") && at("message") < at("user_id"));
        let line: Value = serde_json::from_str(&raw[0]).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "could not upgrade");
        assert_eq!(line["user_id"], 7);
        assert_eq!(line["ok"], true);
        assert_eq!(line["took"], 1.5);
        assert_eq!(line["reason"], "a \"quoted\"\nline");
        assert_eq!(line["client_ip"], "192.0.2.1");
        assert!(time::OffsetDateTime::parse(
            line["timestamp"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok());
    }

    #[test]
    fn a_field_named_like_a_fixed_key_is_dropped_and_an_event_without_message_gets_one() {
        let lines = json_lines_of(|| tracing::info!(level = "forged", target = "x"));

        let line = lines[0].as_object().unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "");
        assert_eq!(line.len(), 4, "{line:?}");
    }

    #[test]
    fn a_line_logged_while_serving_a_request_carries_its_id() {
        let id = axum::http::HeaderValue::from_static("req-42");
        let lines = json_lines_of(|| {
            let inside = request_id::scope(id, async { tracing::info!("inside") });
            poll_to_completion(inside);
            tracing::info!("outside");
        });

        assert_eq!(lines[0]["request_id"], "req-42");
        assert_eq!(lines[1].get("request_id"), None);
    }

    /// Polls a future that never waits to completion (no runtime inside `with_default`).
    fn poll_to_completion<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
    }
}
