//! The second factor's endpoints: TOTP enrolment, confirmation and removal, recovery codes,
//! what a user has enrolled, and the second step of a two-step login (`/auth/login/mfa`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::auth_api::{StatusMessage, TokenMessage};
use super::error::AppError;
use super::extract::{AuthUser, JsonObject, RecentSignIn};
use super::fields::{field, Field};
use super::gateway::TokenResponse;
use super::state::AppState;
use crate::auth::login::MfaStepOutcome;
use crate::auth::mfa::{Proof, TotpState};
use crate::auth::session::ClientInfo;
use crate::auth::token::TokenError;
use crate::metrics::{LoginContract, LoginResult};

/// A new, pending TOTP secret, shown once.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    pub status: &'static str,
    pub message: &'static str,
    /// The secret in base32 (RFC 4648, no padding), for typing into an app.
    pub secret: String,
    /// `otpauth://totp/Gatehouse:<email>?secret=…&issuer=Gatehouse` (SHA-1, 6 digits and 30 s,
    /// the defaults, are not stated).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CodeRequest {
    /// The 6-digit code the app shows now.
    #[schema(pattern = "^[0-9]{6}$")]
    pub code: String,
}

/// Recovery codes, shown once: each signs in once in place of a TOTP code.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub status: &'static str,
    pub message: &'static str,
    pub recovery_codes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MfaStatusView {
    pub status: &'static str,
    /// `none`, `pending` (enrolled, not confirmed) or `active`.
    pub totp: &'static str,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

/// The second step of a two-step login: `code` or `recovery_code`.
#[derive(Deserialize, ToSchema)]
pub struct MfaLoginRequest {
    /// From the 401 the password step answered; 5 minutes, single-use.
    pub mfa_token: String,
    pub code: Option<String>,
    pub recovery_code: Option<String>,
}

/// Starts a TOTP enrolment: a new secret, pending until confirmed (replacing a pending one).
#[utoipa::path(post, path = "/auth/mfa/totp", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "The new pending secret", body = TotpEnrolment),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 409, description = "TOTP is already active", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn enrol_totp(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<TotpEnrolment>, AppError> {
    let account = state
        .store
        .find_user_by_id(user.user_id)
        .await?
        .ok_or(AppError::InvalidToken(TokenError::UserBlocked))?;
    let enrolment = state
        .mfa
        .begin_enrolment(account.id, &account.email)
        .await?;
    Ok(Json(TotpEnrolment {
        status: "success",
        message: "Scan the QR code, then confirm with a code",
        secret: enrolment.secret,
        otpauth_uri: enrolment.otpauth_uri,
        qr_svg: enrolment.qr_svg,
    }))
}

/// Activates the pending secret with a current code; answers the first recovery codes. Needs
/// a recent sign-in (`REAUTH_MAX_AGE_SECS`): a stolen token alone must not be able to put a
/// second factor the owner does not have between them and their account.
#[utoipa::path(post, path = "/auth/mfa/totp/confirm", tag = "mfa", request_body = CodeRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active; the recovery codes, shown once", body = RecoveryCodes),
        (status = 400, description = "Missing or malformed code", body = crate::http::ErrorBody),
        (status = 401, description = "Missing, invalid, expired or revoked token, a sign-in too old (`reauth_required`), or a wrong code (`Invalid code`, as at every other step that takes one)", body = crate::http::ErrorBody),
        (status = 409, description = "Nothing pending to confirm, or already active", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 429, description = "Too many requests from this client address; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    RecentSignIn(user): RecentSignIn,
    JsonObject(body): JsonObject,
) -> Result<Json<RecoveryCodes>, AppError> {
    let Field::Text(code) = field(&body, "code") else {
        return Err(AppError::BadRequest("code is a required string".into()));
    };
    let codes = state.mfa.confirm(user.user_id, code.trim()).await?;
    Ok(Json(RecoveryCodes {
        status: "success",
        message: "TOTP is active; keep these recovery codes somewhere safe",
        recovery_codes: codes,
    }))
}

/// Removes TOTP and the recovery codes. Needs a recent sign-in (`REAUTH_MAX_AGE_SECS`).
#[utoipa::path(delete, path = "/auth/mfa/totp", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "Removed", body = StatusMessage),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a sign-in too old (`reauth_required`)", body = crate::http::ErrorBody),
        (status = 404, description = "No TOTP enrolment", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn remove_totp(
    State(state): State<AppState>,
    RecentSignIn(user): RecentSignIn,
) -> Result<Json<StatusMessage>, AppError> {
    if !state.mfa.remove(user.user_id).await? {
        return Err(AppError::NotFound("No TOTP enrolment"));
    }
    Ok(Json(StatusMessage {
        status: "success",
        message: "TOTP removed",
    }))
}

/// What the caller has enrolled (never the secret).
#[utoipa::path(get, path = "/auth/mfa", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "TOTP state and unused recovery codes", body = MfaStatusView),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn mfa_status(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<MfaStatusView>, AppError> {
    let status = state.mfa.status(user.user_id).await?;
    Ok(Json(MfaStatusView {
        status: "success",
        totp: match status.totp {
            TotpState::None => "none",
            TotpState::Pending => "pending",
            TotpState::Active => "active",
        },
        recovery_codes_left: status.recovery_codes_left,
    }))
}

