//! Discovery, for services that verify Gatehouse's tokens themselves: the public keys
//! (`/.well-known/jwks.json`) and what Gatehouse serves (`/.well-known/openid-configuration`,
//! `/.well-known/oauth-authorization-server`, RFC 8414), listing only endpoints it really has.
//!
//! URLs are built on `PUBLIC_URL`; without it on `JWT_ISSUER` when that is a URL; else on the
//! request's `Host` over plain `http` (set `PUBLIC_URL` behind a TLS-terminating proxy).

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, HOST};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::state::{AppState, Discovery};

/// The JWKS: `{"keys": [...]}`, each a public JWK with `kid`, `alg` and `use: sig`.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery",
    responses((status = 200, description = "The public keys that verify tokens (empty with HS256, whose secret is never published); `Cache-Control: public, max-age=JWKS_MAX_AGE_SECS`", content_type = "application/json", body = Object)))]
pub async fn jwks(State(state): State<AppState>) -> Response {
    let keys = state.keys.jwks(state.clock.now());
    let cache = format!("public, max-age={}", state.discovery.jwks_max_age_secs);
    ([(CACHE_CONTROL, cache)], Json(keys)).into_response()
}

/// What `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server` say.
#[derive(Serialize, ToSchema)]
pub struct ServerMetadata {
    /// `JWT_ISSUER`: the `iss` of every token.
    pub issuer: String,
    pub jwks_uri: String,
    /// RFC 7662 (`POST /oauth/introspect`, client authentication by HTTP Basic).
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 7009 (`POST /oauth/revoke`).
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The algorithms tokens are signed with now (the signing one first).
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
}

#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "discovery",
    responses((status = 200, description = "OpenID Connect discovery: only what Gatehouse serves (no authorization or token endpoint: logins are `/login` and `/auth/login`)", body = ServerMetadata)))]
pub async fn openid_configuration(State(state): State<AppState>, headers: HeaderMap) -> Response {
    metadata(&state, &headers)
}

#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "discovery",
    responses((status = 200, description = "RFC 8414 authorization server metadata: the same document", body = ServerMetadata)))]
pub async fn oauth_authorization_server(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    metadata(&state, &headers)
}

fn metadata(state: &AppState, headers: &HeaderMap) -> Response {
    let discovery = &state.discovery;
    let (base, configured) = base_url(discovery, headers);
    let basic = vec!["client_secret_basic"];
    let body = ServerMetadata {
        issuer: discovery.issuer.clone(),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        introspection_endpoint: format!("{base}/oauth/introspect"),
        introspection_endpoint_auth_methods_supported: basic.clone(),
        revocation_endpoint: format!("{base}/oauth/revoke"),
        revocation_endpoint_auth_methods_supported: basic,
        id_token_signing_alg_values_supported: state.keys.algorithms(state.clock.now()),
        subject_types_supported: vec!["public"],
        claims_supported: vec![
            "sub", "username", "email", "admin", "iat", "exp", "jti", "iss", "sid",
        ],
    };
    // A document built from the request's Host must not be shared by caches.
    let cache = match configured {
        true => format!("public, max-age={}", discovery.jwks_max_age_secs),
        false => "no-store".to_owned(),
    };
    ([(CACHE_CONTROL, cache)], Json(body)).into_response()
}

/// The URLs' base, and whether it was configured (not taken from the request).
fn base_url(discovery: &Discovery, headers: &HeaderMap) -> (String, bool) {
    if let Some(url) = &discovery.public_url {
        return (url.clone(), true);
    }
    let issuer = discovery.issuer.trim_end_matches('/');
    if issuer.starts_with("https://") || issuer.starts_with("http://") {
        return (issuer.to_owned(), true);
    }
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| is_host(host))
        .unwrap_or("localhost");
    (format!("http://{host}"), false)
}

/// A `Host` value fit to put in a URL: a name or address and a port, nothing else.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}
