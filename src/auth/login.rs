//! The credential check shared by every login surface.

use crate::auth::password::PasswordHasher;
use crate::error::AppError;
use crate::store::{Store, User};

/// How the login names its user.
pub enum LoginName<'a> {
    /// Seeds 000/002/004: the email.
    Email(&'a str),
    /// Seed 003: the username or the email.
    UsernameOrEmail(&'a str),
}

pub enum LoginOutcome {
    Success(User),
    /// Unknown user or wrong password: callers answer both the same way.
    InvalidCredentials,
    /// Correct password, but the account is disabled.
    Disabled,
}

/// Looks the user up and verifies the password. An unknown user is verified against a dummy
/// hash, so the answer takes as long as a wrong password would.
pub async fn check_credentials(
    store: &Store,
    hasher: &PasswordHasher,
    name: LoginName<'_>,
    password: String,
) -> Result<LoginOutcome, AppError> {
    let user = match name {
        LoginName::Email(email) => {
            store
                .find_user_by_email(&email.trim().to_lowercase())
                .await?
        }
        LoginName::UsernameOrEmail(login) => store.find_user_by_login(login).await?,
    };
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let matches = hasher.verify(password, stored_hash).await?;
    Ok(match user {
        Some(user) if matches && user.disabled => LoginOutcome::Disabled,
        Some(user) if matches => LoginOutcome::Success(user),
        _ => LoginOutcome::InvalidCredentials,
    })
}
