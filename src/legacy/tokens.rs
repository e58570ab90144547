//! The old service's tokens (`ACCEPT_LEGACY_TOKENS=true`): valid until they expire, but only
//! those issued before the switch to Gatehouse and within a day's age (`token_claims`), only
//! for users who came from the old service (imported or lazily migrated), matched by the exact
//! email of their old row, and never with more `admin` than the user's record. After a sunset
//! date the setting stops working. `LegacyTokens` is the `auth::access::ForeignTokens` the
//! authenticator asks.
//!
//! A legacy token names its user by the old row's email, not an id, so the first check of a
//! token needs the user's id and admin flag from the database: that is the one query a legacy
//! token may cost. The answer is cached per name for `CACHE_TTL`; being disabled or deleted is always read
//! from the in-memory revocation list, as for Gatehouse's own tokens. Gatehouse's own tokens
//! never come here (only tokens `AccessTokens::verify` refused as not ours), so their path stays
//! query-free.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::token_claims::{claims_for, verify, LegacyTokenPolicy};
use crate::auth::access::{AccessError, Authenticated, BoxFuture, ForeignTokens};
use crate::auth::keys::KeySet;
use crate::auth::revocation::RevocationList;
use crate::auth::token::TokenError;
use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::store::{Store, StoreError, User};
use crate::time_format::rfc3339;

/// How long a looked-up user's id and admin flag are reused (an admin flag removed in the
/// database reaches legacy tokens within this time).
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Entries kept at most; beyond that the cache starts over.
const CACHE_CAPACITY: usize = 10_000;

/// The settings behind `ACCEPT_LEGACY_TOKENS=true`, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyTokenSettings {
    /// `LEGACY_TOKENS_ISSUED_BEFORE`; `None`: the first start with the setting on.
    pub issued_before: Option<i64>,
    /// `LEGACY_TOKEN_MAX_AGE_SECS` (a day: what the seeds issued).
    pub max_age_secs: i64,
    /// `LEGACY_TOKENS_UNTIL`; `None`: once the last token issued before the switch expired.
    pub until: Option<i64>,
}

impl LegacyTokenSettings {
    /// The policy in force: the switch-over time is the configured one, or else the first
    /// start's (kept in the database, so every replica and restart agrees on it). The sunset
    /// is never later than the moment the last token issued before the switch expires.
    pub async fn resolve(&self, store: &Store, now: i64) -> Result<LegacyTokenPolicy, StoreError> {
        let issued_before = match self.issued_before {
            Some(at) => at,
            None => store
                .setting_or_insert(SWITCH_OVER_SETTING, &now.to_string())
                .await?
                .parse()
                .unwrap_or(now),
        };
        let last_expiry = issued_before
            .saturating_add(self.max_age_secs)
            .saturating_add(CLOCK_SKEW_LEEWAY_SECS);
        Ok(LegacyTokenPolicy {
            issued_before,
            max_age: self.max_age_secs,
            until: self
                .until
                .map_or(last_expiry, |until| until.min(last_expiry)),
        })
    }
}

/// Where the first start with `ACCEPT_LEGACY_TOKENS=true` records its time.
const SWITCH_OVER_SETTING: &str = "legacy_tokens_issued_before";

impl LegacyTokenPolicy {
    /// For the start-up log.
    pub fn describe(&self) -> String {
        format!(
            "tokens of the old service issued before {} are accepted until {}",
            rfc3339(self.issued_before),
            rfc3339(self.until)
        )
    }
}

pub struct LegacyTokens {
    keys: Arc<KeySet>,
    store: Store,
    revocations: Arc<RevocationList>,
    policy: LegacyTokenPolicy,
    cache: Mutex<HashMap<String, (User, Instant)>>,
}

impl LegacyTokens {
    pub fn new(
        keys: Arc<KeySet>,
        store: Store,
        revocations: Arc<RevocationList>,
        policy: LegacyTokenPolicy,
    ) -> Self {
        Self {
            keys,
            store,
            revocations,
            policy,
            cache: Mutex::default(),
        }
    }

    fn cached(&self, name: &str) -> Option<User> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(name)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(user, _)| user.clone())
    }

    fn remember(&self, name: &str, user: &User) {
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
        cache.insert(name.to_owned(), (entry, Instant::now()));
    }

    /// Authenticates a token the old service signed, or says why not.
    async fn check(&self, token: &str, now: i64) -> Result<Authenticated, AccessError> {
        let legacy = verify(&self.keys, token, now, &self.policy)?;
        if self.revocations.is_token_revoked(&legacy.jti) {
            return Err(TokenError::Revoked.into());
        }
        // The row the token names, exactly: `VICTIM@x.com`'s token is not `victim@x.com`'s.
        let name = &legacy.email;
        let user = match self.cached(name) {
            Some(user) => user,
            None => {
                let mut found = self.store.find_users_by_legacy_name(name).await?;
                // None: not from the old service, or not (yet) in Gatehouse (logging in again
                // migrates them). Several: which one the token meant cannot be told.
                let user = match (found.pop(), found.is_empty()) {
                    (Some(user), true) => user,
                    _ => return Err(TokenError::Invalid.into()),
                };
                if user.disabled {
                    return Err(TokenError::UserBlocked.into());
                }
                self.remember(name, &user);
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
