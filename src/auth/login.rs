//! The login service: the one credential check behind every login contract (Basic `/login`,
//! JSON `/login`, `/auth/login`), the upgrade of outdated hashes, and the session it starts.
//!
//! A user with an active second factor (`mfa`) signs in in two steps on the JSON contracts
//! (the password gives an mfa_token, `second_step` completes it with a code) and in one on
//! Basic, with the code appended to the password.
//!
//! Users Gatehouse does not know yet may be found elsewhere: a `UserFallback` (the old
//! service's table, implemented by `legacy::lazy`) gets the chance to create them first.

use std::net::IpAddr;
use std::sync::Arc;

use tracing::Instrument as _;

use super::access::BoxFuture;
use super::ip_failures::IpFailures;
use super::lockout::{Admission, Locked, Lockout};
use super::mfa::{Mfa, MfaKeys};
use super::password::{HashError, PasswordHasher};
use super::session::{ClientInfo, IssuedSession, SessionError, SessionService};
use super::sign_in::SecondFactor;
use crate::clock::Clock;
use crate::metrics::LoginContract;
use crate::store::{Store, StoreError, User};
use crate::validation::email_key;

/// How the login names its user.
#[derive(Clone, Copy, Debug)]
pub enum LoginName<'a> {
    /// Seeds 000/002/004: the email.
    Email(&'a str),
    /// Seed 003: the username or the email.
    UsernameOrEmail(&'a str),
}

impl<'a> LoginName<'a> {
    /// The name as typed: what the lockout counts failures of.
    pub fn as_str(self) -> &'a str {
        match self {
            LoginName::Email(name) | LoginName::UsernameOrEmail(name) => name,
        }
    }
}

pub enum LoginOutcome {
    /// Signed in: the new session and its tokens.
    Success(IssuedSession),
    /// Unknown user or wrong password: callers answer both the same way.
    InvalidCredentials,
    /// Correct password, but the account is disabled.
    Disabled,
    /// Too many failures for this login name: refused without a look at the password, alike
    /// for every name, known or not.
    Locked(Locked),
    /// Correct password of a user with an active second factor, and no code yet: on the JSON
    /// contracts, the mfa_token to complete with (`second_step`); on Basic, `None` (the code
    /// goes after the password).
    MfaRequired(Option<String>),
}

/// What the credential check found, before any session starts.
pub enum Checked {
    Valid(User),
    /// Correct password, and the TOTP code appended to it (Basic) was right.
    ValidWithCode(User),
    /// Correct password of a user with an active second factor, and no code.
    SecondFactorNeeded(User),
    /// As `SecondFactorNeeded`, on a contract with a second step: its mfa_token.
    Challenged(String),
    InvalidCredentials,
    Disabled,
    Locked(Locked),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The hashing queue stayed full, or a hashing worker failed.
    #[error(transparent)]
    Hashing(#[from] HashError),
    /// A user store (Gatehouse's, or the fallback's) failed or did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Mfa(#[from] super::mfa::MfaError),
    /// The fallback failed for another reason (a misconfigured legacy table).
    #[error("{0:#}")]
    Fallback(anyhow::Error),
}

/// Somewhere else users may be, consulted when a login names no user Gatehouse has.
pub trait UserFallback: Send + Sync {
    /// The Gatehouse user created for `name` when `password` matches there; `None` for a
    /// miss. The caller still verifies `password` against the returned user's stored hash.
    fn migrate_on_login<'a>(
        &'a self,
        name: LoginName<'a>,
        password: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Option<User>, LoginError>>;
}

pub struct LoginService {
    store: Store,
    hasher: PasswordHasher,
    sessions: Arc<SessionService>,
    fallback: Option<Arc<dyn UserFallback>>,
    lockout: Arc<Lockout>,
    /// Second factors: who has one, their codes, the challenges of two-step logins.
    mfa: Arc<Mfa>,
    /// Paces client addresses that fail many logins; `None`: not paced.
    ip_failures: Option<Arc<IpFailures>>,
    clock: Arc<dyn Clock>,
}

impl LoginService {
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        sessions: Arc<SessionService>,
        fallback: Option<Arc<dyn UserFallback>>,
        lockout: Arc<Lockout>,
        mfa_keys: MfaKeys,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mfa = Arc::new(Mfa::new(store.clone(), mfa_keys, clock.clone()));
        Self {
            store,
            hasher,
            sessions,
            fallback,
            lockout,
            mfa,
            ip_failures: None,
            clock,
        }
    }

