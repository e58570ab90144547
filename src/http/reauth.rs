//! `POST /auth/reauth`: a signed-in user proves themselves again (the password, and the second
//! factor when they have one), for the changes that need a recent sign-in (`RecentSignIn`),
//! and gets a fresh access token for the same session.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AppError;
use super::extract::{AuthUser, JsonObject};
use super::fields::{field, Field};
use super::mfa::proof_in;
use super::state::AppState;
use crate::auth::login::FactorCheck;
use crate::auth::session::ClientInfo;
use crate::auth::sign_in::SecondFactor;

#[derive(Deserialize, ToSchema)]
pub struct ReauthRequest {
    pub password: String,
    /// The current TOTP code: required when the user has TOTP (or `recovery_code`).
    pub code: Option<String>,
    /// One of the user's recovery codes, instead of `code` (used up).
    pub recovery_code: Option<String>,
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

/// Re-authentication with the password, and for a user with TOTP a code (or a recovery code):
/// the same proof a login asks for, so a step-up never lowers the session's `acr`. The
/// session's tokens say `auth_time` = now from then on (refreshes keep it); the refresh token
/// is unchanged. Wrong passwords and codes count toward the lockout like a login's. A token
/// of no session (the old service's) starts a new session.
#[utoipa::path(post, path = "/auth/reauth", tag = "auth", request_body = ReauthRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Re-authenticated: a fresh access token", body = ReauthResponse),
        (status = 400, description = "Missing or malformed fields", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, an ended session, an incorrect password, a wrong or used code, or (`mfa_required: true`) no code from a user with TOTP", body = crate::http::ErrorBody),
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
    let proof = proof_in(&body)?;
    let has_totp = state.mfa.active_totp(user.user_id).await?.is_some();
    let confirmed = state
        .accounts
        .confirm_password(user.user_id, password.to_owned(), has_totp)
        .await?;
    let second_factor = match has_totp {
        true => Some(second_factor(&state, &confirmed, proof, &client).await?),
        false => None,
    };
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

/// The second factor a user with TOTP gave, checked (used up, counted by the lockout).
async fn second_factor(
    state: &AppState,
    user: &crate::store::User,
    proof: Option<crate::auth::mfa::Proof>,
    client: &ClientInfo,
) -> Result<SecondFactor, AppError> {
    let proof = proof.ok_or(AppError::MfaRequired(None))?;
    let ip = client.ip.parse().ok();
    match state
        .login
        .check_second_factor(&user.email, user.id, &proof, ip)
        .await?
    {
        FactorCheck::Valid(factor) => Ok(factor),
        FactorCheck::Invalid => Err(AppError::Unauthorized("Invalid code")),
        FactorCheck::Locked(locked) => Err(AppError::locked(locked)),
    }
}
