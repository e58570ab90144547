//! What every login leaves behind, whichever contract it came by: one log line (target
//! `gatehouse::login`: contract, result, and the user id when the password was right; never
//! the name typed or the password) and, when metrics are on, one count.

use super::error::AppError;
use super::state::AppState;
use crate::auth::login::{LoginError, LoginOutcome};
use crate::metrics::{LoginContract, LoginResult};

/// Records a login's result under its contract and maps its error.
pub fn record_login(
    state: &AppState,
    contract: LoginContract,
    result: Result<LoginOutcome, LoginError>,
) -> Result<LoginOutcome, AppError> {
    let result = result.map_err(AppError::from);
    let (label, user_id) = match &result {
        Ok(LoginOutcome::Success(session)) => (LoginResult::Success, Some(session.user_id)),
        Ok(LoginOutcome::InvalidCredentials) => (LoginResult::Invalid, None),
        Ok(LoginOutcome::Disabled) => (LoginResult::Disabled, None),
        Ok(LoginOutcome::Locked(_)) => (LoginResult::Locked, None),
        Ok(LoginOutcome::MfaRequired(_)) => (LoginResult::MfaRequired, None),
        Err(AppError::Busy) => (LoginResult::Busy, None),
        Err(AppError::Unavailable(_)) => (LoginResult::Unavailable, None),
        Err(_) => (LoginResult::Error, None),
    };
    if let Some(metrics) = &state.metrics {
        metrics.record_login(contract, label);
    }
    tracing::info!(
        target: "gatehouse::login",
        contract = contract.as_str(),
        result = label.as_str(),
        user_id,
        "login"
    );
    result
}
