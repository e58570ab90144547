//! The request id: taken from a request's `x-request-id` when it is a sane one, else made
//! here; every answer carries it back, the access line logs it, and every line logged while
//! the request is served can find it ([`current`]), so one grep follows a request through
//! a proxy's log, Gatehouse's and a client's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::secrets::random_token;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids from a client are replaced: an id is for matching lines, not for carrying data.
pub const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    static CURRENT: HeaderValue;
}

/// Made ids are this process's random prefix and a counter: unique across replicas (64
/// random bits each) at the cost of an addition, where a UUID per request would ask the
/// operating system for randomness on the hot path.
static PROCESS_PREFIX: LazyLock<String> = LazyLock::new(|| random_token(8));
static NEXT: AtomicU64 = AtomicU64::new(1);

/// The request's own id when it sent a usable one, else a new one.
pub fn for_request(headers: &HeaderMap) -> HeaderValue {
    match headers.get(&X_REQUEST_ID) {
        Some(value) if is_usable(value.as_bytes()) => value.clone(),
        _ => generate(),
    }
}

/// Letters, digits and `-._:/+=` (UUIDs, trace ids, base64), 1 to 128 of them: anything
/// else could forge or break a log line.
fn is_usable(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:/+=".contains(b))
}

fn generate() -> HeaderValue {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let id = format!("{}-{n:x}", *PROCESS_PREFIX);
    // Hex and a dash: always a valid header value.
    HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("unknown"))
}

/// Runs `future` with `id` as the current request id.
pub fn scope<F: std::future::Future>(
    id: HeaderValue,
    future: F,
) -> tokio::task::futures::TaskLocalFuture<HeaderValue, F> {
    CURRENT.scope(id, future)
}

/// The id of the request being served on this task, if any (for log lines).
pub fn current() -> Option<String> {
    CURRENT
        .try_with(|id| id.to_str().map(str::to_owned).ok())
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            &X_REQUEST_ID,
            HeaderValue::from_str(value).expect("a header"),
        );
        headers
    }

    #[test]
    fn a_sane_id_from_the_request_is_kept() {
        let id = "0b6f4f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
        assert_eq!(for_request(&with_id(id)), id);
        assert_eq!(for_request(&with_id("trace:abc/1+2=")), "trace:abc/1+2=");
    }

    #[test]
    fn an_unusable_id_is_replaced() {
        for bad in [
            "",
            "two words",
            "quote\"",
            &"x".repeat(MAX_REQUEST_ID_LEN + 1),
        ] {
            let made = for_request(&with_id(bad));
            assert_ne!(made, bad);
            assert!(is_usable(made.as_bytes()), "{made:?}");
        }
    }

    #[test]
    fn made_ids_differ_and_share_the_process_prefix() {
        let (a, b) = (
            for_request(&HeaderMap::new()),
            for_request(&HeaderMap::new()),
        );
        assert_ne!(a, b);
        let prefix = |v: &HeaderValue| {
            v.to_str()
                .expect("ascii")
                .split('-')
                .next()
                .map(str::to_owned)
        };
        assert_eq!(prefix(&a), prefix(&b));
    }

    #[tokio::test]
    async fn the_current_id_is_visible_inside_its_scope_only() {
        assert_eq!(current(), None);
        let inside = scope(HeaderValue::from_static("abc"), async { current() }).await;
        assert_eq!(inside.as_deref(), Some("abc"));
    }
}
