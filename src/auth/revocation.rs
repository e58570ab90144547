//! What `/validate` must refuse, held in memory so that checking costs no database query.
//!
//! The database is the source of truth. This list is loaded at start, updated at once by this
//! process's own writes, re-read from the database when another replica says (PostgreSQL
//! `LISTEN/NOTIFY`: a hint, never trusted for its content), on reconnect, and on a periodic
//! poll (see `revocation_sync`), so a lost notification costs at most one poll interval.
//!
//! Every entry is kept until the tokens it refuses have expired by their own `exp` (for a
//! session: the latest token it issued), not by the current `ACCESS_TOKEN_TTL`, which may have
//! been longer when they were issued.
//!
//! Token and session ids are held compactly (`revoked_ids`: Gatehouse's own as 16 bytes); a
//! sync gathers the rows it reads into a set of its own, row by row, and takes the lock only
//! to merge it, so `/validate` never waits for the database.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::revoked_ids::RevokedIds;
use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::store::{Store, StoreError};

/// Revocations newer than the last sync by this margin are read again, so a transaction that
/// committed late, or a writer whose clock lags, is not missed.
const SYNC_OVERLAP_SECS: i64 = 60;

/// A change this process made, applied to its own list at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationEvent {
    /// A token id was revoked; the token expires at the given time.
    Token { jti: String, expires_at: i64 },
    /// A session was ended; its last access token expires at `until`.
    Session { id: String, until: i64 },
    /// Users were disabled, enabled or deleted, or ended everything they hold: re-read.
    Users,
}

impl RevocationEvent {
    /// The notification's payload. Other replicas only log it: what changed, they read from
    /// the database.
    pub fn encode(&self) -> String {
        match self {
            RevocationEvent::Token { jti, expires_at } => format!("jti {jti} {expires_at}"),
            RevocationEvent::Session { id, until } => format!("sid {id} {until}"),
            RevocationEvent::Users => "users".to_owned(),
        }
    }
}

#[derive(Debug, Default)]
pub struct RevocationList {
    /// Revoked token ids, each until its token's `exp`: the entry goes once the token is dead anyway.
    tokens: RwLock<RevokedIds>,
    /// Ended session ids, each until its last access token has expired.
    sessions: RwLock<RevokedIds>,
    /// Disabled or deleted users: every token they hold is refused.
    blocked_users: RwLock<HashSet<i64>>,
    /// User id -> the old service's tokens issued at or before this time are refused (their
    /// `POST /auth/logout?scope=all`). Gatehouse's own tokens end with their sessions instead.
    legacy_cutoffs: RwLock<HashMap<i64, i64>>,
    /// When the last successful sync started (0: never).
    last_sync: AtomicI64,
}

