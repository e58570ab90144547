//! Sessions: one per login, renewed with rotating refresh tokens, listed and ended by their
//! user. `SessionService` is the one place sessions start, refresh and end.
//!
//! Presenting an already-rotated refresh token within the grace window gets the same successor
//! (see `refresh_token`); after the window, or any older one, it is theft, and the whole
//! session ends. A user holds at most `max_per_user` sessions: the oldest end first.

use std::sync::Arc;

use super::refresh_token::RefreshTokens;
use super::revocation::{RevocationEvent, RevocationList};
use super::revocation_sync::publish;
use super::sign_in::{SecondFactor, SignIn};
use super::token::{AccessTokens, Claims};
use crate::clock::{Clock, CLOCK_SKEW_LEEWAY_SECS};
use crate::secrets::random_token;
use crate::store::{Session, Store, StoreError, User};

mod introspect;
mod refresh;

pub use introspect::{LiveRefreshToken, RefreshTokenStatus};

/// User agents longer than this are cut when stored.
const MAX_USER_AGENT_CHARS: usize = 256;

/// Lifetimes of sessions and refresh tokens, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A refresh token's life; each refresh slides it forward, up to `refresh_max_ttl`.
    pub refresh_ttl: i64,
    pub refresh_max_ttl: i64,
    /// An already-rotated refresh token presented again within this window gets the same
    /// successor (two tabs refreshing at once); later, it ends the whole session.
    pub reuse_grace: i64,
    /// Sessions a user may hold at once (`MAX_SESSIONS_PER_USER`); a login beyond ends the
    /// oldest.
    pub max_per_user: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing the access token failed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// Where a login came from, kept with its session.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: String,
    pub ip: String,
}

impl ClientInfo {
    pub fn new(user_agent: &str, ip: String) -> Self {
        let user_agent = user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT_CHARS)
            .collect();
        Self { user_agent, ip }
    }
}

#[derive(Debug)]
pub struct IssuedSession {
    pub session_id: String,
    pub user_id: i64,
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

pub enum RefreshOutcome {
    Renewed(IssuedSession),
    /// Unknown, expired or ended: nothing to renew.
    Invalid,
    /// An old refresh token came back after the grace window: the session was ended.
    ReuseDetected,
}

/// How much a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutScope {
    /// The session of the token presented.
    Current,
    /// Every session of the user, and every token the old service issued them until now.
    All,
}

/// How the session's user last signed in, from its row.
fn sign_in_of(session: &Session) -> SignIn {
    SignIn::from_columns(
        session.amr.as_deref(),
        session.auth_time,
        session.created_at,
    )
}

pub struct SessionService {
    store: Store,
    tokens: Arc<AccessTokens>,
    refresh: RefreshTokens,
    revocations: Arc<RevocationList>,
    policy: SessionPolicy,
    clock: Arc<dyn Clock>,
}

