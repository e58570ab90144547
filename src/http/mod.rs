//! The HTTP surface: the route table ([`routes`]), one file of handlers per API surface,
//! extractors, `AppError` (the one place domain errors become statuses), and the middleware
//! stack every request goes through (here).
//!
//! Handlers parse the request, call one domain service, and map its outcome to their
//! contract's shape; they hold no rule of their own.

pub mod auth_api;
pub mod client_address;
pub mod docs;
pub mod error;
pub mod extract;
pub mod fields;
pub mod gateway;
pub mod health;
pub mod login_record;
pub mod mfa;
pub mod oauth;
pub mod observe;
pub mod openapi;
pub mod probes;
pub mod profile;
pub mod rate_limit;
pub mod reauth;
pub mod request_id;
pub mod routes;
pub mod sessions;
pub mod state;
pub mod well_known;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::DefaultBodyLimit;
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, PROXY_AUTHORIZATION,
    SET_COOKIE,
};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use serde::Serialize;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::client_ip::TrustedProxies;
use crate::metrics::Metrics;
use client_address::client_address;
use error::error_body;
pub use error::AppError;
use observe::ObserveLayer;
use rate_limit::ClientRateLimit;
pub use state::{AppState, Discovery};

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

/// What the middleware stack needs besides the handlers' state.
pub struct HttpSettings {
    pub request_timeout: Duration,
    /// The credential endpoints' bucket per client address.
    pub rate_limit: Arc<ClientRateLimit>,
}

pub fn router(state: AppState, settings: HttpSettings) -> Router {
    build(state, settings, false).0
}

/// As [`router`], counting every request and login into the returned [`Metrics`], whose
/// series are registered here, for every route template the router serves.
pub fn router_with_metrics(state: AppState, settings: HttpSettings) -> (Router, Arc<Metrics>) {
    let (router, metrics) = build(state, settings, true);
    let metrics = metrics.unwrap_or_else(|| Arc::new(Metrics::new([])));
    (router, metrics)
}

fn build(
    mut state: AppState,
    settings: HttpSettings,
    with_metrics: bool,
) -> (Router, Option<Arc<Metrics>>) {
    let sensitive = [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE];
    let trusted_proxies = state.trusted_proxies.clone();
    let (routes, mut doc) = routes::routes(settings.rate_limit).split_for_parts();
    openapi::describe_password_policy(&mut doc, state.accounts.password_policy());
    let metrics = with_metrics.then(|| {
        let templates = doc.paths.paths.keys().map(String::as_str);
        let outside_route_table = std::iter::once("/openapi.json").chain(docs::route_templates());
        Arc::new(Metrics::new(templates.chain(outside_route_table)))
    });
    state.metrics = metrics.clone();
    let router = routes
        .merge(openapi::router(&doc))
        .merge(docs::router())
        .fallback(|| async { error_body(StatusCode::NOT_FOUND, "Not found") })
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                // Outermost, so it sees what the layers below answer too (timeouts, panics):
                // request id, access line, metrics. `Router::layer` wraps each route, where
                // the matched template is known.
                .layer(ObserveLayer {
                    metrics: metrics.clone(),
                })
                .layer(SetSensitiveRequestHeadersLayer::new(sensitive))
                .layer(SetSensitiveResponseHeadersLayer::new([SET_COOKIE]))
                // Failures are logged where they are understood (`AppError`); an expected 503
                // during a login storm must not write an ERROR line per request.
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(move |request: &Request<Body>| {
                            request_span(&trusted_proxies, request)
                        })
                        .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
                )
                .layer(map_response(json_error_bodies))
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    settings.request_timeout,
                ))
                .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
        );
    (router, metrics)
}

/// The span each request's log lines carry: method, path (never the query) and the client
/// address that the sessions record too (resolved only when the span is enabled: debug).
fn request_span(trusted: &TrustedProxies, request: &Request<Body>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        client_ip = client_address(trusted, request.extensions(), request.headers())
            .map(tracing::field::display),
    )
}

/// Marks every answer `Cache-Control: no-store`. Errors produced below the handlers (405,
/// timeouts) come without a body; give them the same JSON body as every other error.
async fn json_error_bodies<B>(response: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let mut response = response.map(Body::new);
    // Every answer may carry a token or someone's claims: no cache may keep one (RFC 6749
    // §5.1). An answer that says otherwise keeps its own.
    response
        .headers_mut()
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
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
