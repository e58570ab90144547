//! `AppError`: the one error type handlers return, and the one place domain errors become HTTP
//! statuses (pinned by the tests below).
//!
//! Clients get a status and a plain message in `{"status": "failed", "message": …}`; internal
//! causes are logged here and never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::accounts::AccountError;
use crate::auth::access::AccessError;
use crate::auth::clients::ClientError;
use crate::auth::introspection::IntrospectionError;
use crate::auth::lockout::Locked;
use crate::auth::login::LoginError;
use crate::auth::mfa::MfaError;
use crate::auth::password::HashError;
use crate::auth::session::SessionError;
use crate::auth::token::TokenError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    /// 401 for a failed credential check (JSON logins).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 401 for a bearer token that was missing or refused.
    #[error("invalid token: {0}")]
    InvalidToken(TokenError),
    /// 401 for a sensitive change with a sign-in older than `REAUTH_MAX_AGE_SECS`: the body
    /// says `"reauth_required": true`, and `POST /auth/reauth` gives a fresh token.
    #[error("Recent sign-in required: sign in again, or POST /auth/reauth")]
    ReauthRequired,
    /// 401 for an OAuth client whose Basic credentials are missing or wrong (RFC 6749 §5.2:
    /// `{"error": "invalid_client"}` and a Basic challenge).
    #[error("invalid_client")]
    InvalidClient,
    /// 400 for a malformed request to an OAuth endpoint (RFC 6749 §5.2: `invalid_request`).
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// 401 for a right password of a user with a second factor: the body adds
    /// `"mfa_required": true` and the `mfa_token` to complete the login with.
    #[error("MFA code required")]
    MfaRequired(Option<String>),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// 429: too many attempts (the lockout, or a client's rate limit); the message is the
    /// same for every account, known or not.
    #[error("{message}")]
    TooManyAttempts {
        message: &'static str,
        retry_after_secs: u64,
    },
    /// The password hashing queue is full: come back in a moment.
    #[error("server busy")]
    Busy,
    /// The database did not answer.
    #[error("database unavailable")]
    Unavailable(#[source] StoreError),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) | AppError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_)
            | AppError::InvalidToken(_)
            | AppError::InvalidClient
            | AppError::ReauthRequired
            | AppError::MfaRequired(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy | AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client reads. Token messages are seed 002's, word for word.
    fn client_message(&self) -> String {
        match self {
            AppError::InvalidToken(reason) => token_message(*reason).to_owned(),
            AppError::Busy => "Too many logins in progress, retry shortly".to_owned(),
            AppError::Unavailable(_) => "Database unavailable, retry shortly".to_owned(),
            AppError::Internal(_) => "Internal server error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl AppError {
    /// The lockout's answer, word for word the same for every name.
    pub fn locked(locked: Locked) -> Self {
        AppError::TooManyAttempts {
            message: LOCKED_MESSAGE,
            retry_after_secs: locked.retry_after_secs,
        }
    }
}

/// What a locked login name is told (JSON `message`, or the Basic text answer).
pub const LOCKED_MESSAGE: &str = "Too many failed login attempts, try again later";

pub fn token_message(reason: TokenError) -> &'static str {
    match reason {
        TokenError::Missing => "Auth token missing",
        TokenError::BadSignature => "Token Signature doesn't match",
        TokenError::Expired => "Signature is expired. Please log in again to refresh",
        TokenError::Revoked => "JWT token is blocked. Please login again",
        TokenError::UserBlocked => "User account is disabled",
        TokenError::Invalid => "Invalid token signature",
    }
}

/// The JSON body every error shares.
pub fn error_body(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "status": "failed", "message": message })),
    )
        .into_response()
}

/// The OAuth endpoints' error body (RFC 6749 §5.2).
fn oauth_error_body(status: StatusCode, error: &str, description: Option<&str>) -> Response {
    let body = match description {
        Some(description) => json!({ "error": error, "error_description": description }),
        None => json!({ "error": error }),
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Unavailable(cause) => tracing::warn!(error = %cause, "database unavailable"),
            AppError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            _ => {}
        }
        let mut response = match &self {
            AppError::InvalidClient => oauth_error_body(self.status(), "invalid_client", None),
            AppError::InvalidRequest(why) => {
                oauth_error_body(self.status(), "invalid_request", Some(why))
            }
            AppError::MfaRequired(mfa_token) => {
                let mut body = json!({
                    "status": "failed",
                    "message": self.client_message(),
                    "mfa_required": true,
                });
                if let Some(token) = mfa_token {
                    body["mfa_token"] = json!(token);
                }
                (self.status(), Json(body)).into_response()
            }
            AppError::ReauthRequired => {
                let body = json!({
                    "status": "failed",
                    "message": self.client_message(),
                    "reauth_required": true,
                });
                (self.status(), Json(body)).into_response()
            }
            _ => error_body(self.status(), &self.client_message()),
        };
        let headers = response.headers_mut();
        match self {
            AppError::InvalidClient => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Basic realm="gatehouse""#),
                );
            }
            AppError::InvalidToken(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="gatehouse", error="invalid_token""#),
                );
            }
            AppError::Busy | AppError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            AppError::TooManyAttempts {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

// How each domain's errors read over HTTP. Outcomes that are not errors (a wrong password, a
// refresh token reused) are answered by each handler in its contract's own words.

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => AppError::Unavailable(err),
            StoreError::Conflict => AppError::Conflict("Already exists"),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<HashError> for AppError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => AppError::Busy,
            HashError::Internal(e) => AppError::Internal(anyhow::anyhow!(e)),
        }
    }
}

