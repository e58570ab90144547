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
//! - A login whose legacy lookup fails (the legacy database down or slow) is answered like a
//!   wrong password, and logged: a 503 only for emails not migrated yet would tell them apart.
//!   Signup answers 503 while it cannot check the legacy table.
//! - Signup refuses an email the legacy table has (`ReservedEmails`), so nobody can take a
//!   legacy user's account before its owner's first login.
//!
//! `LazyMigration` is the `auth::login::UserFallback` the login service asks, and the
//! `accounts::ReservedEmails` signup asks.

use super::import::legacy_username;
use super::source::{LegacySource, Lookup, SourceError};
use super::LegacySettings;
use crate::accounts::{self, AccountError, ReservedEmails};
use crate::auth::access::BoxFuture;
use crate::auth::legacy_hash;
use crate::auth::login::{LoginError, LoginName, UserFallback};
use crate::auth::password::PasswordHasher;
use crate::store::{NewUser, Store, StoreError, User};
use crate::validation::{normalise_email, normalise_name};

/// The legacy table, ready for lookups (connections are made on first use).
pub struct LazyMigration {
    source: LegacySource,
    settings: LegacySettings,
    store: Store,
    hasher: PasswordHasher,
}

impl LazyMigration {
    pub fn new(
        settings: LegacySettings,
        store: Store,
        hasher: PasswordHasher,
    ) -> Result<Self, SourceError> {
        Ok(Self {
            source: LegacySource::open(&settings.url, &settings.table)?,
            settings,
            store,
            hasher,
        })
    }

    /// Connects and checks the table and columns exist; for a warning at start-up.
    pub async fn probe(&self) -> Result<(), SourceError> {
        self.source.probe().await
    }

    /// Whether the legacy table has a row for `email`. Signup refuses such an email while lazy
    /// migration is on: otherwise anyone could claim a legacy user's account before its
    /// owner's first login.
    pub async fn has_email(&self, email: &str) -> Result<bool, StoreError> {
        match self.source.find_by_email(email).await {
            Ok(Lookup::Missing) => Ok(false),
            Ok(Lookup::Found(_) | Lookup::Unusable(_)) => Ok(true),
            Err(error) => Err(store_error(error)),
        }
    }

    /// "table user at mysql://u:***@host/db", for logs.
    pub fn description(&self) -> &str {
        self.source.description()
    }
}

impl UserFallback for LazyMigration {
    fn migrate_on_login<'a>(
        &'a self,
        name: LoginName<'a>,
        password: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<User>, LoginError>> {
        Box::pin(self.migrate(name, password, now))
    }
}

impl ReservedEmails for LazyMigration {
    fn is_reserved<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.has_email(email))
    }
}

impl LazyMigration {
    /// Returns the Gatehouse user for `name` created from the legacy table when the password
    /// matches there, `None` otherwise. The caller still verifies `password` against the
    /// returned user's stored hash, as for any user, so a user that a concurrent login created
    /// first is checked against that user's own hash.
    async fn migrate(
        &self,
        name: LoginName<'_>,
        password: &str,
        now: i64,
    ) -> Result<Option<User>, LoginError> {
        let (store, hasher) = (&self.store, &self.hasher);
        let lookup = match name {
            LoginName::Email(login) => match normalise_email(login) {
                Ok(email) => self.source.find_by_email(&email).await,
                Err(_) => return Ok(None),
            },
            LoginName::UsernameOrEmail(login) => match normalise_email(login) {
                Ok(email) => self.source.find_by_email(&email).await,
                Err(_) => self.source.find_by_username(login).await,
            },
        };
        let row = match lookup {
            Ok(Lookup::Found(row)) => row,
            Ok(Lookup::Missing) => return Ok(None),
            Ok(Lookup::Unusable(problem)) => {
                tracing::warn!(%problem, "a legacy row matching a login cannot be used; it needs fixing or importing");
                return Ok(None);
            }
            // Answered like any failed login (the dummy verify still runs): a 503 here, while
            // known emails get 401, would tell which emails are not migrated yet.
            Err(error) => {
                let error = store_error(error);
                tracing::warn!(%error, "the legacy table could not be read for a login; answered as a failed login");
                return Ok(None);
            }
        };
        // The row's own email: a login by username has none of its own.
        let Ok(email) = normalise_email(&row.email) else {
            tracing::warn!("a legacy row matching a login has no valid email; it needs fixing");
            return Ok(None);
        };
        let settings = &self.settings;
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
            username: legacy_username(row.username.as_deref()).unwrap_or_default(),
            name: normalise_name(row.name.as_deref().unwrap_or_default()).unwrap_or_default(),
            // Always argon2id: the password is at hand, so no legacy hash is ever kept.
            password_hash: hasher.hash(password.to_owned()).await?,
            admin: row.admin.unwrap_or(settings.admin_default),
            // The row's email as stored: the old service's tokens name the user by it.
            legacy_name: Some(row.email.clone()),
        };
        let created = match accounts::create(store, &new_user, now).await {
            // Another user has this username: create the user without one.
            Err(AccountError::UsernameTaken) if new_user.username.is_some() => {
                let without_username = NewUser {
                    username: None,
                    ..new_user.clone()
                };
                accounts::create(store, &without_username, now).await
            }
            other => other,
        };
        match created {
            Ok(user) => {
                tracing::info!(
                    user_id = user.id,
                    "created a user from the legacy table at their first login"
                );
                Ok(Some(user))
            }
            // A concurrent first login (or a signup) created the email first: use that user.
            Err(AccountError::EmailTaken) => Ok(store.find_user_by_email(&new_user.email).await?),
            Err(AccountError::UsernameTaken) => Ok(None),
            Err(AccountError::Hashing(e)) => Err(e.into()),
            Err(AccountError::Store(e)) => Err(e.into()),
            Err(e) => Err(LoginError::Fallback(e.into())),
        }
    }
}

/// The legacy database not answering is unavailable, like Gatehouse's own; anything else it
/// says (a missing table or column, refused credentials) is a configuration error, logged here
/// with its context.
fn store_error(error: SourceError) -> StoreError {
    match error {
        SourceError::Unavailable(cause) => StoreError::Unavailable(cause),
        SourceError::Query(cause) => {
            tracing::error!(error = %cause, "lazy migration lookup failed");
            StoreError::Other(cause)
        }
        SourceError::UnsupportedUrl(url) => {
            StoreError::Other(sqlx::Error::Configuration(url.into()))
        }
    }
}
