//! The second step of a two-step login (`POST /auth/login/mfa`): the mfa_token the password
//! step gave, and a TOTP code or a recovery code. Wrong codes count toward the lockout of the
//! name the login was made with, and toward the client address's pacing, like wrong passwords.

use std::net::IpAddr;

use super::{LoginError, LoginService};
use crate::auth::lockout::{Admission, Locked};
use crate::auth::mfa::Proof;
use crate::auth::password::HashError;
use crate::auth::session::{ClientInfo, IssuedSession};
use crate::metrics::LoginContract;

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
        let attempt = match self.lockout.admit(&challenge.login_name).await? {
            Admission::Go(attempt) => attempt,
            Admission::Locked(locked) => return Ok(MfaStepOutcome::Locked(locked)),
            Admission::Busy => return Err(HashError::Busy.into()),
        };
        let verified = self.mfa.verify(challenge.user_id, proof).await;
        match verified {
            Ok(true) => self.lockout.succeeded(attempt).await?,
            Ok(false) => {
                self.lockout.failed(attempt).await?;
                if let Some(paced) = &self.ip_failures {
                    paced.failed(ip);
                }
                return Ok(MfaStepOutcome::InvalidCode);
            }
            Err(error) => {
                self.lockout.abandoned(attempt).await;
                return Err(error.into());
            }
        }
        // Once: of two completions racing with right codes, one signs in.
        if !self.mfa.use_challenge(&challenge).await? {
            return Ok(MfaStepOutcome::InvalidToken);
        }
        let user = match self.store.find_user_by_id(challenge.user_id).await? {
            Some(user) if !user.disabled => user,
            _ => return Ok(MfaStepOutcome::Disabled),
        };
        let session = self.sessions.start(&user, client, true).await?;
        Ok(MfaStepOutcome::Success { session, contract })
    }
}

/// The contract a challenge was made on (`LoginContract::as_str`); Basic makes none.
fn contract_of(name: &str) -> Option<LoginContract> {
    [LoginContract::Json, LoginContract::AuthLogin]
        .into_iter()
        .find(|contract| contract.as_str() == name)
}
