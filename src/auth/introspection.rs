//! Token introspection (RFC 7662) and revocation (RFC 7009) for authenticated clients: what a
//! presented token is and whether it is live, and revoking it, through the same paths as
//! `/validate` (the `Authenticator`) and logout (the `SessionService`).
//!
//! Which kind a token is follows from its shape (a JWT, or `v2.…` for a refresh token), so the
//! `token_type_hint` is never needed. Costs: an access token is answered from memory; a refresh
//! token costs one session read (two for one from before the generation scheme).

use std::sync::Arc;

use super::access::{AccessError, Authenticator};
use super::session::{LiveRefreshToken, RefreshTokenStatus, SessionError, SessionService};
use super::token::Claims;

/// What a token presented for introspection is.
#[derive(Debug)]
pub enum Introspection {
    /// A live access token, and its claims.
    Access(Claims),
    /// A live refresh token.
    Refresh(LiveRefreshToken),
    /// Anything else: expired, revoked, logged out, of a disabled user, unknown, malformed.
    Inactive,
}

#[derive(Debug, thiserror::Error)]
pub enum IntrospectionError {
    /// The database did not answer (a refresh token's session, a foreign token's user).
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Access(AccessError),
}

/// Presented tokens longer than this are inactive without a look (ours are under 1 KiB).
const MAX_TOKEN_BYTES: usize = 8 * 1024;

pub struct TokenInspector {
    access: Arc<Authenticator>,
    sessions: Arc<SessionService>,
}

impl TokenInspector {
    pub fn new(access: Arc<Authenticator>, sessions: Arc<SessionService>) -> Self {
        Self { access, sessions }
    }

    pub async fn introspect(&self, token: &str) -> Result<Introspection, IntrospectionError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Ok(Introspection::Inactive);
        }
        match self.sessions.refresh_token_status(token).await? {
            RefreshTokenStatus::Live(live) => return Ok(Introspection::Refresh(live)),
            RefreshTokenStatus::Inactive => return Ok(Introspection::Inactive),
            RefreshTokenStatus::NotOne => {}
        }
        match self.access.authenticate(token).await {
            Ok(authenticated) => Ok(Introspection::Access(authenticated.claims)),
            Err(AccessError::Refused(_)) => Ok(Introspection::Inactive),
            Err(e) => Err(IntrospectionError::Access(e)),
        }
    }

    /// Revokes an access token (that token alone, by its `jti`) or a refresh token (its whole
    /// session), on every replica. A token that is not live already needs nothing: done.
    pub async fn revoke(&self, token: &str) -> Result<(), IntrospectionError> {
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Ok(());
        }
        if self.sessions.revoke_refresh_token(token).await? != RefreshTokenStatus::NotOne {
            return Ok(());
        }
        match self.access.authenticate(token).await {
            Ok(authenticated) => Ok(self
                .sessions
                .revoke_access_token(authenticated.user_id, &authenticated.claims)
                .await?),
            Err(AccessError::Refused(_)) => Ok(()),
            Err(e) => Err(IntrospectionError::Access(e)),
        }
    }
}
