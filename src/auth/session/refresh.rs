//! Refreshing a session: the generation scheme of `refresh_token`, the tokens from before it,
//! the grace window and reuse detection.

use super::{sign_in_of, IssuedSession, RefreshOutcome, SessionError, SessionService};
use crate::auth::refresh_token::hash_refresh_token;
use crate::store::{Session, User};

impl SessionService {
    /// Exchanges a refresh token for a new access token and a new refresh token.
    pub async fn refresh(&self, presented: &str) -> Result<RefreshOutcome, SessionError> {
        match self.refresh.open(presented) {
            Some((session_id, generation)) => {
                self.refresh_generation(&session_id, generation).await
            }
            None => self.refresh_stored(presented).await,
        }
    }

    /// The session, if it can still be refreshed, and its user, if still enabled (a disabled
    /// or deleted user's session is ended). `None`: nothing to renew.
    async fn refreshable(
        &self,
        session_id: &str,
        now: i64,
    ) -> Result<Option<(Session, User)>, SessionError> {
        let Some(session) = self
            .store
            .find_session(session_id)
            .await?
            .filter(|s| s.is_active(now))
        else {
            return Ok(None);
        };
        match self
            .store
            .find_user_by_id(session.user_id)
            .await?
            .filter(|u| !u.disabled)
        {
            Some(user) => Ok(Some((session, user))),
            None => {
                self.end(&[session.id]).await?;
                Ok(None)
            }
        }
    }

    /// A token of the generation scheme: the current generation rotates; the one before, within
    /// the grace window, gets the same successor; any older one is reuse.
    async fn refresh_generation(
        &self,
        session_id: &str,
        generation: i64,
    ) -> Result<RefreshOutcome, SessionError> {
        // Two passes at most: the second follows a concurrent refresh that won the race.
        for _ in 0..2 {
            let now = self.clock.now();
            let Some((session, user)) = self.refreshable(session_id, now).await? else {
                return Ok(RefreshOutcome::Invalid);
            };
            let current = session.refresh_generation;
            let within_grace = session
                .refresh_rotated_at
                .is_some_and(|at| now - at <= self.policy.reuse_grace);
            if generation == current {
                let expiry = (now + self.policy.refresh_ttl).min(session.absolute_expires_at);
                let expiries = (expiry, self.tokens.expiry(now, expiry));
                let advanced = self
                    .store
                    .advance_refresh_generation(session_id, current, now, expiries)
                    .await?;
                if advanced {
                    let successor = self.refresh.token(session_id, current + 1);
                    return self.renewed(&user, &session, successor, now, expiry);
                }
            } else if generation == current - 1 && within_grace {
                return self.renew_again(&user, &session, now).await;
            } else if generation < current {
                return self.reuse_detected(session.id).await;
            } else {
                return Ok(RefreshOutcome::Invalid);
            }
        }
        Ok(RefreshOutcome::Invalid)
    }

    /// A token from before the generation scheme (stored as SHA-256): honoured once; its
    /// successor is the session's current generation token.
    async fn refresh_stored(&self, presented: &str) -> Result<RefreshOutcome, SessionError> {
        let presented_hash = hash_refresh_token(presented);
        for _ in 0..2 {
            let Some(row) = self.store.find_refresh_token(&presented_hash).await? else {
                return Ok(RefreshOutcome::Invalid);
            };
            let now = self.clock.now();
            let Some((session, user)) = self.refreshable(&row.session_id, now).await? else {
                return Ok(RefreshOutcome::Invalid);
            };
            let within_grace = |at: i64| now - at <= self.policy.reuse_grace;
            match row.rotated_at {
                None => {
                    let expiry = (now + self.policy.refresh_ttl).min(session.absolute_expires_at);
                    let expiries = (expiry, self.tokens.expiry(now, expiry));
                    let ids = (session.id.as_str(), presented_hash.as_str());
                    if self.store.retire_refresh_token(ids, now, expiries).await? {
                        let generation = session.refresh_generation;
                        let successor = self.refresh.token(&session.id, generation);
                        return self.renewed(&user, &session, successor, now, expiry);
                    }
                }
                // Used within the grace window, and its successor not rotated yet.
                Some(at) if within_grace(at) && session.refresh_generation == 0 => {
                    return self.renew_again(&user, &session, now).await;
                }
                Some(_) => return self.reuse_detected(session.id).await,
            }
        }
        Ok(RefreshOutcome::Invalid)
    }

    /// The just-rotated token again, within the grace window (two tabs refreshing at once):
    /// the same successor, and a new access token.
    async fn renew_again(
        &self,
        user: &User,
        session: &Session,
        now: i64,
    ) -> Result<RefreshOutcome, SessionError> {
        // An access token of this session expiring later than any before it.
        let expiry = self.tokens.expiry(now, session.expires_at);
        self.store.note_token_expiry(&session.id, expiry).await?;
        let successor = self.refresh.token(&session.id, session.refresh_generation);
        self.renewed(user, session, successor, now, session.expires_at)
    }

    /// A new access token for `session`, saying how its user signed in (not now: a refresh
    /// proves nothing about the user).
    fn renewed(
        &self,
        user: &User,
        session: &Session,
        refresh: String,
        now: i64,
        session_expires_at: i64,
    ) -> Result<RefreshOutcome, SessionError> {
        let sid = session.id.as_str();
        let sign_in = sign_in_of(session);
        let (access_token, claims) =
            self.tokens
                .issue(user, sid, now, session_expires_at, &sign_in)?;
        Ok(RefreshOutcome::Renewed(IssuedSession {
            session_id: sid.to_owned(),
            user_id: user.id,
            access_token,
            refresh_token: Some(refresh),
            expires_in: claims.exp - now,
        }))
    }

    async fn reuse_detected(&self, session_id: String) -> Result<RefreshOutcome, SessionError> {
        tracing::warn!(session = %session_id, "refresh token reuse detected; ending the session");
        self.end(&[session_id]).await?;
        Ok(RefreshOutcome::ReuseDetected)
    }
}