/// Ten new recovery codes; the old ones stop working. Needs a recent sign-in
/// (`REAUTH_MAX_AGE_SECS`).
#[utoipa::path(post, path = "/auth/mfa/recovery-codes", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 200, description = "The new codes, shown once", body = RecoveryCodes),
        (status = 401, description = "Missing, invalid, expired or revoked token, or a sign-in too old (`reauth_required`)", body = crate::http::ErrorBody),
        (status = 409, description = "TOTP is not active", body = crate::http::ErrorBody),
        (status = 429, description = "Too many requests from this client address; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 503, description = "Database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn new_recovery_codes(
    State(state): State<AppState>,
    RecentSignIn(user): RecentSignIn,
) -> Result<Json<RecoveryCodes>, AppError> {
    let codes = state.mfa.new_recovery_codes(user.user_id).await?;
    Ok(Json(RecoveryCodes {
        status: "success",
        message: "New recovery codes; the old ones no longer work",
        recovery_codes: codes,
    }))
}

/// Completes a two-step login with a TOTP code or a recovery code. Answers as the login it
/// completes: `/auth/login`'s body, or JSON `/login`'s.
#[utoipa::path(post, path = "/auth/login/mfa", tag = "mfa", request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "Logged in: the body of the contract the login started on",
            content((TokenMessage = "application/json"), (TokenResponse = "application/json"))),
        (status = 400, description = "Malformed body, or neither or both of code and recovery_code", body = crate::http::ErrorBody),
        (status = 401, description = "Unknown, used or expired mfa_token, or a wrong or used code", body = crate::http::ErrorBody),
        (status = 403, description = "Account disabled", body = crate::http::ErrorBody),
        (status = 413, description = "Body too large", body = crate::http::ErrorBody),
        (status = 415, description = "Body that is not JSON", body = crate::http::ErrorBody),
        (status = 429, description = "Too many failed logins for this account, or from this client; see `Retry-After`", body = crate::http::ErrorBody),
        (status = 503, description = "Busy or database unavailable", body = crate::http::ErrorBody),
    ))]
pub async fn login_mfa(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonObject(body): JsonObject,
) -> Result<Response, AppError> {
    let Field::Text(token) = field(&body, "mfa_token") else {
        return Err(AppError::BadRequest(
            "mfa_token is a required string".into(),
        ));
    };
    let proof = proof_in(&body)?.ok_or(AppError::BadRequest(PROOF_FIELDS.into()))?;
    let outcome = state.login.complete_mfa(token, &proof, &client).await?;
    let (contract, result, user_id) = match &outcome {
        MfaStepOutcome::Success { contract, session } => {
            (Some(*contract), LoginResult::Success, Some(session.user_id))
        }
        MfaStepOutcome::InvalidToken | MfaStepOutcome::InvalidCode => {
            (None, LoginResult::Invalid, None)
        }
        MfaStepOutcome::Disabled => (None, LoginResult::Disabled, None),
        MfaStepOutcome::Locked(_) => (None, LoginResult::Locked, None),
    };
    record_step(&state, contract, result, user_id);
    match outcome {
        MfaStepOutcome::Success { session, contract } => Ok(match contract {
            LoginContract::AuthLogin => {
                Json(TokenMessage::new("User login successful.", session)).into_response()
            }
            LoginContract::Json | LoginContract::Basic => Json(TokenResponse {
                token: session.access_token,
                refresh_token: session.refresh_token.unwrap_or_default(),
                expires_in: session.expires_in,
            })
            .into_response(),
        }),
        MfaStepOutcome::InvalidToken => Err(AppError::Unauthorized(
            "Invalid or expired mfa_token; log in again",
        )),
        MfaStepOutcome::InvalidCode => Err(AppError::Unauthorized("Invalid code")),
        MfaStepOutcome::Disabled => Err(AppError::Forbidden("Account disabled")),
        MfaStepOutcome::Locked(locked) => Err(AppError::locked(locked)),
    }
}

/// The second step's log line and count, beside the logins' (`login_record`): under the
/// contract the login started on when it is known (else `auth_login`'s).
fn record_step(
    state: &AppState,
    contract: Option<LoginContract>,
    result: LoginResult,
    user_id: Option<i64>,
) {
    let contract = contract.unwrap_or(LoginContract::AuthLogin);
    if let Some(metrics) = &state.metrics {
        metrics.record_login(contract, result);
    }
    tracing::info!(
        target: "gatehouse::login",
        contract = contract.as_str(),
        result = result.as_str(),
        step = "mfa",
        user_id,
        "login"
    );
}

const PROOF_FIELDS: &str = "send one of code and recovery_code, as a string";

/// The second factor a body offers: `code` (TOTP) or `recovery_code`, not both; `None` when
/// it offers neither.
pub fn proof_in(body: &Map<String, Value>) -> Result<Option<Proof>, AppError> {
    match (field(body, "code"), field(body, "recovery_code")) {
        (Field::Missing | Field::Null, Field::Missing | Field::Null) => Ok(None),
        (Field::Text(code), Field::Missing | Field::Null) => {
            Ok(Some(Proof::Code(code.trim().to_owned())))
        }
        (Field::Missing | Field::Null, Field::Text(code)) => {
            Ok(Some(Proof::RecoveryCode(code.to_owned())))
        }
        _ => Err(AppError::BadRequest(PROOF_FIELDS.into())),
    }
}
