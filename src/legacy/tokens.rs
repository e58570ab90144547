//! The old service's tokens (`ACCEPT_LEGACY_TOKENS=true`): valid until they expire, for users
//! Gatehouse knows (imported or lazily migrated), never with more `admin` than the user's record.
//! `LegacyTokens` is the `auth::access::ForeignTokens` the authenticator asks.
//!
//! A legacy token names its user by email, not id, so the first check of a token needs the
//! user's id and admin flag from the database: that is the one query a legacy token may cost.
//! The answer is cached per email for `CACHE_TTL`; being disabled or deleted is always read
//! from the in-memory revocation list, as for Gatehouse's own tokens. Gatehouse's own tokens
//! never come here (only tokens `AccessTokens::verify` refused as not ours), so their path stays
//! query-free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::token_claims::{claims_for, verify};
use crate::auth::access::{AccessError, Authenticated, BoxFuture, ForeignTokens};
use crate::auth::keys::KeySet;
use crate::auth::revocation::RevocationList;
use crate::auth::token::TokenError;
use crate::store::{Store, User};
use crate::validation::email_key;

/// How long a looked-up user's id and admin flag are reused (an admin flag removed in the
/// database reaches legacy tokens within this time).
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Entries kept at most; beyond that the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

pub struct LegacyTokens {
    keys: Arc<KeySet>,
    store: Store,
    revocations: Arc<RevocationList>,
    cache: Mutex<HashMap<String, (User, Instant)>>,
}

impl LegacyTokens {
    pub fn new(keys: Arc<KeySet>, store: Store, revocations: Arc<RevocationList>) -> Self {
        Self {
            keys,
            store,
            revocations,
            cache: Mutex::default(),
        }
    }

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

    /// Authenticates a token the old service signed, or says why not.
    async fn check(&self, token: &str, now: i64) -> Result<Authenticated, AccessError> {
        let legacy = verify(&self.keys, token, now)?;
        if self.revocations.is_token_revoked(&legacy.jti) {
            return Err(TokenError::Revoked.into());
        }
        let email = email_key(&legacy.email);
        let user = match self.cached(&email) {
            Some(user) => user,
            None => {
                let user = self
                    .store
                    .find_user_by_email(&email)
                    .await?
                    // Not (yet) in Gatehouse: logging in again migrates them.
                    .ok_or(TokenError::Invalid)?;
                if user.disabled {
                    return Err(TokenError::UserBlocked.into());
                }
                self.remember(&user);
                user
            }
        };
        if self.revocations.is_user_blocked(user.id) {
            return Err(TokenError::UserBlocked.into());
        }
        if self
            .revocations
            .is_legacy_token_revoked(user.id, legacy.iat)
        {
            return Err(TokenError::Revoked.into());
        }
        let claims = claims_for(&user, &legacy);
        // `/validate` answers with these claims, not the token's own payload: its `admin` may
        // be lowered, and `sub`/`email` are filled in from the user.
        let raw_claims = serde_json::to_vec(&claims).map_err(anyhow::Error::from)?;
        Ok(Authenticated {
            user_id: user.id,
            claims,
            raw_claims,
        })
    }
}

impl ForeignTokens for LegacyTokens {
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Authenticated, AccessError>> {
        Box::pin(self.check(token, now))
    }
}