impl RevocationList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_token_revoked(&self, jti: &str) -> bool {
        read(&self.tokens).contains(jti)
    }

    pub fn is_session_revoked(&self, sid: &str) -> bool {
        read(&self.sessions).contains(sid)
    }

    pub fn is_user_blocked(&self, user_id: i64) -> bool {
        read(&self.blocked_users).contains(&user_id)
    }

    /// Whether the user ended every session after the old service issued this token (`iat`).
    pub fn is_legacy_token_revoked(&self, user_id: i64, iat: i64) -> bool {
        read(&self.legacy_cutoffs)
            .get(&user_id)
            .is_some_and(|cutoff| iat <= *cutoff)
    }

    /// Applies a change; returns true when the per-user state must be reloaded from the store.
    pub fn apply(&self, event: RevocationEvent) -> bool {
        match event {
            RevocationEvent::Token { jti, expires_at } => {
                write(&self.tokens).insert(&jti, expires_at);
                false
            }
            RevocationEvent::Session { id, until } => {
                write(&self.sessions).insert(&id, until);
                false
            }
            RevocationEvent::Users => true,
        }
    }

    /// How many entries each kind holds (`gatehouse_revocation_entries{kind}`).
    pub fn entry_counts(&self) -> [(&'static str, usize); 4] {
        [
            ("tokens", read(&self.tokens).len()),
            ("sessions", read(&self.sessions).len()),
            ("blocked_users", read(&self.blocked_users).len()),
            ("legacy_cutoffs", read(&self.legacy_cutoffs).len()),
        ]
    }

    /// When the last successful sync started, in Unix seconds (0: never).
    pub fn last_sync(&self) -> i64 {
        self.last_sync.load(Ordering::SeqCst)
    }

    pub fn revoked_token_count(&self) -> usize {
        read(&self.tokens).len()
    }

    /// Reads what the database recorded since the last sync (all of it the first time), and
    /// the full per-user state (blocked users, legacy-token cutoffs).
    pub async fn sync(&self, store: &Store, now: i64) -> Result<(), StoreError> {
        let since = match self.last_sync.load(Ordering::SeqCst) {
            0 => 0,
            last => last - SYNC_OVERLAP_SECS,
        };
        let live_at = now - CLOCK_SKEW_LEEWAY_SECS;
        let (mut tokens, mut sessions) = (RevokedIds::new(), RevokedIds::new());
        if since == 0 {
            let (token_count, session_count) = store.live_revocation_counts(live_at).await?;
            tokens = RevokedIds::with_capacity(usize::try_from(token_count).unwrap_or(0));
            sessions = RevokedIds::with_capacity(usize::try_from(session_count).unwrap_or(0));
        }
        store
            .each_revoked_token_since(since, live_at, |jti, exp| tokens.insert(jti, exp))
            .await?;
        store
            .each_session_revoked_since(since, live_at, |id, until| sessions.insert(id, until))
            .await?;
        self.reload_users(store).await?;
        write(&self.tokens).absorb(tokens);
        write(&self.sessions).absorb(sessions);
        self.last_sync.store(now, Ordering::SeqCst);
        Ok(())
    }

    /// Reloads what is kept per user: who is blocked, and whose legacy tokens are cut off.
    pub async fn reload_users(&self, store: &Store) -> Result<(), StoreError> {
        let blocked: HashSet<i64> = store.blocked_user_ids().await?.into_iter().collect();
        let cutoffs: HashMap<i64, i64> = store.legacy_token_cutoffs().await?.into_iter().collect();
        *write(&self.blocked_users) = blocked;
        *write(&self.legacy_cutoffs) = cutoffs;
        Ok(())
    }

    /// Forgets entries whose tokens would fail the expiry check anyway.
    pub fn purge_expired(&self, now: i64) {
        let live = |expiry: i64| expiry.saturating_add(CLOCK_SKEW_LEEWAY_SECS) >= now;
        write(&self.tokens).retain_live(live);
        write(&self.sessions).retain_live(live);
    }
}

// A panic while holding these locks cannot leave the maps half-updated (each write is a single
// call), so a poisoned lock is still safe to use.
fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_tokens_are_remembered_until_expired() {
        let list = RevocationList::new();
        list.apply(RevocationEvent::Token {
            jti: "a".into(),
            expires_at: 100,
        });
        assert!(list.is_token_revoked("a"));
        assert!(!list.is_token_revoked("b"));
        list.purge_expired(100 + CLOCK_SKEW_LEEWAY_SECS);
        assert!(list.is_token_revoked("a"), "still inside the leeway");
        list.purge_expired(101 + CLOCK_SKEW_LEEWAY_SECS);
        assert!(!list.is_token_revoked("a"));
    }

    #[test]
    fn a_legacy_cutoff_refuses_tokens_issued_at_or_before_it_and_those_without_iat() {
        let list = RevocationList::new();
        write(&list.legacy_cutoffs).insert(7, 1_000);
        assert!(list.is_legacy_token_revoked(7, 999));
        assert!(list.is_legacy_token_revoked(7, 1_000));
        assert!(!list.is_legacy_token_revoked(7, 1_001));
        assert!(!list.is_legacy_token_revoked(8, 999), "another user");
    }

    #[test]
    fn ended_sessions_are_remembered_while_their_tokens_live() {
        let list = RevocationList::new();
        list.apply(RevocationEvent::Session {
            id: "s".into(),
            until: 1_600,
        });
        list.purge_expired(1_600 + CLOCK_SKEW_LEEWAY_SECS);
        assert!(list.is_session_revoked("s"));
        list.purge_expired(1_601 + CLOCK_SKEW_LEEWAY_SECS);
        assert!(!list.is_session_revoked("s"));
    }
}
