//! The second factor at login: after a right password, whether one is needed (and on Basic,
//! the code appended to the password), and the second step of a two-step login
//! (`POST /auth/login/mfa`): the mfa_token the password step gave, and a TOTP code or a
//! recovery code. Wrong codes count toward the lockout of the name the login was made with,
//! and toward the client address's pacing, like wrong passwords.

use std::net::IpAddr;

use super::{Checked, LoginError, LoginName, LoginService};
use crate::auth::lockout::{Admission, Locked};
use crate::auth::mfa::totp::split_appended_code;
use crate::auth::mfa::Proof;
use crate::auth::password::HashError;
use crate::auth::session::{ClientInfo, IssuedSession};
use crate::auth::sign_in::SecondFactor;
use crate::metrics::LoginContract;
use crate::store::{TotpRow, User};

pub enum MfaStepOutcome {
    /// Signed in; answer as `contract` answers a login.
    Success {
        session: IssuedSession,
        contract: LoginContract,
    },
    /// Unknown, used or expired mfa_token: log in again.
    InvalidToken,
    /// A wrong or already used code (counted as a failed login).
    InvalidCode,
    /// The account was disabled since its password was checked.
    Disabled,
    Locked(Locked),
}

impl LoginService {
    /// After a right password: whether the user needs a second factor; if one came appended,
    /// whether it is right (a wrong code is a failed login, counted as one); on a contract with
    /// a second step, the challenge to complete.
    pub(super) async fn second_factor(
        &self,
        user: User,
        totp: Option<TotpRow>,
        code: Option<String>,
        name: LoginName<'_>,
        second: SecondStep,
    ) -> Result<Checked, LoginError> {
        Ok(match (totp, code, second) {
            (None, _, _) => Checked::Valid(user),
            (Some(row), Some(code), _) => match self.mfa.verify_code(&row, &code).await? {
                true => Checked::ValidWithCode(user),
                false => Checked::InvalidCredentials,
            },
            (Some(_), None, SecondStep::Challenge(contract)) => {
                let mfa = &self.mfa;
                let token = mfa.challenge(user.id, name.as_str(), contract.as_str());
                Checked::Challenged(token.await?)
            }
            (Some(_), None, _) => Checked::SecondFactorNeeded(user),
        })
    }

    /// Completes the login of `mfa_token` with `proof`. The token is used up only by a right
    /// code: a typo can be corrected, within the lockout's count.
    pub async fn complete_mfa(
        &self,
        mfa_token: &str,
        proof: &Proof,
        client: &ClientInfo,
    ) -> Result<MfaStepOutcome, LoginError> {
        let ip = client.ip.parse::<IpAddr>().ok();
        if let Some(Err(locked)) = self.ip_failures.as_ref().map(|paced| paced.check(ip)) {
            return Ok(MfaStepOutcome::Locked(locked));
        }
        let challenge = self.mfa.open_challenge(mfa_token).await?;
        let contract = challenge.as_ref().and_then(|c| contract_of(&c.contract));
        let (Some(challenge), Some(contract)) = (challenge, contract) else {
            if let Some(paced) = &self.ip_failures {
                paced.failed(ip);
            }
            return Ok(MfaStepOutcome::InvalidToken);
        };
        let (name, user_id) = (&challenge.login_name, challenge.user_id);
        let factor = match self.check_second_factor(name, user_id, proof, ip).await? {
            FactorCheck::Valid(factor) => factor,
            FactorCheck::Invalid => return Ok(MfaStepOutcome::InvalidCode),
            FactorCheck::Locked(locked) => return Ok(MfaStepOutcome::Locked(locked)),
        };
        // Once: of two completions racing with right codes, one signs in.
        if !self.mfa.use_challenge(&challenge).await? {
            return Ok(MfaStepOutcome::InvalidToken);
        }
        let user = match self.store.find_user_by_id(challenge.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => return Ok(MfaStepOutcome::Disabled),
        };
        let session = self
            .sessions
            .start(&user, client, true, Some(factor))
            .await?;
        Ok(MfaStepOutcome::Success { session, contract })
    }

    /// Checks a second factor of `user_id` (a TOTP code, accepted once, or a recovery code,
    /// used up), counted like a password: by the lockout under `login_name` (refused without a
    /// check while it is locked; a right one clears the count) and, when wrong, by the pacing
    /// of `client_ip`. For the second step of a login, and for anything that asks a signed-in
    /// user for a code again (`POST /auth/reauth`, with the user's email as `login_name`).
    pub async fn check_second_factor(
        &self,
        login_name: &str,
        user_id: i64,
        proof: &Proof,
        client_ip: Option<IpAddr>,
    ) -> Result<FactorCheck, LoginError> {
        let attempt = match self.lockout.admit(login_name).await? {
            Admission::Go(attempt) => attempt,
            Admission::Locked(locked) => return Ok(FactorCheck::Locked(locked)),
            Admission::Busy => return Err(HashError::Busy.into()),
        };
        match self.mfa.verify(user_id, proof).await {
            Ok(true) => {
                self.lockout.succeeded(attempt).await?;
                Ok(FactorCheck::Valid(match proof {
                    Proof::Code(_) => SecondFactor::Otp,
                    Proof::RecoveryCode(_) => SecondFactor::RecoveryCode,
                }))
            }
            Ok(false) => {
                self.lockout.failed(attempt).await?;
                if let Some(paced) = &self.ip_failures {
                    paced.failed(client_ip);
                }
                Ok(FactorCheck::Invalid)
            }
            Err(error) => {
                self.lockout.abandoned(attempt).await;
                Err(error.into())
            }
        }
    }
}

/// What `check_second_factor` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorCheck {
    /// Right (and now used): which kind, for the session's `amr`.
    Valid(SecondFactor),
    /// Wrong, malformed, already used, or the user has no active TOTP (counted).
    Invalid,
    /// The name is locked: nothing was checked.
    Locked(Locked),
}

/// The contract a challenge was made on (`LoginContract::as_str`); Basic makes none.
fn contract_of(name: &str) -> Option<LoginContract> {
    [LoginContract::Json, LoginContract::AuthLogin]
        .into_iter()
        .find(|contract| contract.as_str() == name)
}

/// How a login takes a second factor.
#[derive(Clone, Copy, Debug)]
pub(super) enum SecondStep {
    /// Basic: appended to the password.
    Appended,
    /// A JSON contract: in a second request, with the mfa_token this login gets.
    Challenge(LoginContract),
    /// Not at all: the caller only checks the password (`check_credentials`).
    None,
}

/// The password and the code appended to it, when `split` (a user with a second factor, on
/// Basic) and it ends in 6 digits; else the whole password.
pub(super) fn split_password(password: String, split: bool) -> (String, Option<String>) {
    match split.then(|| split_appended_code(&password)).flatten() {
        Some((head, code)) => (head.to_owned(), Some(code.to_owned())),
        None => (password, None),
    }
}
