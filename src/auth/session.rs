//! Sessions: one per login, renewed with rotating refresh tokens.
//!
//! A refresh token is 256 random bits, shown once and stored only as its SHA-256. Its successor
//! is not random but `HMAC(key, token)`: presenting an already-rotated token again within the
//! grace window can then be answered with the very same successor (two tabs refreshing at once)
//! without the service ever storing a usable token. After the window it is theft, and the whole
//! session ends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::{digest, hmac};

use super::revocation::RevocationEvent;
use super::revocation_sync::publish;
use super::secret::random_token;
use crate::app::AppState;
use crate::config::{Config, Secret};
use crate::error::AppError;
use crate::store::{Session, User};

/// User agents longer than this are cut when stored.
const MAX_USER_AGENT_CHARS: usize = 256;

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub refresh_ttl: i64,
    pub refresh_max_ttl: i64,
    pub reuse_grace: i64,
}

impl SessionPolicy {
    pub fn from_config(config: &Config) -> Self {
        Self {
            refresh_ttl: config.refresh_token_ttl.as_secs() as i64,
            refresh_max_ttl: config.refresh_token_max_ttl.as_secs() as i64,
            reuse_grace: config.refresh_reuse_grace.as_secs() as i64,
        }
    }
}

pub struct RefreshTokens {
    successor_key: hmac::Key,
}

impl RefreshTokens {
    /// The successor key is derived from the signing secret, so replicas agree on it.
    pub fn new(secret: &Secret) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        let derived = hmac::sign(&root, b"gatehouse refresh-token successor v1");
        Self {
            successor_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    pub fn successor(&self, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.successor_key, token.as_bytes()))
    }
}

/// What is stored for a refresh token: its SHA-256, hex. (It is 256 random bits, so a fast hash
/// loses nothing; the lookup is by this value.)
pub fn hash_refresh_token(token: &str) -> String {
    digest::digest(&digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
    pub access_token: String,
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

/// Starts a session for `user` and signs its first access token. `with_refresh`: whether the
/// client can receive a refresh token (a Basic login's text body cannot); without one the
/// session lasts as long as its access token.
pub async fn start_session(
    state: &AppState,
    user: &User,
    client: &ClientInfo,
    with_refresh: bool,
) -> Result<IssuedSession, AppError> {
    let now = state.clock.now();
    let policy = state.sessions;
    let access_ttl = state.tokens.ttl_secs();
    let refresh_token = with_refresh.then(|| random_token(32));
    let lifetime = if with_refresh {
        policy.refresh_ttl.min(policy.refresh_max_ttl)
    } else {
        access_ttl
    };
    let session = Session {
        id: random_token(16),
        user_id: user.id,
        created_at: now,
        last_used_at: now,
        expires_at: now + lifetime,
        absolute_expires_at: now
            + if with_refresh {
                policy.refresh_max_ttl
            } else {
                access_ttl
            },
        user_agent: client.user_agent.clone(),
        client_ip: client.ip.clone(),
        revoked_at: None,
    };
    let refresh_hash = refresh_token.as_deref().map(hash_refresh_token);
    state
        .store
        .insert_session(&session, refresh_hash.as_deref())
        .await?;
    let (access_token, claims) = state
        .tokens
        .issue(user, &session.id, now, session.expires_at)?;
    Ok(IssuedSession {
        session_id: session.id,
        access_token,
        refresh_token,
        expires_in: claims.exp - now,
    })
}

pub enum RefreshOutcome {
    Renewed(IssuedSession),
    /// Unknown, expired or ended: nothing to renew.
    Invalid,
    /// An old refresh token came back after the grace window: the session was ended.
    ReuseDetected,
}

/// Exchanges a refresh token for a new access token and a new refresh token.
pub async fn refresh_session(
    state: &AppState,
    presented: &str,
) -> Result<RefreshOutcome, AppError> {
    let store = &state.store;
    let presented_hash = hash_refresh_token(presented);
    // Two passes at most: the second follows a concurrent refresh that won the rotation race.
    for _ in 0..2 {
        let Some(row) = store.find_refresh_token(&presented_hash).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        let now = state.clock.now();
        let Some(session) = store
            .find_session(&row.session_id)
            .await?
            .filter(|s| s.is_active(now))
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let Some(user) = store
            .find_user_by_id(session.user_id)
            .await?
            .filter(|u| !u.disabled)
        else {
            end_sessions(state, &[session.id]).await?;
            return Ok(RefreshOutcome::Invalid);
        };
        let successor = state.refresh.successor(presented);
        let successor_hash = hash_refresh_token(&successor);
        match row.rotated_at {
            None => {
                let expiry = (now + state.sessions.refresh_ttl).min(session.absolute_expires_at);
                if store
                    .rotate_refresh_token(
                        &session.id,
                        &presented_hash,
                        &successor_hash,
                        now,
                        expiry,
                    )
                    .await?
                {
                    return renewed(state, &user, &session.id, successor, now, expiry);
                }
            }
            Some(rotated_at) if now - rotated_at <= state.sessions.reuse_grace => {
                let successor_is_current = store
                    .find_refresh_token(&successor_hash)
                    .await?
                    .is_some_and(|next| next.rotated_at.is_none());
                if successor_is_current {
                    return renewed(
                        state,
                        &user,
                        &session.id,
                        successor,
                        now,
                        session.expires_at,
                    );
                }
                return reuse_detected(state, session.id).await;
            }
            Some(_) => return reuse_detected(state, session.id).await,
        }
    }
    Ok(RefreshOutcome::Invalid)
}

fn renewed(
    state: &AppState,
    user: &User,
    sid: &str,
    refresh: String,
    now: i64,
    session_expires_at: i64,
) -> Result<RefreshOutcome, AppError> {
    let (access_token, claims) = state.tokens.issue(user, sid, now, session_expires_at)?;
    Ok(RefreshOutcome::Renewed(IssuedSession {
        session_id: sid.to_owned(),
        access_token,
        refresh_token: Some(refresh),
        expires_in: claims.exp - now,
    }))
}

async fn reuse_detected(state: &AppState, session_id: String) -> Result<RefreshOutcome, AppError> {
    tracing::warn!(session = %session_id, "refresh token reuse detected; ending the session");
    end_sessions(state, &[session_id]).await?;
    Ok(RefreshOutcome::ReuseDetected)
}

/// Ends sessions durably, then tells every replica; their access tokens are refused from then on.
pub async fn end_sessions(state: &AppState, ids: &[String]) -> Result<usize, AppError> {
    let now = state.clock.now();
    let ended = state.store.revoke_sessions(ids, now).await?;
    for id in &ended {
        publish(
            &state.revocations,
            &state.store,
            RevocationEvent::Session {
                id: id.clone(),
                revoked_at: now,
            },
        )
        .await;
    }
    Ok(ended.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successors_are_deterministic_per_secret_and_unguessable_without_it() {
        let keys = RefreshTokens::new(&Secret::new("k".repeat(32)));
        let other = RefreshTokens::new(&Secret::new("j".repeat(32)));
        let token = random_token(32);
        assert_eq!(keys.successor(&token), keys.successor(&token));
        assert_ne!(keys.successor(&token), other.successor(&token));
        assert_ne!(keys.successor(&token), token);
        assert_eq!(keys.successor(&token).len(), 43, "256 bits, base64url");
    }

    #[test]
    fn refresh_hash_is_sha256_hex() {
        assert_eq!(
            hash_refresh_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
