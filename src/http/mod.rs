//! The HTTP surface: one file per API surface, merged here under one middleware stack.

pub mod auth_api;
pub mod extract;
pub mod fields;
pub mod gateway;
pub mod health;
pub mod openapi;
pub mod profile;
pub mod sessions;

use std::any::Any;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::DefaultBodyLimit;
use axum::http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION, SET_COOKIE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::app::AppState;
use crate::error::error_body;

/// Bodies beyond this are refused with 413: the largest legitimate one (a 1024-character
/// password in a signup) is a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The shape of every JSON error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always `failed`.
    pub status: String,
    pub message: String,
}

pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let sensitive = [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE];
    Router::new()
        .merge(gateway::router())
        .merge(auth_api::router())
        .merge(profile::router())
        .merge(sessions::router())
        .merge(health::router())
        .merge(openapi::router())
        .fallback(|| async { error_body(StatusCode::NOT_FOUND, "Not found") })
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new(sensitive))
                .layer(SetSensitiveResponseHeadersLayer::new([SET_COOKIE]))
                // Failures are logged where they are understood (`AppError`); an expected 503
                // during a login storm must not write an ERROR line per request.
                .layer(
                    TraceLayer::new_for_http()
                        .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
                )
                .layer(map_response(json_error_bodies))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                ))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        )
}

/// Errors produced below the handlers (405, timeouts) come without a body; give them the same
/// JSON body as every other error.
async fn json_error_bodies<B>(response: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let response = response.map(Body::new);
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(CONTENT_TYPE)
    {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let message = status.canonical_reason().unwrap_or("Error");
    let body = serde_json::json!({ "status": "failed", "message": message }).to_string();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "handler panicked");
    error_body(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error").into_response()
}

/// Unix seconds as an HTTP date, the way Flask serialises datetimes in JSON.
pub fn http_date(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_format_like_flask_and_rfc3339() {
        assert_eq!(
            super::http_date(1_795_442_712),
            "Mon, 23 Nov 2026 14:05:12 GMT"
        );
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
