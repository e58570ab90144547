//! Accounts: the one place users are created, disabled, enabled and deleted, and passwords
//! chosen. Signup, the `gatehouse user` commands, `gatehouse import` and lazy migration all
//! come through here, so a rule about users (what an email may be, what a taken email means,
//! what a new password may be: the [`PasswordPolicy`]) is written once.

use std::sync::Arc;

use crate::auth::access::BoxFuture;
use crate::auth::lockout::{Admission, Locked, Lockout};
use crate::auth::password::{HashError, PasswordHasher};
use crate::auth::revocation::RevocationEvent;
use crate::auth::session::{SessionError, SessionService};
use crate::clock::Clock;
use crate::store::{NewUser, Store, StoreError, User};
use crate::validation::{
    check_username, email_key, normalise_email, normalise_name, PasswordPolicy, PasswordRejected,
};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A field breaks the rules of `validation`; the message says which and how.
    #[error("{0}")]
    Invalid(&'static str),
    /// A new password the [`PasswordPolicy`] refuses; the message says why.
    #[error(transparent)]
    WeakPassword(#[from] PasswordRejected),
    #[error("a user with that email already exists")]
    EmailTaken,
    #[error("a user with that username already exists")]
    UsernameTaken,
    #[error("no user with that email")]
    NotFound,
    /// The current password given to change it is not the user's.
    #[error("the current password is incorrect")]
    WrongPassword,
    /// Too many wrong passwords for this account lately (the lockout).
    #[error("too many failed attempts; retry in {} s", .0.retry_after_secs)]
    Locked(Locked),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Emails that belong to someone Gatehouse does not have yet (a user of the old service not
/// migrated yet): nobody else may sign up with them first.
pub trait ReservedEmails: Send + Sync {
    fn is_reserved<'a>(&'a self, email: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// Who a new account is, validated: the email normalised, the name trimmed.
#[derive(Debug, Clone)]
pub struct Profile {
    pub email: String,
    pub name: String,
    pub username: Option<String>,
    pub admin: bool,
}

impl Profile {
    /// Checks each field as signup does, in this order: email, name, username.
    pub fn new(
        email: &str,
        name: &str,
        username: Option<&str>,
        admin: bool,
    ) -> Result<Self, AccountError> {
        let email = normalise_email(email).map_err(AccountError::Invalid)?;
        let name = normalise_name(name).map_err(AccountError::Invalid)?;
        if let Some(username) = username {
            check_username(username).map_err(AccountError::Invalid)?;
        }
        Ok(Self {
            email,
            name,
            username: username.map(str::to_owned),
            admin,
        })
    }
}

/// Creates accounts from a password (signup, `gatehouse user add`) and sets new passwords
/// (`POST /auth/password`, `gatehouse user set-password`), each checked by `policy`.
pub struct Accounts {
    store: Store,
    hasher: PasswordHasher,
    reserved: Option<Arc<dyn ReservedEmails>>,
    clock: Arc<dyn Clock>,
    /// What a new password may be (`PASSWORD_MIN_LENGTH`).
    policy: PasswordPolicy,
    /// To end a user's other sessions when they change their password (the server's).
    sessions: Option<Arc<SessionService>>,
    lockout: Option<Arc<Lockout>>,
}

impl Accounts {
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        reserved: Option<Arc<dyn ReservedEmails>>,
        clock: Arc<dyn Clock>,
        policy: PasswordPolicy,
    ) -> Self {
        Self {
            store,
            hasher,
            reserved,
            clock,
            policy,
            sessions: None,
            lockout: None,
        }
    }

    /// What a new password may be here.
    pub fn password_policy(&self) -> PasswordPolicy {
        self.policy
    }

    /// Ends a user's other sessions through `sessions` when they change their password.
    pub fn with_sessions(mut self, sessions: Arc<SessionService>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Counts wrong current passwords (a password change) like failed logins.
    pub fn with_lockout(mut self, lockout: Arc<Lockout>) -> Self {
        self.lockout = Some(lockout);
        self
    }

    /// A signed-in user changes their password: `current` must be right (checked like a
    /// login, on the hashing workers), `new` must pass the policy. Every session of the user but
    /// `session_id` (the one asking) ends, on every replica, and so do the old service's tokens.
    pub async fn change_password(
        &self,
        user_id: i64,
        session_id: &str,
        current: String,
        new: String,
    ) -> Result<(), AccountError> {
        self.policy.check(&new)?;
        let user = self
            .store
            .find_user_by_id(user_id)
            .await?
            .ok_or(AccountError::NotFound)?;
        let verified = self.verify_counted(&user, current, true).await?;
        if !verified {
            return Err(AccountError::WrongPassword);
        }
        let hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        // Only if unchanged since it was verified: two changes at once cannot both win.
        if !self
            .store
            .replace_password_hash(user.id, &user.password_hash, &hash, now)
            .await?
        {
            return Err(AccountError::WrongPassword);
        }
        match &self.sessions {
            Some(sessions) => sessions.end_all_but(user.id, session_id).await?,
            None => {
                self.store
                    .end_all_of_user_but(user.id, session_id, now)
                    .await?
            }
        }
        Ok(())
    }

    /// The user, once `password` is confirmed to be theirs (a re-authentication), counted by
    /// the lockout as a login would be. `factor_follows`: a second factor is checked next, so
    /// a right password does not clear the failure count (the factor's success does).
    pub async fn confirm_password(
        &self,
        user_id: i64,
        password: String,
        factor_follows: bool,
    ) -> Result<User, AccountError> {
        let user = self
            .store
            .find_user_by_id(user_id)
            .await?
            .ok_or(AccountError::NotFound)?;
        match self
            .verify_counted(&user, password, !factor_follows)
            .await?
        {
            true => Ok(user),
            false => Err(AccountError::WrongPassword),
        }
    }

    /// Checks `current` against the user's stored hash, counted by the lockout as a login with
    /// their email would be: a locked account is refused without a verification.
    /// `clears_count`: whether a right password clears the name's failure count. Not when a
    /// second factor is still to be checked: else a holder of the password could clear it
    /// between guesses at the code.
    async fn verify_counted(
        &self,
        user: &User,
        current: String,
        clears_count: bool,
    ) -> Result<bool, AccountError> {
        let hash = Some(user.password_hash.clone());
        let Some(lockout) = &self.lockout else {
            return Ok(self.hasher.verify(current, hash).await?.matches);
        };
        let attempt = match lockout.admit(&user.email).await? {
            Admission::Go(attempt) => attempt,
            Admission::Locked(locked) => return Err(AccountError::Locked(locked)),
            Admission::Busy => return Err(HashError::Busy.into()),
        };
        let verified = self.hasher.verify(current, hash).await;
        match &verified {
            Ok(v) if v.matches && clears_count => lockout.succeeded(attempt).await?,
            Ok(v) if v.matches => lockout.abandoned(attempt).await,
            Ok(_) => lockout.failed(attempt).await?,
            Err(_) => lockout.abandoned(attempt).await,
        }
        Ok(verified?.matches)
    }

    /// Signup: the email, password and name checked in that order, then the account created
    /// with an argon2id hash of the password.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        name: &str,
    ) -> Result<User, AccountError> {
        let email = normalise_email(email).map_err(AccountError::Invalid)?;
        self.policy.check(password)?;
        let profile = Profile::new(&email, name, None, false)?;
        self.add(profile, password.to_owned()).await
    }

    /// Creates the account `profile` describes, with `password` (checked here) as its password.
    pub async fn add(&self, profile: Profile, password: String) -> Result<User, AccountError> {
        self.policy.check(&password)?;
        // As for logins: a signup that the hashing queue would refuse costs no lookup.
        self.hasher.wait_for_room().await?;
        if let Some(reserved) = &self.reserved {
            if reserved.is_reserved(&profile.email).await? {
                return Err(AccountError::EmailTaken);
            }
        }
        let user = NewUser {
            email: profile.email,
            username: profile.username,
            name: profile.name,
            password_hash: self.hasher.hash(password).await?,
            admin: profile.admin,
            legacy_name: None,
        };
        create(&self.store, &user, self.clock.now()).await
    }

    /// An administrator sets the password of the user with this email (`gatehouse user
    /// set-password`): `password` must pass the policy. Every session the user holds ends, and
    /// so do the old service's tokens.
    pub async fn set_password(&self, email: &str, password: String) -> Result<User, AccountError> {
        self.policy.check(&password)?;
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let user = self
            .store
            .set_password_hash(&email_key(email), &hash, now)
            .await?
            .ok_or(AccountError::NotFound)?;
        self.store.end_all_of_user(user.id, now).await?;
        Ok(user)
    }
}

/// Stores a user whose fields are already checked and whose password is already hashed (or
/// imported). A taken email or username is told apart from other failures.
pub async fn create(store: &Store, user: &NewUser, now: i64) -> Result<User, AccountError> {
    match store.insert_user(user, now).await {
        Ok(user) => Ok(user),
        // Either the email or the username was taken: the email is the one to look at.
        Err(StoreError::Conflict) => match store.find_user_by_email(&user.email).await? {
            Some(_) => Err(AccountError::EmailTaken),
            None => Err(AccountError::UsernameTaken),
        },
        Err(other) => Err(other.into()),
    }
}

/// Disables (or enables again) the user with this email; running servers refuse a disabled
/// user's logins and tokens once they hear of it (see [`announce_users_changed`]).
///
/// Disabling also ends everything the user holds: every session with its refresh token, and
/// the old service's tokens issued until now. Enabling the account again brings none of them
/// back, so an attacker's stolen refresh token stays dead; the user signs in afresh.
pub async fn set_disabled(
    store: &Store,
    email: &str,
    disabled: bool,
    now: i64,
) -> Result<User, AccountError> {
    let user = store
        .set_user_disabled(&email_key(email), disabled, now)
        .await?
        .ok_or(AccountError::NotFound)?;
    if disabled {
        store.end_all_of_user(user.id, now).await?;
    }
    Ok(user)
}

/// Grants or removes admin. Removing it also ends every session the user holds, so no token
/// that still says `admin: true` outlives the change (the user signs in again).
pub async fn set_admin(
    store: &Store,
    email: &str,
    admin: bool,
    now: i64,
) -> Result<User, AccountError> {
    let user = store
        .set_user_admin(&email_key(email), admin, now)
        .await?
        .ok_or(AccountError::NotFound)?;
    if !admin {
        store.end_all_of_user(user.id, now).await?;
    }
    Ok(user)
}

/// Deletes the user with this email and returns their id; a tombstone keeps their tokens
/// refused.
pub async fn delete(store: &Store, email: &str, now: i64) -> Result<i64, AccountError> {
    store
        .delete_user(&email_key(email), now)
        .await?
        .ok_or(AccountError::NotFound)
}

/// Tells running replicas on PostgreSQL to reload their blocked users at once; on SQLite and
/// MySQL (and if the notification is lost) they pick the change up on their next poll.
pub async fn announce_users_changed(store: &Store) -> Result<(), StoreError> {
    store
        .notify_revocation(&RevocationEvent::Users.encode())
        .await
}
