//! The gateway contract of seeds 000, 003 and 004: `POST /login` and `POST /validate`.

use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{AppError, LOCKED_MESSAGE};
use super::extract::{basic_credentials, has_basic_scheme, is_json, AuthUser, JsonObject};
use super::fields::{field, Field};
use super::login_record::record_login;
use super::state::AppState;
use crate::auth::lockout::Locked;
use crate::auth::login::{LoginName, LoginOutcome};
use crate::auth::session::ClientInfo;
use crate::metrics::LoginContract;

/// Seed 003's JSON login: `username` (a username or an email) or `email`, and `password`.
/// (Documentation only: the handler reads the fields itself to answer each mistake precisely.)
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum JsonLoginRequest {
    ByUsername { username: String, password: String },
    ByEmail { email: String, password: String },
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
    /// Exchange at `POST /auth/token/refresh` for a new pair; shown once.
    pub refresh_token: String,
    /// Seconds until `token` expires.
    pub expires_in: i64,
}

/// Logs in with HTTP Basic (seeds 000/004: the token as plain text) or a JSON body (seed 003).
#[utoipa::path(
    post, path = "/login", tag = "gateway",
    request_body(content = JsonLoginRequest, content_type = "application/json",
        description = "Seed 003 form; omit it and send `Authorization: Basic` for seeds 000/004"),
    security((), ("basic" = [])),
    responses(
        (status = 200, description = "Basic: the token as text; JSON: `{token}`",
            content((String = "text/plain"), (TokenResponse = "application/json"))),
        (status = 400, description = "Malformed JSON body", body = crate::http::ErrorBody),
        (status = 401, description = "Missing or invalid credentials (text for Basic, JSON otherwise); `MFA code required` for the right password of a user with TOTP (Basic: append the 6-digit code to the password; JSON: `mfa_token` for `POST /auth/login/mfa`)",
            content((String = "text/plain"), (crate::http::ErrorBody = "application/json"))),
        (status = 403, description = "Correct password, disabled account",
            content((String = "text/plain"), (crate::http::ErrorBody = "application/json"))),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 429, description = "Too many failed logins for this name (any name, known or not), or from this client; see `Retry-After` (text for Basic, JSON otherwise)",
            content((String = "text/plain"), (crate::http::ErrorBody = "application/json"))),
        (status = 503, description = "Busy or database unavailable", body = crate::http::ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    request: Request,
) -> Result<Response, AppError> {
    let headers = request.headers();
    if has_basic_scheme(headers) || !is_json(headers) {
        let Some((email, password)) = basic_credentials(headers) else {
            return Ok(basic_failure(
                StatusCode::UNAUTHORIZED,
                "Missing credentials",
            ));
        };
        // Not kept while the login waits for a hasher: a storm holds a thousand such waits.
        drop(request);
        // The text body has no room for a refresh token: a session without one.
        let outcome = state
            .login
            .login(
                LoginName::Email(&email),
                password,
                &client,
                LoginContract::Basic,
            )
            .await;
        let outcome = record_login(&state, LoginContract::Basic, outcome)?;
        return Ok(match outcome {
            LoginOutcome::Success(session) => (
                [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                session.access_token,
            )
                .into_response(),
            LoginOutcome::InvalidCredentials => {
                basic_failure(StatusCode::UNAUTHORIZED, "Invalid credentials")
            }
            LoginOutcome::Disabled => basic_failure(StatusCode::FORBIDDEN, "Account disabled"),
            LoginOutcome::Locked(locked) => basic_locked(locked),
            // The code goes after the password: `password123456`.
            LoginOutcome::MfaRequired(_) => {
                basic_failure(StatusCode::UNAUTHORIZED, "MFA code required")
            }
        });
    }

    let JsonObject(body) = Box::pin(JsonObject::from_request(request, &state)).await?;
    let login = match (field(&body, "username"), field(&body, "email")) {
        (Field::Text(name), _) => LoginName::UsernameOrEmail(name),
        (_, Field::Text(email)) => LoginName::Email(email),
        (Field::WrongType, _) | (_, Field::WrongType) => {
            return Err(AppError::BadRequest(
                "username and email must be strings".into(),
            ))
        }
        _ => return Err(AppError::BadRequest("username or email is required".into())),
    };
    let password = match field(&body, "password") {
        Field::Text(p) => p.to_owned(),
        Field::WrongType => return Err(AppError::BadRequest("password must be a string".into())),
        Field::Missing | Field::Null => {
            return Err(AppError::BadRequest("password is required".into()))
        }
    };
    let contract = LoginContract::Json;
    let outcome = state.login.login(login, password, &client, contract).await;
    match record_login(&state, LoginContract::Json, outcome)? {
        LoginOutcome::Success(session) => Ok(Json(TokenResponse {
            token: session.access_token,
            refresh_token: session.refresh_token.unwrap_or_default(),
            expires_in: session.expires_in,
        })
        .into_response()),
        LoginOutcome::InvalidCredentials => Err(AppError::Unauthorized("Invalid credentials")),
        LoginOutcome::Disabled => Err(AppError::Forbidden("Account disabled")),
        LoginOutcome::Locked(locked) => Err(AppError::locked(locked)),
        LoginOutcome::MfaRequired(mfa_token) => Err(AppError::MfaRequired(mfa_token)),
    }
}

/// The lockout's answer to a Basic login: text, like the rest of seeds 000/004's answers.
fn basic_locked(locked: Locked) -> Response {
    let retry_after = HeaderValue::from(locked.retry_after_secs);
    let mut response = basic_failure(StatusCode::TOO_MANY_REQUESTS, LOCKED_MESSAGE);
    response.headers_mut().insert(RETRY_AFTER, retry_after);
    response
}

/// Seeds 000/004 answer Basic logins in plain text, with a Basic challenge.
fn basic_failure(status: StatusCode, message: &'static str) -> Response {
    let mut response = (
        status,
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response();
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Basic realm="gatehouse""#),
    );
    response
}

/// Returns the claims of a valid, unrevoked token of an active user, with no database query.
/// (A legacy token, accepted with `ACCEPT_LEGACY_TOKENS=true`, costs one cached user lookup.)
#[utoipa::path(
    post, path = "/validate", tag = "gateway",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's claims", body = crate::auth::token::Claims),
        (status = 401, description = "Missing, malformed, badly signed, expired or revoked token",
            body = crate::http::ErrorBody),
        (status = 503, description = "A legacy token's user could not be looked up (database unavailable)",
            body = crate::http::ErrorBody),
    )
)]
pub async fn validate(user: AuthUser) -> Response {
    ([(CONTENT_TYPE, "application/json")], user.raw_claims).into_response()
}
