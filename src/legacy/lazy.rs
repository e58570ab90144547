//! Lazy migration: a login for an email Gatehouse does not know is checked against the legacy
//! table (`LEGACY_DATABASE_URL` + `AUTH_TABLE`); if the password is right, the user is created
//! in Gatehouse with an argon2id hash of it, and the login goes on as usual.
//!
//! - A login by email (every seed) is looked up by email. A login by username (seed 003's
//!   JSON `username`, anything that is not an email) is looked up by `LEGACY_USERNAME_COLUMN`,
//!   exactly, when one is configured; the new user gets that row's email.
//! - A miss (no row, wrong password, a row that cannot be used) returns `None`, and the caller
//!   then verifies against its dummy hash as for any unknown user, so the answer matches a
//!   wrong password's. The timing does not quite: an email found in the legacy table costs its
//!   legacy verify too, so legacy emails can be told apart by timing (signup's 409 for them
//!   says as much already).
//! - Two concurrent first logins of one user race on the unique email: the loser re-reads the
//!   winner's user, so there is exactly one.
//! - The legacy database being down answers 503 (`AppError::Unavailable`), never 500.
//! - Signup refuses an email the legacy table has (`LazyMigration::has_email`), so nobody can
//!   take a legacy user's account before its owner's first login.

use super::source::{LegacySource, Lookup, SourceError};
use super::LegacySettings;
use crate::auth::legacy_hash;
use crate::auth::login::LoginName;
use crate::auth::password::PasswordHasher;
use crate::error::AppError;
use crate::store::{NewUser, Store, StoreError, User};
use crate::validation::{normalise_email, normalise_name};

/// The legacy table, ready for lookups (connections are made on first use).
pub struct LazyMigration {
    source: LegacySource,
    settings: LegacySettings,
}

impl LazyMigration {
    pub fn new(settings: LegacySettings) -> Result<Self, SourceError> {
        Ok(Self {
            source: LegacySource::open(&settings.url, &settings.table)?,
            settings,
        })
    }

    /// Connects and checks the table and columns exist; for a warning at start-up.
    pub async fn probe(&self) -> Result<(), SourceError> {
        self.source.probe().await
    }

    /// Whether the legacy table has a row for `email`. Signup refuses such an email while lazy
    /// migration is on: otherwise anyone could claim a legacy user's account before its
    /// owner's first login.
    pub async fn has_email(&self, email: &str) -> Result<bool, AppError> {
        match self.source.find_by_email(email).await {
            Ok(Lookup::Missing) => Ok(false),
            Ok(Lookup::Found(_) | Lookup::Unusable(_)) => Ok(true),
            Err(error) => Err(unavailable_or_internal(error)),
        }
    }

    /// "table user at mysql://u:***@host/db", for logs.
    pub fn description(&self) -> &str {
        self.source.description()
    }
}

/// Returns the Gatehouse user for `login` created from the legacy table when the password
/// matches there, `None` otherwise (or when lazy migration is off). The caller still verifies
/// `password` against the returned user's stored hash, as for any user, so a user that a
/// concurrent login created first is checked against that user's own hash.
pub async fn migrate_on_login(
    legacy: Option<&LazyMigration>,
    store: &Store,
    hasher: &PasswordHasher,
    name: LoginName<'_>,
    password: &str,
    now: i64,
) -> Result<Option<User>, AppError> {
    let Some(legacy) = legacy else {
        return Ok(None);
    };
    let lookup = match name {
        LoginName::Email(login) => match normalise_email(login) {
            Ok(email) => legacy.source.find_by_email(&email).await,
            Err(_) => return Ok(None),
        },
        LoginName::UsernameOrEmail(login) => match normalise_email(login) {
            Ok(email) => legacy.source.find_by_email(&email).await,
            Err(_) => legacy.source.find_by_username(login).await,
        },
    };
    let row = match lookup {
        Ok(Lookup::Found(row)) => row,
        Ok(Lookup::Missing) => return Ok(None),
        Ok(Lookup::Unusable(problem)) => {
            tracing::warn!(%problem, "a legacy row matching a login cannot be used; it needs fixing or importing");
            return Ok(None);
        }
        Err(error) => return Err(unavailable_or_internal(error)),
    };
    // The row's own email: a login by username has none of its own.
    let Ok(email) = normalise_email(&row.email) else {
        tracing::warn!("a legacy row matching a login has no valid email; it needs fixing");
        return Ok(None);
    };
    let settings = &legacy.settings;
    let imported = match legacy_hash::import(&row.password, settings.format, &settings.pbkdf2) {
        Ok(imported) => imported,
        Err(rejected) => {
            tracing::warn!(reason = %rejected, "the legacy password value of a login's row cannot be used");
            return Ok(None);
        }
    };
    if !hasher
        .verify_imported(password.to_owned(), imported)
        .await?
    {
        return Ok(None);
    }
    let new_user = NewUser {
        email,
        // A username the rules refuse is dropped: the user still logs in by email.
        username: super::import::legacy_username(row.username.as_deref()).unwrap_or_default(),
        name: normalise_name(row.name.as_deref().unwrap_or_default()).unwrap_or_default(),
        // Always argon2id: the password is at hand, so no legacy hash is ever kept.
        password_hash: hasher.hash(password.to_owned()).await?,
        admin: row.admin.unwrap_or(settings.admin_default),
    };
    match store.insert_user(&new_user, now).await {
        Ok(user) => {
            tracing::info!(
                user_id = user.id,
                "created a user from the legacy table at their first login"
            );
            Ok(Some(user))
        }
        // A concurrent first login (or a signup) created the email first: use that user.
        Err(StoreError::Conflict) => match store.find_user_by_email(&new_user.email).await? {
            Some(user) => Ok(Some(user)),
            // Not the email: another user has this username. Create the user without one.
            None if new_user.username.is_some() => {
                let without_username = NewUser {
                    username: None,
                    ..new_user
                };
                match store.insert_user(&without_username, now).await {
                    Ok(user) => Ok(Some(user)),
                    Err(StoreError::Conflict) => {
                        Ok(store.find_user_by_email(&without_username.email).await?)
                    }
                    Err(error) => Err(error.into()),
                }
            }
            None => Ok(None),
        },
        Err(error) => Err(error.into()),
    }
}

/// The legacy database not answering is a 503, like Gatehouse's own; anything else it says
/// (a missing table or column, refused credentials) is a configuration error, logged as such.
fn unavailable_or_internal(error: SourceError) -> AppError {
    match error {
        SourceError::Unavailable(cause) => AppError::Unavailable(StoreError::Unavailable(cause)),
        other => AppError::Internal(anyhow::Error::new(other).context("lazy migration lookup")),
    }
}
