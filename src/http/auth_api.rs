//! Seed 002's `/auth/*` surface: signup, login, user details, ping (logout is in `sessions`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::AppError;
use super::extract::{AuthUser, JsonObject, RecentSignIn};
use super::fields::{field, Field};
use super::login_record::record_login;
use super::state::AppState;
use crate::auth::login::{LoginName, LoginOutcome};
use crate::auth::session::{ClientInfo, IssuedSession};
use crate::auth::token::TokenError;
use crate::metrics::LoginContract;
use crate::time_format::http_date;

#[derive(Serialize, ToSchema)]
pub struct StatusMessage {
    /// `success`
    pub status: &'static str,
    pub message: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct TokenMessage {
    pub status: &'static str,
    pub message: &'static str,
    /// The access token.
    pub jwt_token: String,
    /// Exchange at `POST /auth/token/refresh` for a new pair; shown once.
    pub refresh_token: String,
    /// Seconds until `jwt_token` expires.
    pub expires_in: i64,
}

impl TokenMessage {
    pub fn new(message: &'static str, session: IssuedSession) -> Self {
        Self {
            status: "success",
            message,
            jwt_token: session.access_token,
            refresh_token: session.refresh_token.unwrap_or_default(),
            expires_in: session.expires_in,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    // The patterns restate `validation::normalise_email` / `normalise_name` for API clients.
    #[schema(
        pattern = r"^\s*[^@\s\x00-\x1f\x7f-\x9f]{1,64}@([^@.\s\x00-\x1f\x7f-\x9f]+\.)+[^@.\s\x00-\x1f\x7f-\x9f]+\s*$",
        max_length = 254
    )]
    pub email: String,
    // The default; `openapi::describe_password_policy` sets the configured minimum.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", max_length = 200)]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserDetails {
    pub email: String,
    pub name: String,
    pub admin: bool,
    /// HTTP date, as Flask serialises datetimes: `Mon, 23 Nov 2026 14:05:12 GMT`.
    pub registered_on: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserDetailsResponse {
    pub status: &'static str,
    pub message: &'static str,
    pub details: UserDetails,
}

#[utoipa::path(get, path = "/auth/ping", tag = "auth",
    responses((status = 200, description = "Service is up", body = StatusMessage)))]
pub async fn ping() -> Json<StatusMessage> {
    Json(StatusMessage {
        status: "success",
        message: "APIs are up and running",
    })
}

#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, description = "Signed up; a token for the new user", body = TokenMessage),
        (status = 400, description = "Missing, null or invalid fields, or a malformed body", body = crate::http::ErrorBody),
        (status = 409, description = "The email is taken", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 429, description = "Too many requests from this client address; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 503, description = "Busy or database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn signup(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<TokenMessage>), AppError> {
    let fields = ["email", "password", "name"].map(|name| field(&body, name));
    if fields.contains(&Field::Missing) {
        return Err(AppError::BadRequest("Required fields are missing.".into()));
    }
    if fields.contains(&Field::Null) {
        return Err(AppError::BadRequest(
            "One or more required fields are null".into(),
        ));
    }
    let [Field::Text(email), Field::Text(password), Field::Text(name)] = fields else {
        return Err(AppError::BadRequest(
            "email, password and name must be strings".into(),
        ));
    };
    let user = state.accounts.sign_up(email, password, name).await?;
    let session = state.sessions.start(&user, &client, true, None).await?;
    let body = TokenMessage::new("User signed up successful.", session);
    Ok((StatusCode::CREATED, Json(body)))
}

#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenMessage),
        (status = 400, description = "Malformed body or fields of the wrong type", body = crate::http::ErrorBody),
        (status = 401, description = "Missing fields, or incorrect email or password; or the right password of a user with TOTP: `MFA code required` with `mfa_required: true` and the `mfa_token` for `POST /auth/login/mfa`", body = crate::http::ErrorBody),
        (status = 403, description = "Correct password, disabled account", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 429, description = "Too many failed logins for this email (any email, known or not), or from this client; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 503, description = "Busy or database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonObject(body): JsonObject,
) -> Result<Json<TokenMessage>, AppError> {
    let (email, password) = match (field(&body, "email"), field(&body, "password")) {
        (Field::Text(email), Field::Text(password)) => (email, password.to_owned()),
        (Field::WrongType, _) | (_, Field::WrongType) => {
            return Err(AppError::BadRequest(
                "email and password must be strings".into(),
            ))
        }
        _ => return Err(AppError::Unauthorized("Email / Password missing")),
    };
    let login = LoginName::Email(email);
    let contract = LoginContract::AuthLogin;
    let outcome = state.login.login(login, password, &client, contract).await;
    match record_login(&state, LoginContract::AuthLogin, outcome)? {
        LoginOutcome::Success(session) => {
            Ok(Json(TokenMessage::new("User login successful.", session)))
        }
        LoginOutcome::InvalidCredentials => {
            Err(AppError::Unauthorized("Incorrect email or password"))
        }
        LoginOutcome::Disabled => Err(AppError::Forbidden("Account disabled")),
        LoginOutcome::Locked(locked) => Err(AppError::locked(locked)),
        LoginOutcome::MfaRequired(mfa_token) => Err(AppError::MfaRequired(mfa_token)),
    }
}

#[utoipa::path(get, path = "/auth/user", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's details", body = UserDetailsResponse),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn user_details(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<UserDetailsResponse>, AppError> {
    let user = state
        .store
        .find_user_by_id(user.user_id)
        .await?
        .ok_or(AppError::InvalidToken(TokenError::UserBlocked))?;
    let details = UserDetails {
        registered_on: http_date(user.created_at),
        email: user.email,
        name: user.name,
        admin: user.admin,
    };
    Ok(Json(UserDetailsResponse {
        status: "success",
        message: "Successfully fetched user details",
        details,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    // The default; `openapi::describe_password_policy` sets the configured minimum.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

/// Changes the caller's password. Every other session of the user ends (and the old service's
/// tokens with them); the caller's own goes on. The caller's sign-in must be recent
/// (`REAUTH_MAX_AGE_SECS`): a stolen token and a phished password are not enough later.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Changed; the caller's other sessions are ended", body = StatusMessage),
        (status = 400, description = "Missing or malformed fields, or a new password the rules refuse", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, an incorrect current password, or a sign-in older than `REAUTH_MAX_AGE_SECS` (`reauth_required: true`: see `POST /auth/reauth`)", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 429, description = "Too many wrong passwords for this account lately, or too many requests from this client address; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 503, description = "Busy or database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    RecentSignIn(user): RecentSignIn,
    JsonObject(body): JsonObject,
) -> Result<Json<StatusMessage>, AppError> {
    let fields = ["current_password", "new_password"].map(|name| field(&body, name));
    let [Field::Text(current), Field::Text(new)] = fields else {
        return Err(AppError::BadRequest(
            "current_password and new_password are required strings".into(),
        ));
    };
    let session = user.claims.sid.as_deref().unwrap_or_default();
    state
        .accounts
        .change_password(user.user_id, session, current.to_owned(), new.to_owned())
        .await?;
    Ok(Json(StatusMessage {
        status: "success",
        message: "Password changed",
    }))
}