impl From<SessionError> for AppError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::Store(e) => e.into(),
            SessionError::Signing(e) => AppError::Internal(e.into()),
        }
    }
}

impl From<LoginError> for AppError {
    fn from(err: LoginError) -> Self {
        match err {
            LoginError::Hashing(e) => e.into(),
            LoginError::Store(e) => e.into(),
            LoginError::Session(e) => e.into(),
            LoginError::Mfa(e) => e.into(),
            LoginError::Fallback(e) => AppError::Internal(e.context("lazy migration")),
        }
    }
}

impl From<MfaError> for AppError {
    fn from(err: MfaError) -> Self {
        match err {
            MfaError::AlreadyActive => {
                AppError::Conflict("TOTP is already active; remove it first")
            }
            MfaError::NotEnrolled => AppError::Conflict("No TOTP enrolment in that state"),
            // As at the login's second step and the step-up: a wrong code is a failed proof.
            MfaError::InvalidCode => AppError::Unauthorized("Invalid code"),
            MfaError::Store(e) => e.into(),
            // A secret that does not open is the deployment's fault (another key), not the
            // client's; the cause is logged, never sent.
            MfaError::Sealing(e) => AppError::Internal(e.into()),
            MfaError::Totp(e) => AppError::Internal(e.into()),
        }
    }
}

impl From<AccessError> for AppError {
    fn from(err: AccessError) -> Self {
        match err {
            AccessError::Refused(reason) => AppError::InvalidToken(reason),
            AccessError::Store(e) => e.into(),
            AccessError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Invalid(message) => AppError::BadRequest(message.into()),
            AccountError::WeakPassword(why) => AppError::BadRequest(why.to_string()),
            AccountError::EmailTaken | AccountError::UsernameTaken => {
                AppError::Conflict("User already exists.")
            }
            AccountError::NotFound => AppError::NotFound("User not found"),
            AccountError::WrongPassword => AppError::Unauthorized("Incorrect password"),
            AccountError::Locked(locked) => AppError::locked(locked),
            AccountError::Session(e) => e.into(),
            AccountError::Hashing(e) => e.into(),
            AccountError::Store(e) => e.into(),
        }
    }
}

impl From<ClientError> for AppError {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::InvalidName(why) => AppError::BadRequest(why.into()),
            ClientError::NotFound => AppError::NotFound("Client not found"),
            ClientError::Store(e) => e.into(),
        }
    }
}

