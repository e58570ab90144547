//! What a bearer token proves. `Authenticator` checks a token's signature, times and revocation
//! from memory alone; a token Gatehouse did not issue goes to `ForeignTokens` when one is
//! configured (the old service's tokens: `legacy::tokens` implements it).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::revocation::RevocationList;
use super::token::{AccessTokens, Claims, TokenError};
use crate::clock::Clock;
use crate::store::StoreError;

/// A token that passed every check, and the user it stands for.
#[derive(Debug)]
pub struct Authenticated {
    pub claims: Claims,
    pub user_id: i64,
    /// The token's payload exactly as signed (for a foreign token: the claims it stands for).
    pub raw_claims: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The token is missing, malformed, expired, revoked, or its user is blocked.
    #[error("invalid token: {0}")]
    Refused(#[from] TokenError),
    /// Looking the user of a foreign token up failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Tokens signed by someone else that are accepted too (the old service's).
pub trait ForeignTokens: Send + Sync {
    /// Only called for tokens that are not Gatehouse's own.
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Authenticated, AccessError>>;
}

pub struct Authenticator {
    tokens: Arc<AccessTokens>,
    revocations: Arc<RevocationList>,
    clock: Arc<dyn Clock>,
    foreign: Option<Arc<dyn ForeignTokens>>,
}

impl Authenticator {
    pub fn new(
        tokens: Arc<AccessTokens>,
        revocations: Arc<RevocationList>,
        clock: Arc<dyn Clock>,
        foreign: Option<Arc<dyn ForeignTokens>>,
    ) -> Self {
        Self {
            tokens,
            revocations,
            clock,
            foreign,
        }
    }

    /// The token's claims if it is valid, unrevoked and its user active. Gatehouse's own
    /// tokens cost no query; a foreign token may cost one (see `legacy::tokens`).
    pub async fn authenticate(&self, token: &str) -> Result<Authenticated, AccessError> {
        let now = self.clock.now();
        let verified = match (self.tokens.verify(token, now), &self.foreign) {
            (Ok(verified), _) => verified,
            // Not one of ours: perhaps the old service's (only with ACCEPT_LEGACY_TOKENS=true).
            (Err(TokenError::Invalid), Some(foreign)) => {
                return foreign.authenticate(token, now).await;
            }
            (Err(error), _) => return Err(error.into()),
        };
        let user_id = verified.claims.user_id().ok_or(TokenError::Invalid)?;
        let claims = &verified.claims;
        let session_ended = claims
            .sid
            .as_deref()
            .is_some_and(|sid| self.revocations.is_session_revoked(sid));
        if session_ended || self.revocations.is_token_revoked(&claims.jti) {
            return Err(TokenError::Revoked.into());
        }
        if self.revocations.is_user_blocked(user_id) {
            return Err(TokenError::UserBlocked.into());
        }
        Ok(Authenticated {
            claims: verified.claims,
            user_id,
            raw_claims: verified.payload_json,
        })
    }
}
