//! The old service's tokens (`ACCEPT_LEGACY_TOKENS=true`): valid until they expire, for users
//! Gatehouse knows (imported or lazily migrated), never with more `admin` than the user's record.
//!
//! A legacy token names its user by email, not id, so the first check of a token needs the
//! user's id and admin flag from the database: that is the one query a legacy token may cost.
//! The answer is cached per email for `CACHE_TTL`; being disabled or deleted is always read
//! from the in-memory revocation list, as for Gatehouse's own tokens. Gatehouse's own tokens
//! never come here (only tokens `TokenKeys::verify` refused as not ours), so their path stays
//! query-free.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::app::AppState;
use crate::auth::token::{Claims, TokenError};
use crate::error::AppError;
use crate::http::extract::AuthUser;
use crate::store::User;

/// How long a looked-up user's id and admin flag are reused (an admin flag removed in the
/// database reaches legacy tokens within this time).
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Entries kept at most; beyond that the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct LegacyTokenUsers {
    cache: Mutex<HashMap<String, (User, Instant)>>,
}

impl LegacyTokenUsers {
    fn cached(&self, email: &str) -> Option<User> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(email)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(user, _)| user.clone())
    }

    fn remember(&self, user: &User) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_CAPACITY {
            cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
        }
        let mut entry = user.clone();
        // Only the id, email and admin flag are used: keep no hash in memory.
        entry.password_hash = String::new();
        cache.insert(user.email.clone(), (entry, Instant::now()));
    }
}

/// Authenticates a token the old service signed, or says why not. `users` is the state's
/// `legacy_tokens` (present only with `ACCEPT_LEGACY_TOKENS=true`).
pub async fn authenticate(
    state: &AppState,
    users: &LegacyTokenUsers,
    token: &str,
    now: i64,
) -> Result<AuthUser, AppError> {
    let legacy = state
        .tokens
        .verify_legacy(token, now)
        .map_err(AppError::InvalidToken)?;
    if state.revocations.is_token_revoked(&legacy.jti) {
        return Err(AppError::InvalidToken(TokenError::Revoked));
    }
    let email = legacy.email.trim().to_lowercase();
    let user = match users.cached(&email) {
        Some(user) => user,
        None => {
            let user = state
                .store
                .find_user_by_email(&email)
                .await?
                // Not (yet) in Gatehouse: logging in again migrates them.
                .ok_or(AppError::InvalidToken(TokenError::Invalid))?;
            if user.disabled {
                return Err(AppError::InvalidToken(TokenError::UserBlocked));
            }
            users.remember(&user);
            user
        }
    };
    if state.revocations.is_user_blocked(user.id) {
        return Err(AppError::InvalidToken(TokenError::UserBlocked));
    }
    if state
        .revocations
        .is_legacy_token_revoked(user.id, legacy.iat)
    {
        return Err(AppError::InvalidToken(TokenError::Revoked));
    }
    let claims = Claims::for_legacy(&user, &legacy);
    // `/validate` answers with these claims, not the token's own payload: its `admin` may be
    // lowered, and `sub`/`email` are filled in from the user.
    let raw_claims = serde_json::to_vec(&claims).map_err(|e| AppError::Internal(e.into()))?;
    Ok(AuthUser {
        user_id: user.id,
        claims,
        raw_claims,
    })
}