impl SessionService {
    pub fn new(
        store: Store,
        tokens: Arc<AccessTokens>,
        refresh: RefreshTokens,
        revocations: Arc<RevocationList>,
        policy: SessionPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            tokens,
            refresh,
            revocations,
            policy,
            clock,
        }
    }

    /// Starts a session for `user`, who just signed in with a password and `second_factor`,
    /// and signs its first access token. `with_refresh`: whether the client can receive a
    /// refresh token (a Basic login's text body cannot); without one the session lasts as
    /// long as its access token.
    pub async fn start(
        &self,
        user: &User,
        client: &ClientInfo,
        with_refresh: bool,
        second_factor: Option<SecondFactor>,
    ) -> Result<IssuedSession, SessionError> {
        let now = self.clock.now();
        let sign_in = SignIn::new(second_factor, now);
        let policy = self.policy;
        let access_ttl = self.tokens.ttl_secs();
        let (lifetime, absolute) = if with_refresh {
            (
                policy.refresh_ttl.min(policy.refresh_max_ttl),
                policy.refresh_max_ttl,
            )
        } else {
            (access_ttl, access_ttl)
        };
        let expires_at = now + lifetime;
        let session = Session {
            id: random_token(16),
            user_id: user.id,
            created_at: now,
            last_used_at: now,
            expires_at,
            absolute_expires_at: now + absolute,
            user_agent: client.user_agent.clone(),
            client_ip: client.ip.clone(),
            revoked_at: None,
            tokens_expire_at: self.tokens.expiry(now, expires_at),
            refresh_generation: 0,
            refresh_rotated_at: None,
            auth_time: Some(now),
            amr: Some(sign_in.amr_column().to_owned()),
        };
        self.store.insert_session(&session).await?;
        self.enforce_cap(user.id, now).await?;
        let refresh_token = with_refresh.then(|| self.refresh.token(&session.id, 0));
        let (access_token, claims) =
            self.tokens
                .issue(user, &session.id, now, session.expires_at, &sign_in)?;
        Ok(IssuedSession {
            session_id: session.id,
            user_id: user.id,
            access_token,
            refresh_token,
            expires_in: claims.exp - now,
        })
    }

    /// A re-authentication (`POST /auth/reauth`): `user` proved themselves again, with a
    /// password and `second_factor`, in their session `session_id`. The session now says so
    /// (its refreshed tokens keep the new `auth_time`), and a fresh access token is signed.
    /// `None`: the session has ended or is not the user's.
    pub async fn renew_sign_in(
        &self,
        user: &User,
        session_id: &str,
        second_factor: Option<SecondFactor>,
    ) -> Result<Option<IssuedSession>, SessionError> {
        let now = self.clock.now();
        let Some(session) = self.store.find_session(session_id).await? else {
            return Ok(None);
        };
        let sign_in = SignIn::new(second_factor, now);
        let expiry = self.tokens.expiry(now, session.expires_at);
        let renewed = self
            .store
            .renew_session_sign_in((session_id, user.id), now, sign_in.amr_column(), expiry)
            .await?;
        if !renewed {
            return Ok(None);
        }
        let (access_token, claims) =
            self.tokens
                .issue(user, session_id, now, session.expires_at, &sign_in)?;
        Ok(Some(IssuedSession {
            session_id: session.id,
            user_id: user.id,
            access_token,
            refresh_token: None,
            expires_in: claims.exp - now,
        }))
    }

    /// Ends the user's oldest sessions beyond the cap.
    async fn enforce_cap(&self, user_id: i64, now: i64) -> Result<(), SessionError> {
        let live_at = now - CLOCK_SKEW_LEEWAY_SECS;
        let oldest = self
            .store
            .sessions_beyond(user_id, self.policy.max_per_user, live_at)
            .await?;
        if !oldest.is_empty() {
            tracing::info!(
                user_id,
                ended = oldest.len(),
                "ended a user's oldest sessions beyond MAX_SESSIONS_PER_USER"
            );
            self.end(&oldest).await?;
        }
        Ok(())
    }

    /// Ends sessions durably, then tells every replica; their access tokens are refused from
    /// then on. Returns how many were still active.
    pub async fn end(&self, ids: &[String]) -> Result<usize, SessionError> {
        let now = self.clock.now();
        let ended = self.store.revoke_sessions(ids, now).await?;
        for (id, until) in &ended {
            let event = RevocationEvent::Session {
                id: id.clone(),
                until: *until,
            };
            publish(&self.revocations, &self.store, event, now).await;
        }
        Ok(ended.len())
    }

    /// Logs out the holder of a token with these `claims`: its session (or, for a token from
    /// before sessions existed, the token itself), or with `All` every session of the user.
    pub async fn logout(
        &self,
        user_id: i64,
        claims: &Claims,
        scope: LogoutScope,
    ) -> Result<(), SessionError> {
        let now = self.clock.now();
        if scope == LogoutScope::All {
            // One statement for every session, however many, and one event: cut short by the
            // request timeout, it is either done or not. The old service's tokens have no
            // session: they are cut off by their issue time, even while they are not accepted,
            // so that turning them on cannot bring these back.
            self.store.end_all_of_user(user_id, now).await?;
            publish(&self.revocations, &self.store, RevocationEvent::Users, now).await;
        }
        match &claims.sid {
            Some(sid) => {
                self.end(std::slice::from_ref(sid)).await?;
            }
            // A token from before sessions existed: revoke the token itself.
            None => self.revoke_access_token(user_id, claims).await?,
        }
        Ok(())
    }

    /// Ends every session of the user but `keep` (and cuts off the old service's tokens),
    /// on every replica: after a password change, only the device that made it stays in.
    pub async fn end_all_but(&self, user_id: i64, keep: &str) -> Result<(), SessionError> {
        let now = self.clock.now();
        self.store.end_all_of_user_but(user_id, keep, now).await?;
        publish(&self.revocations, &self.store, RevocationEvent::Users, now).await;
        Ok(())
    }

    /// The user's active sessions, newest first.
    pub async fn list(&self, user_id: i64) -> Result<Vec<Session>, SessionError> {
        Ok(self
            .store
            .active_sessions(user_id, self.clock.now())
            .await?)
    }

    /// Ends session `id` if it is `user_id`'s and may still have live tokens; false otherwise.
    pub async fn end_own(&self, user_id: i64, id: String) -> Result<bool, SessionError> {
        let now = self.clock.now();
        let owned = self
            .store
            .find_session(&id)
            .await?
            .is_some_and(|s| s.user_id == user_id && s.may_have_live_tokens(now));
        if owned {
            self.end(&[id]).await?;
        }
        Ok(owned)
    }
}