impl From<IntrospectionError> for AppError {
    fn from(err: IntrospectionError) -> Self {
        match err {
            IntrospectionError::Session(e) => e.into(),
            IntrospectionError::Access(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::sealing::SealError;
    use crate::auth::mfa::totp::TotpError;
    use crate::validation::PasswordRejected;

    fn unavailable() -> StoreError {
        StoreError::Unavailable(sqlx::Error::PoolTimedOut)
    }

    #[test]
    fn each_kind_maps_to_its_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400),
            (AppError::Unauthorized("x"), 401),
            (AppError::InvalidToken(TokenError::Expired), 401),
            (AppError::InvalidClient, 401),
            (AppError::ReauthRequired, 401),
            (AppError::InvalidRequest("x"), 400),
            (AppError::MfaRequired(Some("t".into())), 401),
            (AppError::Forbidden("x"), 403),
            (AppError::NotFound("x"), 404),
            (AppError::Conflict("x"), 409),
            (AppError::PayloadTooLarge, 413),
            (AppError::UnsupportedMediaType("x"), 415),
            (
                AppError::TooManyAttempts {
                    message: "x",
                    retry_after_secs: 5,
                },
                429,
            ),
            (AppError::Busy, 503),
            (AppError::Unavailable(unavailable()), 503),
            (AppError::Internal(anyhow::anyhow!("boom")), 500),
        ];
        for (err, status) in cases {
            assert_eq!(err.into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn each_domain_error_maps_to_its_status() {
        let signing =
            || SessionError::Signing(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into());
        let cases: Vec<(AppError, u16)> = vec![
            (StoreError::Conflict.into(), 409),
            (unavailable().into(), 503),
            (StoreError::Other(sqlx::Error::RowNotFound).into(), 500),
            (HashError::Busy.into(), 503),
            (HashError::Internal("x".into()).into(), 500),
            (SessionError::Store(unavailable()).into(), 503),
            (signing().into(), 500),
            (LoginError::Hashing(HashError::Busy).into(), 503),
            (LoginError::Store(unavailable()).into(), 503),
            (LoginError::Session(signing()).into(), 500),
            (
                LoginError::Fallback(anyhow::anyhow!("no table")).into(),
                500,
            ),
            (LoginError::Mfa(MfaError::Store(unavailable())).into(), 503),
            (MfaError::AlreadyActive.into(), 409),
            (MfaError::NotEnrolled.into(), 409),
            (MfaError::InvalidCode.into(), 401),
            (MfaError::Store(unavailable()).into(), 503),
            (MfaError::Sealing(SealError::Random).into(), 500),
            (MfaError::Totp(TotpError::Random).into(), 500),
            (AccessError::Refused(TokenError::Revoked).into(), 401),
            (AccessError::Store(unavailable()).into(), 503),
            (AccessError::Internal(anyhow::anyhow!("x")).into(), 500),
            (AccountError::Invalid("Invalid email").into(), 400),
            (AccountError::from(PasswordRejected::Common).into(), 400),
            (
                AccountError::from(PasswordRejected::Length { min: 8 }).into(),
                400,
            ),
            (AccountError::EmailTaken.into(), 409),
            (AccountError::UsernameTaken.into(), 409),
            (AccountError::NotFound.into(), 404),
            (AccountError::WrongPassword.into(), 401),
            (
                AccountError::Locked(Locked {
                    retry_after_secs: 9,
                })
                .into(),
                429,
            ),
            (AccountError::Session(signing()).into(), 500),
            (AccountError::Hashing(HashError::Busy).into(), 503),
            (AccountError::Store(unavailable()).into(), 503),
            (ClientError::InvalidName("x").into(), 400),
            (ClientError::NotFound.into(), 404),
            (ClientError::Store(unavailable()).into(), 503),
            (
                IntrospectionError::Session(SessionError::Store(unavailable())).into(),
                503,
            ),
            (
                IntrospectionError::Access(AccessError::Store(unavailable())).into(),
                503,
            ),
        ];
        for (err, status) in cases {
            let shown = format!("{err:?}");
            assert_eq!(err.into_response().status().as_u16(), status, "{shown}");
        }
    }

    #[test]
    fn a_refused_password_says_why() {
        let err = AppError::from(AccountError::from(PasswordRejected::Common));
        assert!(err.client_message().contains("commonly used password"));
        let err = AppError::from(AccountError::from(PasswordRejected::Length { min: 6 }));
        assert!(err.client_message().contains("6 to 1024 characters"));
    }

    #[test]
    fn token_errors_carry_a_bearer_challenge() {
        let response = AppError::InvalidToken(TokenError::Missing).into_response();
        let challenge = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap();
        assert!(challenge.starts_with("Bearer") && challenge.contains(r#"error="invalid_token""#));
    }

    #[tokio::test]
    async fn client_errors_read_as_rfc_6749_with_a_basic_challenge() {
        let response = AppError::InvalidClient.into_response();
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Basic realm="gatehouse""#
        );
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(body, r#"{"error":"invalid_client"}"#);
        let response = AppError::InvalidRequest("token is required").into_response();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "invalid_request");
    }

    #[test]
    fn too_many_attempts_say_when_to_retry() {
        let locked = AppError::locked(Locked {
            retry_after_secs: 840,
        });
        let response = locked.into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "840");
    }

    #[test]
    fn internal_causes_are_not_sent() {
        let err = AppError::Internal(anyhow::anyhow!("password_hash column exploded"));
        assert_eq!(err.client_message(), "Internal server error");
    }

    #[tokio::test]
    async fn mfa_required_carries_the_token() {
        let response = AppError::MfaRequired(Some("tok".into())).into_response();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], "failed");
        assert_eq!(body["message"], "MFA code required");
        assert_eq!(body["mfa_required"], true);
        assert_eq!(body["mfa_token"], "tok");
    }

    #[test]
    fn unique_violations_become_conflicts() {
        assert!(matches!(
            AppError::from(StoreError::Conflict),
            AppError::Conflict(_)
        ));
    }
}
