//! Seed 003's `GET /profile`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::AppError;
use super::extract::AuthUser;
use super::state::AppState;
use crate::auth::token::TokenError;

#[derive(Serialize, ToSchema)]
pub struct Profile {
    pub user_id: i64,
    /// The username, or the email for users who have none.
    pub username: String,
    pub email: String,
}

#[utoipa::path(get, path = "/profile", tag = "gateway", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile", body = Profile),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn profile(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Profile>, AppError> {
    let user = state
        .store
        .find_user_by_id(user.user_id)
        .await?
        .ok_or(AppError::InvalidToken(TokenError::UserBlocked))?;
    Ok(Json(Profile {
        user_id: user.id,
        username: user.username.unwrap_or_else(|| user.email.clone()),
        email: user.email,
    }))
}
