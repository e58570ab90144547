//! Extractors: what a handler needs from the request, stated in its signature.

use axum::body::Bytes;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::client_address::client_address;
use super::error::AppError;
use super::state::AppState;
use crate::auth::session::ClientInfo;
use crate::auth::sign_in::SignIn;
use crate::auth::token::{Claims, TokenError};

/// A caller holding a valid, unrevoked access token of an active user.
/// Checking it touches only memory: signature, clock, and the revocation list. (A token of the
/// old service, accepted with `ACCEPT_LEGACY_TOKENS=true`, may cost one query: see
/// `legacy::tokens`.)
#[derive(Debug)]
pub struct AuthUser {
    pub claims: Claims,
    pub user_id: i64,
    /// The token's payload exactly as signed.
    pub raw_claims: Vec<u8>,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers).map_err(AppError::InvalidToken)?;
        let authenticated = state.access.authenticate(token).await?;
        Ok(AuthUser {
            claims: authenticated.claims,
            user_id: authenticated.user_id,
            raw_claims: authenticated.raw_claims,
        })
    }
}

/// A caller whose sign-in is recent: `auth_time` within `REAUTH_MAX_AGE_SECS`. What a
/// password change, removing the second factor and new recovery codes require, so that a
/// stolen token alone cannot take an account over. Otherwise 401 `reauth_required`.
/// Tokens without `auth_time` (the old service's, or Gatehouse's from before it) never pass.
#[derive(Debug)]
pub struct RecentSignIn(pub AuthUser);

impl FromRequestParts<AppState> for RecentSignIn {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        let now = state.clock.now();
        let recent = user
            .claims
            .auth_time
            .is_some_and(|at| SignIn::is_recent(at, now, state.reauth_max_age_secs));
        match recent {
            true => Ok(RecentSignIn(user)),
            false => Err(AppError::ReauthRequired),
        }
    }
}

/// The caller's user agent and address, recorded with the sessions it starts. The address is
/// the one `client_address` resolved: the TCP peer, or behind a trusted proxy the client it
/// forwarded for.
impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let ip = client_address(&state.trusted_proxies, &parts.extensions, &parts.headers)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        Ok(ClientInfo::new(user_agent, ip))
    }
}

/// The token from `Authorization: Bearer <token>`, or the bare token as the whole value
/// (seed 000's clients send that).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, TokenError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(TokenError::Missing);
    };
    let value = value.to_str().map_err(|_| TokenError::Invalid)?.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::Missing);
    }
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => match token.trim() {
            "" => Err(TokenError::Missing),
            token => Ok(token),
        },
        Some(_) => Err(TokenError::Invalid),
        None => Ok(value),
    }
}

/// `(username, password)` from `Authorization: Basic …`; `None` when absent or undecodable.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

pub fn has_basic_scheme(headers: &HeaderMap) -> bool {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
        })
}

pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

/// A JSON object body. Seed 002 tells "missing" from "null" from "wrong type", so handlers read
/// fields from the map (see `http::fields`) rather than deserialising into a struct.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(AppError::UnsupportedMediaType(
                "Expected Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("Could not read the request body".into())
            }
        })?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(AppError::BadRequest(
                "Request body must be a JSON object".into(),
            )),
            Err(e) => Err(AppError::BadRequest(format!(
                "Request body is not valid JSON: {e}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn auth(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    #[test]
    fn bearer_and_bare_tokens_are_accepted() {
        assert_eq!(
            bearer_token(&auth(b"Bearer abc.def.ghi")),
            Ok("abc.def.ghi")
        );
        assert_eq!(bearer_token(&auth(b"bearer   abc")), Ok("abc"));
        assert_eq!(bearer_token(&auth(b"abc.def.ghi")), Ok("abc.def.ghi"));
    }

    #[test]
    fn odd_authorization_values_are_refused_not_panicked_on() {
        assert_eq!(bearer_token(&HeaderMap::new()), Err(TokenError::Missing));
        assert_eq!(bearer_token(&auth(b"Bearer ")), Err(TokenError::Missing));
        assert_eq!(bearer_token(&auth(b"Basic dTpw")), Err(TokenError::Invalid));
        assert_eq!(
            bearer_token(&auth(b"Bearer \xff\xfe")),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn basic_credentials_decode() {
        // "ada@example.com:pa:ss" — the password may contain colons.
        let headers = auth(b"Basic YWRhQGV4YW1wbGUuY29tOnBhOnNz");
        assert_eq!(
            basic_credentials(&headers),
            Some(("ada@example.com".into(), "pa:ss".into()))
        );
        assert!(has_basic_scheme(&headers));
        assert_eq!(basic_credentials(&auth(b"Basic !!!")), None);
        assert_eq!(basic_credentials(&auth(b"Basic bm9jb2xvbg==")), None); // "nocolon"
        assert_eq!(basic_credentials(&auth(b"Bearer x")), None);
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(is_json(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&headers));
    }
}
