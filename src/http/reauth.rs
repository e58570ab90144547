//! `POST /auth/reauth`: a signed-in user proves themselves again, for the changes that need a
//! recent sign-in (`RecentSignIn`), and gets a fresh access token for the same session.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AppError;
use super::extract::{AuthUser, JsonObject};
use super::fields::{field, Field};
use super::state::AppState;
use crate::auth::session::ClientInfo;

#[derive(Deserialize, ToSchema)]
pub struct ReauthRequest {
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReauthResponse {
    /// `success`
    pub status: &'static str,
    pub message: &'static str,
    /// A fresh access token of the same session, its `auth_time` now.
    pub jwt_token: String,
    /// Seconds until `jwt_token` expires.
    pub expires_in: i64,
}

/// Re-authentication with the password. The session's tokens say `auth_time` = now from then
/// on (refreshes keep it); the refresh token is unchanged. A wrong password counts toward the
/// lockout like a login. A token of no session (the old service's) starts a new session.
#[utoipa::path(post, path = "/auth/reauth", tag = "auth", request_body = ReauthRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Re-authenticated: a fresh access token", body = ReauthResponse),
        (status = 400, description = "Missing or malformed fields", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, an ended session, or an incorrect password", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 429, description = "Too many wrong passwords for this account lately, or too many requests from this client address; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 503, description = "Busy or database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn reauth(
    State(state): State<AppState>,
    user: AuthUser,
    client: ClientInfo,
    JsonObject(body): JsonObject,
) -> Result<Json<ReauthResponse>, AppError> {
    let Field::Text(password) = field(&body, "password") else {
        return Err(AppError::BadRequest("password is a required string".into()));
    };
    let confirmed = state
        .accounts
        .confirm_password(user.user_id, password.to_owned())
        .await?;
    let second_factor = None;
    let issued = match user.claims.sid.as_deref() {
        Some(sid) => state
            .sessions
            .renew_sign_in(&confirmed, sid, second_factor)
            .await?
            .ok_or(AppError::Unauthorized("Session ended. Please log in again"))?,
        None => {
            state
                .sessions
                .start(&confirmed, &client, false, second_factor)
                .await?
        }
    };
    Ok(Json(ReauthResponse {
        status: "success",
        message: "Re-authenticated",
        jwt_token: issued.access_token,
        expires_in: issued.expires_in,
    }))
}
