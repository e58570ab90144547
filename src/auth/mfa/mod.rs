//! The second factor: TOTP enrolment and confirmation, recovery codes, the check of a code
//! (each accepted once, on every replica) and the challenges of logins waiting for one.
//!
//! At rest: the TOTP secret sealed (`keys`), recovery codes as keyed hashes, mfa_tokens as
//! SHA-256. Nothing secret is logged; the secret leaves only in the enrolment's answer and the
//! recovery codes only in the answer that made them.
//!
//! The login contracts use this through `auth::login` (the password first, then the code);
//! [`Mfa::verify`] is the check for anything else that asks for a second factor again.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::auth::keys::sealing::SealError;
use crate::clock::Clock;
use crate::secrets::random_token;
use crate::store::{MfaChallengeRow, Store, StoreError, TotpRow};

pub mod keys;
mod recovery;
pub mod totp;

pub use keys::MfaKeys;
pub use recovery::normalise_recovery_code;
use totp::TotpError;

/// How long a login may wait for its second factor.
pub const CHALLENGE_TTL_SECS: i64 = 300;
/// Recovery codes made at once.
pub const RECOVERY_CODES: usize = 10;
/// The label authenticator apps show before the account name.
pub const ISSUER: &str = "Gatehouse";

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// `POST /auth/mfa/totp` while a confirmed secret is active: remove it first.
    #[error("TOTP is already active")]
    AlreadyActive,
    /// Nothing to confirm (no pending secret), or nothing to make codes for (no active one).
    #[error("no TOTP enrolment in that state")]
    NotEnrolled,
    /// A wrong, malformed or already used code.
    #[error("invalid code")]
    InvalidCode,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored secret did not open (another key, or an altered row).
    #[error(transparent)]
    Sealing(#[from] SealError),
    #[error(transparent)]
    Totp(#[from] TotpError),
}

/// A pending enrolment, shown once: what an authenticator app is given.
#[derive(Debug)]
pub struct Enrolment {
    /// Base32, for typing in.
    pub secret: String,
    pub otpauth_uri: String,
    pub qr_svg: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpState {
    None,
    Pending,
    Active,
}

#[derive(Debug, Clone, Copy)]
pub struct MfaStatus {
    pub totp: TotpState,
    pub recovery_codes_left: i64,
}

/// A second factor as presented.
#[derive(Debug, Clone)]
pub enum Proof {
    /// A 6-digit TOTP code.
    Code(String),
    /// One of the user's recovery codes (dashes, spaces and case ignored).
    RecoveryCode(String),
}

pub struct Mfa {
    store: Store,
    keys: MfaKeys,
    clock: Arc<dyn Clock>,
}

impl Mfa {
    pub fn new(store: Store, keys: MfaKeys, clock: Arc<dyn Clock>) -> Self {
        Self { store, keys, clock }
    }

    /// A new pending secret for the user (replacing a pending one): not used at login until a
    /// code confirms it. `account` labels it in the app (the user's email).
    pub async fn begin_enrolment(
        &self,
        user_id: i64,
        account: &str,
    ) -> Result<Enrolment, MfaError> {
        if self.active_totp(user_id).await?.is_some() {
            return Err(MfaError::AlreadyActive);
        }
        let secret = totp::new_secret()?;
        let generator = totp::generator(secret.clone(), ISSUER, account)?;
        let sealed = self.keys.seal(user_id, &secret)?;
        if !self
            .store
            .put_pending_totp(user_id, &sealed, self.clock.now())
            .await?
        {
            return Err(MfaError::AlreadyActive);
        }
        let otpauth_uri = generator.get_url();
        Ok(Enrolment {
            secret: generator.get_secret_base32(),
            qr_svg: totp::qr_svg(&otpauth_uri)?,
            otpauth_uri,
        })
    }

    /// Activates the pending secret with a code it produces; returns the first recovery codes.
    pub async fn confirm(&self, user_id: i64, code: &str) -> Result<Vec<String>, MfaError> {
        let row = match self.store.totp(user_id).await? {
            Some(row) if row.confirmed_at.is_none() => row,
            Some(_) => return Err(MfaError::AlreadyActive),
            None => return Err(MfaError::NotEnrolled),
        };
        let now = self.clock.now();
        let steps = self.matching_steps(&row, code, now)?;
        let Some(&step) = steps.last() else {
            return Err(MfaError::InvalidCode);
        };
        // The code confirming it counts as used: it cannot sign in right after.
        if !self
            .store
            .confirm_totp(user_id, &row.secret_sealed, step, now)
            .await?
        {
            // Replaced or confirmed by another request meanwhile.
            return Err(MfaError::NotEnrolled);
        }
        tracing::info!(user_id, "TOTP second factor activated");
        self.new_recovery_codes(user_id).await
    }

    /// Removes the user's TOTP secret and recovery codes; whether there was a secret.
    pub async fn remove(&self, user_id: i64) -> Result<bool, MfaError> {
        let removed = self.store.delete_totp(user_id).await?;
        if removed {
            tracing::info!(user_id, "TOTP second factor removed");
        }
        Ok(removed)
    }

    pub async fn status(&self, user_id: i64) -> Result<MfaStatus, MfaError> {
        let totp = match self.store.totp(user_id).await? {
            None => TotpState::None,
            Some(row) if row.confirmed_at.is_none() => TotpState::Pending,
            Some(_) => TotpState::Active,
        };
        let recovery_codes_left = match totp {
            TotpState::Active => self.store.recovery_codes_left(user_id).await?,
            TotpState::None | TotpState::Pending => 0,
        };
        Ok(MfaStatus {
            totp,
            recovery_codes_left,
        })
    }

    /// The user's active (confirmed) TOTP row, if any.
    pub async fn active_totp(&self, user_id: i64) -> Result<Option<TotpRow>, MfaError> {
        Ok(self
            .store
            .totp(user_id)
            .await?
            .filter(|row| row.confirmed_at.is_some()))
    }

    /// Checks a second factor of `user_id`, with replay protection: a TOTP code is accepted
    /// once (its time step recorded with a compare-and-set, so not again on any replica) and
    /// a recovery code is used up (exactly one of concurrent uses wins). `Ok(false)`: wrong,
    /// used, or the user has no active TOTP. (The caller counts failures toward the lockout.)
    pub async fn verify(&self, user_id: i64, proof: &Proof) -> Result<bool, MfaError> {
        let Some(row) = self.active_totp(user_id).await? else {
            return Ok(false);
        };
        match proof {
            Proof::Code(code) => self.verify_code(&row, code).await,
            Proof::RecoveryCode(code) => self.use_recovery_code(user_id, code).await,
        }
    }

    /// Checks a TOTP code against an active row, and records its step if it is accepted.
    pub async fn verify_code(&self, row: &TotpRow, code: &str) -> Result<bool, MfaError> {
        let now = self.clock.now();
        for step in self.matching_steps(row, code, now)? {
            if self.store.advance_totp_step(row.user_id, step).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn matching_steps(&self, row: &TotpRow, code: &str, now: i64) -> Result<Vec<i64>, MfaError> {
        let secret = self.keys.open(row.user_id, &row.secret_sealed)?;
        // The label plays no part in the codes.
        let generator = totp::generator(secret, ISSUER, "user")?;
        Ok(totp::matching_steps(&generator, code, now))
    }

    /// A login of `user_id` (by `login_name`, under `contract`) whose password was right: the
    /// mfa_token it completes with. Only its SHA-256 is stored.
    pub async fn challenge(
        &self,
        user_id: i64,
        login_name: &str,
        contract: &str,
    ) -> Result<String, MfaError> {
        let token = random_token(32);
        let now = self.clock.now();
        let row = MfaChallengeRow {
            token_hash: token_hash(&token),
            user_id,
            login_name: login_name.to_owned(),
            contract: contract.to_owned(),
            expires_at: now + CHALLENGE_TTL_SECS,
            used_at: None,
        };
        self.store.insert_mfa_challenge(&row, now).await?;
        Ok(token)
    }

    /// The unused, unexpired challenge of `token`.
    pub async fn open_challenge(&self, token: &str) -> Result<Option<MfaChallengeRow>, MfaError> {
        let now = self.clock.now();
        Ok(self
            .store
            .mfa_challenge(&token_hash(token))
            .await?
            .filter(|row| row.used_at.is_none() && row.expires_at > now))
    }

    /// Uses the challenge up: true for exactly one caller, before it expires.
    pub async fn use_challenge(&self, challenge: &MfaChallengeRow) -> Result<bool, MfaError> {
        Ok(self
            .store
            .use_mfa_challenge(&challenge.token_hash, self.clock.now())
            .await?)
    }
}

/// How an mfa_token is stored.
fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