    /// The second factors it checks (the enrolment endpoints use the same).
    pub fn mfa(&self) -> &Arc<Mfa> {
        &self.mfa
    }

    /// Paces each client address's failed logins (credential stuffing) with `ip_failures`.
    pub fn with_ip_failures(mut self, ip_failures: Arc<IpFailures>) -> Self {
        self.ip_failures = Some(ip_failures);
        self
    }

    /// Checks the credentials and, when they are right, starts a session (one that hands out a
    /// refresh token on the JSON contracts; Basic's text answer has no room for one). A user
    /// with a second factor gets an mfa_token instead (JSON), or must append a code (Basic).
    pub async fn login(
        &self,
        name: LoginName<'_>,
        password: String,
        client: &ClientInfo,
        contract: LoginContract,
    ) -> Result<LoginOutcome, LoginError> {
        let basic = matches!(contract, LoginContract::Basic);
        let second = match contract {
            LoginContract::Basic => SecondStep::Appended,
            json => SecondStep::Challenge(json),
        };
        // The address is parsed again after the check rather than kept: a login waiting for
        // the hashing queue should hold as little as it can.
        let ip = || client.ip.parse::<IpAddr>().ok();
        if let Some(Err(locked)) = self.ip_failures.as_ref().map(|paced| paced.check(ip())) {
            return Ok(LoginOutcome::Locked(locked));
        }
        let checked = self.check(name, password, &client.ip, second).await?;
        let (user, factor) = match checked {
            Checked::Valid(user) => (user, None),
            Checked::ValidWithCode(user) => (user, Some(SecondFactor::Otp)),
            // Basic: the code goes after the password.
            Checked::SecondFactorNeeded(_) => return Ok(LoginOutcome::MfaRequired(None)),
            Checked::Challenged(mfa_token) => {
                return Ok(LoginOutcome::MfaRequired(Some(mfa_token)))
            }
            Checked::InvalidCredentials => {
                if let Some(paced) = &self.ip_failures {
                    paced.failed(ip());
                }
                return Ok(LoginOutcome::InvalidCredentials);
            }
            Checked::Disabled => return Ok(LoginOutcome::Disabled),
            Checked::Locked(locked) => return Ok(LoginOutcome::Locked(locked)),
        };
        let session = self.start(user, client, !basic, factor).await?;
        Ok(LoginOutcome::Success(session))
    }

