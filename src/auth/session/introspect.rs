//! What the OAuth endpoints ask of sessions: whether a refresh token is live (introspection,
//! RFC 7662), and revoking a refresh token (its session ends) or one access token (RFC 7009).

use super::{SessionError, SessionService};
use crate::auth::refresh_token::hash_refresh_token;
use crate::auth::revocation::RevocationEvent;
use crate::auth::revocation_sync::publish;
use crate::auth::token::Claims;
use crate::store::Session;

/// A refresh token that `POST /auth/token/refresh` would accept now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRefreshToken {
    pub session_id: String,
    pub user_id: i64,
    /// When this generation of the token was issued (the login, or the last refresh).
    pub issued_at: i64,
    /// When it expires unless refreshed (the session's expiry).
    pub expires_at: i64,
}

/// What a presented token is, as far as refresh tokens go.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshTokenStatus {
    /// Not shaped like a refresh token at all (an access token, say): no query was made.
    NotOne,
    /// A refresh token that cannot be used: unknown, rotated away, expired or ended.
    Inactive,
    Live(LiveRefreshToken),
}

impl SessionService {
    /// Whether `presented` is a live refresh token. A token of the current scheme costs one
    /// session read; one from before it (stored as SHA-256) a second read; anything else none.
    pub async fn refresh_token_status(
        &self,
        presented: &str,
    ) -> Result<RefreshTokenStatus, SessionError> {
        let now = self.clock.now();
        if let Some((session_id, generation)) = self.refresh.open(presented) {
            let Some(session) = self.store.find_session(&session_id).await? else {
                return Ok(RefreshTokenStatus::Inactive);
            };
            let current = session.refresh_generation;
            // The token `refresh` would renew: the current generation, or the one before
            // within the grace window (answered with the same successor).
            let usable = generation == current
                || (generation == current - 1 && self.within_grace(&session, now));
            return Ok(self.live_if(usable, session, now));
        }
        if !looks_stored(presented) {
            return Ok(RefreshTokenStatus::NotOne);
        }
        let Some(row) = self
            .store
            .find_refresh_token(&hash_refresh_token(presented))
            .await?
        else {
            return Ok(RefreshTokenStatus::Inactive);
        };
        let Some(session) = self.store.find_session(&row.session_id).await? else {
            return Ok(RefreshTokenStatus::Inactive);
        };
        let usable = match row.rotated_at {
            None => true,
            Some(_) => session.refresh_generation == 0 && self.within_grace(&session, now),
        };
        Ok(self.live_if(usable, session, now))
    }

    /// Ends the session of a refresh token, whichever generation it is (any genuine one was
    /// handed to the session's holder; an old one coming back is theft anyway). `NotOne` when
    /// `presented` is not shaped like a refresh token; nothing happens for an unknown one.
    pub async fn revoke_refresh_token(
        &self,
        presented: &str,
    ) -> Result<RefreshTokenStatus, SessionError> {
        let session_id = match self.refresh.open(presented) {
            Some((session_id, _)) => session_id,
            None if looks_stored(presented) => {
                let hash = hash_refresh_token(presented);
                match self.store.find_refresh_token(&hash).await? {
                    Some(row) => row.session_id,
                    None => return Ok(RefreshTokenStatus::Inactive),
                }
            }
            None => return Ok(RefreshTokenStatus::NotOne),
        };
        // Only sessions still active are touched: an unknown id ends nothing.
        self.end(&[session_id]).await?;
        Ok(RefreshTokenStatus::Inactive)
    }

    /// Revokes one access token (by its `jti`), not its session: the database first, then
    /// every replica, exactly as logging out a token from before sessions does.
    pub async fn revoke_access_token(
        &self,
        user_id: i64,
        claims: &Claims,
    ) -> Result<(), SessionError> {
        let now = self.clock.now();
        self.store
            .revoke_token(&claims.jti, user_id, claims.exp, now)
            .await?;
        let event = RevocationEvent::Token {
            jti: claims.jti.clone(),
            expires_at: claims.exp,
        };
        publish(&self.revocations, &self.store, event, now).await;
        Ok(())
    }

    fn within_grace(&self, session: &Session, now: i64) -> bool {
        session
            .refresh_rotated_at
            .is_some_and(|at| now - at <= self.policy.reuse_grace)
    }

    /// Live when `usable`, the session active, and neither it nor its user revoked in memory
    /// (what `/validate` refuses; `refresh` itself would end a disabled user's session).
    fn live_if(&self, usable: bool, session: Session, now: i64) -> RefreshTokenStatus {
        let live = usable
            && session.is_active(now)
            && !self.revocations.is_session_revoked(&session.id)
            && !self.revocations.is_user_blocked(session.user_id);
        if !live {
            return RefreshTokenStatus::Inactive;
        }
        RefreshTokenStatus::Live(LiveRefreshToken {
            issued_at: session.refresh_rotated_at.unwrap_or(session.created_at),
            expires_at: session.expires_at,
            session_id: session.id,
            user_id: session.user_id,
        })
    }
}

/// Whether `token` is shaped like a refresh token from before the generation scheme: 256
/// random bits, base64url (43 characters).
fn looks_stored(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::random_token;

    #[test]
    fn only_256_bit_base64url_tokens_look_stored() {
        assert!(looks_stored(&random_token(32)));
        assert!(!looks_stored(&random_token(31)));
        assert!(!looks_stored(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefgh"
        ));
        assert!(!looks_stored(&format!("{}é", &random_token(32)[..41])));
    }
}
