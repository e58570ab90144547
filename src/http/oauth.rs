//! The OAuth endpoints for other services: `POST /oauth/introspect` (RFC 7662) and
//! `POST /oauth/revoke` (RFC 7009), each for a client that authenticates with HTTP Basic
//! (`gatehouse client add`), each taking a form body `token=…` (and an optional
//! `token_type_hint`, which is not needed: a token's shape says what it is).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::error::AppError;
use super::extract::basic_credentials;
use super::state::AppState;
use crate::auth::clients::Client;
use crate::auth::introspection::Introspection;

/// The form both endpoints take. (Documentation only: `token_form` reads the fields.)
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// An access token or a refresh token.
    #[schema(min_length = 1)]
    token: String,
    /// `access_token` or `refresh_token`; accepted and not needed.
    token_type_hint: Option<String>,
}

/// `{"active": false}`, or `{"active": true, …}` with the token's claims.
/// (Documentation only: the handler writes the JSON.)
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
pub struct IntrospectionResponse {
    /// Whether the token would be accepted now: by `/validate` (an access token) or by
    /// `/auth/token/refresh` (a refresh token).
    active: bool,
    /// `access_token` or `refresh_token` (only when active).
    token_type: Option<String>,
    /// The user id, as a string.
    sub: Option<String>,
    /// The session the token belongs to.
    sid: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    /// Access tokens only: the rest of their claims (`username`, `email`, `admin`, `jti`,
    /// `iss`), as `/validate` returns them.
    jti: Option<String>,
}

/// RFC 6749 §5.2's error body: `{"error": "invalid_client"}`, `{"error": "invalid_request", …}`.
#[derive(serde::Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

/// The failures both endpoints share, documented once.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum OAuthFailures {
    /// `invalid_request`: no `token`, a repeated parameter, or a body that is not a form
    #[response(status = 400)]
    InvalidRequest(OAuthErrorBody),
    /// `invalid_client`: missing or wrong client credentials
    #[response(status = 401)]
    InvalidClient(OAuthErrorBody),
    /// Body too large
    #[response(status = 413)]
    TooLarge(crate::http::ErrorBody),
    /// Too many requests from this client address; see `Retry-After`
    #[response(status = 429)]
    TooMany(crate::http::ErrorBody),
    /// Database unavailable
    #[response(status = 503)]
    Unavailable(crate::http::ErrorBody),
}

/// A client that presented a valid id and secret with HTTP Basic. One database read.
pub struct OAuthClient(pub Client);

impl FromRequestParts<AppState> for OAuthClient {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some((id, secret)) = basic_credentials(&parts.headers) else {
            return Err(AppError::InvalidClient);
        };
        match state.clients.authenticate(&id, &secret).await? {
            Some(client) => Ok(OAuthClient(client)),
            None => Err(AppError::InvalidClient),
        }
    }
}

/// A form body as sent, or why it could not be read.
type FormBody = Result<Form<Vec<(String, String)>>, FormRejection>;

/// The `token` of the form; `token` and `token_type_hint` at most once (RFC 6749 §3.2).
fn token_form(form: FormBody) -> Result<String, AppError> {
    let Form(pairs) = form.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::InvalidRequest("Expected Content-Type: application/x-www-form-urlencoded")
        }
        _ => AppError::InvalidRequest("The body is not a valid form"),
    })?;
    // Other parameters are ignored (RFC 6749 §3.2 forbids repeating the defined ones only).
    for defined in ["token", "token_type_hint"] {
        if pairs.iter().filter(|(name, _)| name == defined).count() > 1 {
            return Err(AppError::InvalidRequest(
                "A parameter was sent more than once",
            ));
        }
    }
    match pairs.into_iter().find(|(name, _)| name == "token") {
        Some((_, token)) if !token.is_empty() => Ok(token),
        _ => Err(AppError::InvalidRequest("token is required")),
    }
}

/// Says whether a token is live, and if so its claims. An access token is answered from
/// memory, as `/validate` answers it; a refresh token costs one session read. Anything not
/// live (expired, revoked, logged out, unknown, malformed) is `{"active": false}`.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = [])),
    responses(
        (status = 200, description = "Whether the token is live, and its claims", body = IntrospectionResponse),
        OAuthFailures,
    ))]
pub async fn introspect(
    State(state): State<AppState>,
    _client: OAuthClient,
    form: FormBody,
) -> Result<Json<Value>, AppError> {
    let token = token_form(form)?;
    let answer = match state.inspector.introspect(&token).await? {
        Introspection::Access(claims) => {
            let mut fields = match serde_json::to_value(claims) {
                Ok(Value::Object(fields)) => fields,
                _ => Map::new(),
            };
            fields.insert("active".into(), Value::Bool(true));
            fields.insert("token_type".into(), "access_token".into());
            Value::Object(fields)
        }
        Introspection::Refresh(live) => json!({
            "active": true,
            "token_type": "refresh_token",
            "sub": live.user_id.to_string(),
            "sid": live.session_id,
            "iss": state.discovery.issuer,
            "iat": live.issued_at,
            "exp": live.expires_at,
        }),
        Introspection::Inactive => json!({ "active": false }),
    };
    Ok(Json(answer))
}

/// Revokes a token: an access token alone (by its `jti`), or a refresh token's whole session,
/// on every replica within the revocation bound. 200 with an empty body, also for a token
/// that is unknown, malformed or already dead (RFC 7009 §2.2).
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    security(("basic" = [])),
    responses(
        (status = 200, description = "Revoked, or nothing to revoke"),
        OAuthFailures,
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    _client: OAuthClient,
    form: FormBody,
) -> Result<StatusCode, AppError> {
    let token = token_form(form)?;
    state.inspector.revoke(&token).await?;
    Ok(StatusCode::OK)
}
