//! Sessions: refresh-token rotation, listing and ending sessions, logout (one or all).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth_api::{StatusMessage, TokenMessage};
use super::error::AppError;
use super::extract::{AuthUser, JsonObject};
use super::fields::{field, Field};
use super::state::AppState;
use crate::auth::session::{LogoutScope, RefreshOutcome};
use crate::time_format::rfc3339;

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    /// RFC 3339 times.
    pub created_at: String,
    pub last_used_at: String,
    pub expires_at: String,
    pub user_agent: String,
    pub client_ip: String,
    /// True for the session of the token that asked.
    pub current: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub status: &'static str,
    pub message: &'static str,
    pub sessions: Vec<SessionView>,
}

/// Ends the caller's session (`?scope=all`: every session of the caller, and every token the
/// old service issued them until now). Its access and refresh tokens are refused from then
/// on, by every replica.
#[utoipa::path(post, path = "/auth/logout", tag = "sessions", security(("bearer" = [])),
    params(("scope" = Option<String>, Query, description = "`current` (default) or `all`", pattern = "^(current|all)$")),
    responses(
        (status = 200, description = "Logged out", body = StatusMessage),
        (status = 400, description = "Unknown scope", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or already revoked token", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    user: AuthUser,
) -> Result<Json<StatusMessage>, AppError> {
    let scope = match query.as_deref().unwrap_or_default() {
        "" | "scope=current" => LogoutScope::Current,
        "scope=all" => LogoutScope::All,
        _ => return Err(AppError::BadRequest("scope must be current or all".into())),
    };
    state
        .sessions
        .logout(user.user_id, &user.claims, scope)
        .await?;
    Ok(Json(StatusMessage {
        status: "success",
        message: "Logout Successful",
    }))
}

/// Exchanges a refresh token for a new access token and a new refresh token (rotation).
#[utoipa::path(post, path = "/auth/token/refresh", tag = "sessions", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and refresh token", body = TokenMessage),
        (status = 400, description = "Missing or malformed refresh_token", body = crate::http::ErrorBody),
        (status = 401, description = "Unknown, expired or ended; or reused, which ends the session", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 429, description = "Too many requests from this client address; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<TokenMessage>, AppError> {
    let presented = match field(&body, "refresh_token") {
        Field::Text(token) => token,
        Field::WrongType => {
            return Err(AppError::BadRequest(
                "refresh_token must be a string".into(),
            ))
        }
        Field::Missing | Field::Null => {
            return Err(AppError::BadRequest("refresh_token is required".into()))
        }
    };
    match state.sessions.refresh(presented).await? {
        RefreshOutcome::Renewed(session) => Ok(Json(TokenMessage::new("Token refreshed", session))),
        RefreshOutcome::Invalid => Err(AppError::Unauthorized("Invalid refresh token")),
        RefreshOutcome::ReuseDetected => Err(AppError::Unauthorized(
            "Refresh token reuse detected; the session has been ended",
        )),
    }
}

/// The caller's active sessions, newest first.
#[utoipa::path(get, path = "/auth/sessions", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "Active sessions", body = SessionList),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn list_sessions(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<SessionList>, AppError> {
    let sessions = state.sessions.list(user.user_id).await?;
    let current = user.claims.sid.as_deref();
    let sessions = sessions
        .into_iter()
        .map(|s| SessionView {
            current: current == Some(s.id.as_str()),
            created_at: rfc3339(s.created_at),
            last_used_at: rfc3339(s.last_used_at),
            expires_at: rfc3339(s.expires_at),
            id: s.id,
            user_agent: s.user_agent,
            client_ip: s.client_ip,
        })
        .collect();
    Ok(Json(SessionList {
        status: "success",
        message: "Active sessions",
        sessions,
    }))
}

/// Ends one of the caller's sessions (for example a lost device).
#[utoipa::path(delete, path = "/auth/sessions/{id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "A session id from `GET /auth/sessions`")),
    responses(
        (status = 200, description = "The session is ended", body = StatusMessage),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 404, description = "No active session of the caller's with that id", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn end_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
    user: AuthUser,
) -> Result<Json<StatusMessage>, AppError> {
    if !state.sessions.end_own(user.user_id, id).await? {
        return Err(AppError::NotFound("Session not found"));
    }
    Ok(Json(StatusMessage {
        status: "success",
        message: "Session ended",
    }))
}