    /// Starts `user`'s session. Boxed, with the user moved in: only the logins that get this
    /// far hold room for it.
    fn start<'a>(
        &'a self,
        user: User,
        client: &'a ClientInfo,
        with_refresh: bool,
        factor: Option<SecondFactor>,
    ) -> BoxFuture<'a, Result<IssuedSession, SessionError>> {
        Box::pin(async move {
            self.sessions
                .start(&user, client, with_refresh, factor)
                .await
        })
    }

    /// Looks the user up and verifies the password. An unknown user is verified against a
    /// dummy hash, so the answer takes as long as a wrong password would.
    ///
    /// When the password is right, the account enabled, and the stored hash outdated (a legacy
    /// format, argon2i, or argon2id with other parameters), the password is hashed again with
    /// the current parameters and stored. That upgrade is best effort: if it fails, the
    /// failure is logged and the login still succeeds.
    /// `client_ip` is for the log lines on the way (a lockout, a hash upgrade, a failure).
    ///
    /// A user with a second factor is `SecondFactorNeeded` after a right password.
    pub async fn check_credentials(
        &self,
        name: LoginName<'_>,
        password: String,
        client_ip: &str,
    ) -> Result<Checked, LoginError> {
        self.check(name, password, client_ip, SecondStep::None)
            .await
    }

    /// As `check_credentials`, with the second factor taken as `second` says.
    async fn check(
        &self,
        name: LoginName<'_>,
        password: String,
        client_ip: &str,
        second: SecondStep,
    ) -> Result<Checked, LoginError> {
        // Refused before the lookup: logins beyond the hashing queue cost no database query.
        // (Whether the queue is full says nothing about the user, so this leaks nothing.)
        self.hasher.wait_for_room().await?;
        // Boxed: a storm holds a thousand logins waiting above, so while they wait they should
        // hold no room for the count's, the lookup's and the verify's futures (about 1 KB).
        let span = tracing::info_span!("login", client_ip);
        Box::pin(self.counted_check(name, password, second).instrument(span)).await
    }

    /// The check, counted by the lockout: the attempt takes its place in the name's count
    /// before anything is looked up or verified, so a locked name costs no verification,
    /// known or not.
    async fn counted_check(
        &self,
        name: LoginName<'_>,
        password: String,
        second: SecondStep,
    ) -> Result<Checked, LoginError> {
        let attempt = match self.lockout.admit(name.as_str()).await? {
            Admission::Go(attempt) => attempt,
            Admission::Locked(locked) => return Ok(Checked::Locked(locked)),
            Admission::Busy => return Err(HashError::Busy.into()),
        };
        let checked = self.verify_credentials(name, password, second).await;
        match &checked {
            Ok(Checked::Valid(_) | Checked::ValidWithCode(_) | Checked::Disabled) => {
                self.lockout.succeeded(attempt).await?
            }
            Ok(Checked::InvalidCredentials) => self.lockout.failed(attempt).await?,
            // A right password without its second factor neither fails nor clears the count:
            // clearing it would let whoever has the password guess codes without end.
            Ok(Checked::SecondFactorNeeded(_) | Checked::Challenged(_) | Checked::Locked(_))
            | Err(_) => self.lockout.abandoned(attempt).await,
        }
        checked
    }

    async fn verify_credentials(
        &self,
        name: LoginName<'_>,
        password: String,
        second: SecondStep,
    ) -> Result<Checked, LoginError> {
        let (store, hasher) = (&self.store, &self.hasher);
        let now = self.clock.now();
        let user = match name {
            LoginName::Email(email) => store.find_user_by_email(&email_key(email)).await?,
            LoginName::UsernameOrEmail(login) => store.find_user_by_login(login).await?,
        };
        // Unknown here: perhaps in the fallback. A miss stays `None`, so the dummy-hash verify
        // below still runs; a migrated user is verified like any other.
        let user = match (user, &self.fallback) {
            // Boxed: the lazy migration's future is about 4 KB, and only the logins that reach
            // it should pay for it.
            (None, Some(fallback)) => fallback.migrate_on_login(name, &password, now).await?,
            (found, _) => found,
        };
        // Looked up for unknown names too (as user 0, which no one is), so that whether a
        // name has an account, or a second factor, shows in no timing.
        let totp = self
            .mfa
            .active_totp(user.as_ref().map_or(0, |u| u.id))
            .await?;
        let appended = totp.is_some() && matches!(second, SecondStep::Appended);
        let (password, code) = split_password(password, appended);
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        // One verification per attempt, whatever the split: the password alone is verified.
        let verification = hasher.verify(password.clone(), stored_hash).await?;
        Ok(match user {
            Some(user) if verification.matches && user.disabled => Checked::Disabled,
            Some(mut user) if verification.matches => {
                if verification.needs_rehash {
                    upgrade_hash(store, hasher, &mut user, password, now).await;
                }
                self.second_factor(user, totp, code, name, second).await?
            }
            _ => Checked::InvalidCredentials,
        })
    }
}

/// Replaces the user's stored hash by a fresh argon2id one of `password`. Failures are logged
/// (with the user id and the error, never the password or a hash) and otherwise ignored.
async fn upgrade_hash(
    store: &Store,
    hasher: &PasswordHasher,
    user: &mut User,
    password: String,
    now: i64,
) {
    let new_hash = match hasher.hash(password).await {
        Ok(hash) => hash,
        Err(error) => {
            tracing::warn!(user_id = user.id, %error, "could not upgrade the password hash");
            return;
        }
    };
    match store
        .replace_password_hash(user.id, &user.password_hash, &new_hash, now)
        .await
    {
        Ok(true) => {
            tracing::info!(
                user_id = user.id,
                "upgraded the password hash to argon2id with the current parameters"
            );
            user.password_hash = new_hash;
        }
        // The password changed since it was verified: the newer hash stays.
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(user_id = user.id, %error, "could not store the upgraded password hash");
        }
    }
}

mod second_step;

use second_step::{split_password, SecondStep};
pub use second_step::{FactorCheck, MfaStepOutcome};

#[cfg(test)]
mod tests;
