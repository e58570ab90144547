//! Sessions: refresh-token rotation, listing and ending sessions, logout (one or all).

use axum::extract::{Path, RawQuery, State};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth_api::{StatusMessage, TokenMessage};
use super::extract::{AuthUser, JsonObject};
use super::fields::{field, Field};
use crate::app::AppState;
use crate::auth::revocation::RevocationEvent;
use crate::auth::revocation_sync::publish;
use crate::auth::session::{end_sessions, refresh_session, RefreshOutcome};
use crate::auth::CLOCK_SKEW_LEEWAY_SECS;
use crate::error::AppError;
use crate::http::rfc3339;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/logout", post(logout))
        .route("/auth/token/refresh", post(refresh))
        .route("/auth/sessions", get(list_sessions))
        .route("/auth/sessions/{id}", delete(end_session))
}

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
    let all = match query.as_deref().unwrap_or_default() {
        "" | "scope=current" => false,
        "scope=all" => true,
        _ => return Err(AppError::BadRequest("scope must be current or all".into())),
    };
    let claims = &user.claims;
    if all {
        // Include sessions that just expired: their last tokens pass within the leeway.
        let expires_after = state.clock.now() - CLOCK_SKEW_LEEWAY_SECS;
        let ids: Vec<String> = state
            .store
            .active_sessions(user.user_id, expires_after)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        end_sessions(&state, &ids).await?;
        // The old service's tokens have no session: cut them off by their issue time. Recorded
        // even while they are not accepted, so that turning them on cannot bring these back.
        state
            .store
            .revoke_legacy_tokens(user.user_id, state.clock.now())
            .await?;
        publish(&state.revocations, &state.store, RevocationEvent::Users).await;
    }
    match &claims.sid {
        Some(sid) => {
            end_sessions(&state, std::slice::from_ref(sid)).await?;
        }
        // A token from before sessions existed: revoke the token itself.
        None => {
            let now = state.clock.now();
            // Database first: once the client hears "success", a restart cannot bring it back.
            state
                .store
                .revoke_token(&claims.jti, user.user_id, claims.exp, now)
                .await?;
            let event = RevocationEvent::Token {
                jti: claims.jti.clone(),
                expires_at: claims.exp,
            };
            publish(&state.revocations, &state.store, event).await;
        }
    }
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
    match refresh_session(&state, presented).await? {
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
    let sessions = state
        .store
        .active_sessions(user.user_id, state.clock.now())
        .await?;
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
    let now = state.clock.now();
    let owned = state
        .store
        .find_session(&id)
        .await?
        .is_some_and(|s| s.user_id == user.user_id && s.may_have_live_tokens(now));
    if !owned {
        return Err(AppError::NotFound("Session not found"));
    }
    end_sessions(&state, &[id]).await?;
    Ok(Json(StatusMessage {
        status: "success",
        message: "Session ended",
    }))
}
