//! Account lockout: failed sign-ins counted per login name in the database, so every replica
//! sees one count, and an attempt takes its place in that count before its password is
//! verified, so concurrent guesses cannot run more verifications than the limit.
//!
//! Names are counted whether or not an account has them, and a locked name is refused before
//! anything is looked up: a locked unknown name and a locked account answer alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;
use crate::store::{Admission as Reservation, Store, StoreError};
use crate::validation::email_key;

/// The lockout's settings (`LOGIN_MAX_FAILURES`, `LOGIN_FAILURE_WINDOW_SECS`,
/// `LOGIN_LOCKOUT_SECS`, `LOGIN_LOCKOUT_MAX_SECS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures within the window that lock the name; 0 turns the lockout off.
    pub max_failures: u32,
    pub window_secs: i64,
    /// The first lockout's length; each further one in a row doubles it…
    pub lockout_secs: i64,
    /// …up to this.
    pub max_lockout_secs: i64,
}

impl LockoutPolicy {
    pub const DEFAULT: Self = Self {
        max_failures: 5,
        window_secs: 900,
        lockout_secs: 900,
        max_lockout_secs: 3600,
    };

    /// How long the lockout after `previous` lockouts in a row lasts.
    pub fn lockout_after(&self, previous: i32) -> i64 {
        let doublings = previous.clamp(0, 32) as u32;
        self.lockout_secs
            .saturating_mul(1_i64 << doublings.min(62))
            .min(self.max_lockout_secs.max(self.lockout_secs))
    }

    /// How long the window lasts, plus the longest lockout: after that, an unlocked row holds
    /// nothing worth keeping.
    pub fn retention_secs(&self) -> i64 {
        self.window_secs
            .saturating_add(self.max_lockout_secs.max(self.lockout_secs))
    }
}

/// A login name that may not try now; `retry_after_secs` is when it may again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    pub retry_after_secs: u64,
}

/// An attempt's place in its name's count. Hand it back through `succeeded`, `failed` or
/// `abandoned`; one dropped unreported stays counted as a failure.
#[must_use]
#[derive(Debug)]
pub struct Attempt {
    /// `None` when the lockout is off.
    key: Option<String>,
    /// This process's share of the name's attempts in flight, held until the attempt ends.
    _in_flight: Option<OwnedSemaphorePermit>,
}

pub struct Lockout {
    store: Store,
    policy: LockoutPolicy,
    clock: Arc<dyn Clock>,
    /// Per name, `max_failures` places for attempts in flight in this process. Concurrent
    /// logins of one name (a script, a benchmark, a shared account) queue here instead of
    /// filling the shared count with attempts that are not failures yet.
    in_flight: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// How long an attempt waits for one of those places (`HASH_QUEUE_WAIT_MS`, like a login
    /// waiting for the hashing queue) before it is answered "busy".
    patience: Duration,
}

/// What an attempt is told before its password is verified.
#[derive(Debug)]
pub enum Admission {
    /// Go on, and report how it ended.
    Go(Attempt),
    /// The name is locked (or its count full on other replicas).
    Locked(Locked),
    /// Too many attempts of this name in flight here, for longer than the patience: the same
    /// answer as a full hashing queue (503, retry shortly), never a lockout.
    Busy,
}

impl Lockout {
    pub fn new(store: Store, policy: LockoutPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            policy,
            clock,
            in_flight: Mutex::new(HashMap::new()),
            patience: Duration::ZERO,
        }
    }

    /// Lets an attempt wait up to `patience` for a place among its name's attempts in flight.
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Waits up to the patience for one of this process's places for `key`'s attempts in
    /// flight; `None` when none came free.
    async fn place_in_flight(&self, key: &str) -> Option<OwnedSemaphorePermit> {
        let places = {
            let mut in_flight = self.in_flight.lock().ok()?;
            let places = in_flight
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(self.policy.max_failures as usize)));
            places.clone()
        };
        // A free place is taken even with no patience: the timeout polls the acquire first.
        tokio::time::timeout(self.patience, places.acquire_owned())
            .await
            .ok()?
            .ok()
    }

    pub fn policy(&self) -> LockoutPolicy {
        self.policy
    }

    /// The stored key of a login name (an email or a username, normalised like emails are):
    /// SHA-256, so the table holds no addresses and no attacker-chosen text.
    pub fn key_of(name: &str) -> String {
        let digest = Sha256::digest(email_key(name).as_bytes());
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Takes a place in `name`'s count, or says how long it is locked for.
    pub async fn admit(&self, name: &str) -> Result<Admission, StoreError> {
        if self.policy.max_failures == 0 {
            return Ok(Admission::Go(Attempt {
                key: None,
                _in_flight: None,
            }));
        }
        let key = Self::key_of(name);
        let Some(in_flight) = self.place_in_flight(&key).await else {
            return Ok(Admission::Busy);
        };
        let now = self.clock.now();
        let policy = &self.policy;
        let admission = self
            .store
            .reserve_login_attempt(&key, policy.max_failures, policy.window_secs, now)
            .await?;
        Ok(match admission {
            Reservation::Reserved => Admission::Go(Attempt {
                key: Some(key),
                _in_flight: Some(in_flight),
            }),
            Reservation::Refused { until } => Admission::Locked(Locked {
                retry_after_secs: until.saturating_sub(now).max(1) as u64,
            }),
        })
    }

    /// The password was right: the name's count starts again.
    pub async fn succeeded(&self, attempt: Attempt) -> Result<(), StoreError> {
        match attempt.key {
            Some(key) => {
                self.store
                    .reset_login_failures(&key, self.clock.now())
                    .await
            }
            None => Ok(()),
        }
    }

    /// The password was wrong: the attempt stays counted, and the name locks when the count
    /// is full.
    pub async fn failed(&self, attempt: Attempt) -> Result<(), StoreError> {
        let Some(key) = attempt.key else {
            return Ok(());
        };
        let Some(row) = self.store.login_failures(&key).await? else {
            return Ok(());
        };
        if row.failures < self.policy.max_failures as i32 || row.locked_until != 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let until = now.saturating_add(self.policy.lockout_after(row.lockouts));
        if self
            .store
            .lock_login_name(&key, self.policy.max_failures, until, now)
            .await?
        {
            // The key, not the name: the log holds no email address.
            tracing::warn!(
                name_key = &key[..12],
                seconds = until - now,
                "login name locked after repeated failures"
            );
        }
        Ok(())
    }

    /// The attempt ended in neither (the database or the hashing queue failed): its place is
    /// given back, best effort.
    pub async fn abandoned(&self, attempt: Attempt) {
        if let Some(key) = attempt.key {
            if let Err(error) = self.store.release_login_attempt(&key).await {
                tracing::warn!(%error, "could not give back a login attempt's place");
            }
        }
    }

    /// Forgets `name`'s failures and lockout; whether there were any.
    pub async fn unlock(&self, name: &str) -> Result<bool, StoreError> {
        self.store.clear_login_failures(&Self::key_of(name)).await
    }

    /// Until when each of `names` is locked, for those that are.
    pub async fn locked(&self, names: &[&str]) -> Result<Vec<(usize, i64)>, StoreError> {
        let locked = self.store.locked_login_names(self.clock.now()).await?;
        if locked.is_empty() {
            return Ok(Vec::new());
        }
        let locked: HashMap<String, i64> = locked.into_iter().collect();
        Ok(names
            .iter()
            .enumerate()
            .filter_map(|(index, name)| locked.get(&Self::key_of(name)).map(|&u| (index, u)))
            .collect())
    }

    /// Drops counters nobody touched for longer than the window and the longest lockout, and
    /// the in-flight places of names with no attempt in flight.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.retain(|_, places| Arc::strong_count(places) > 1);
        }
        let now = self.clock.now();
        self.store
            .purge_login_failures(now.saturating_sub(self.policy.retention_secs()), now)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_up_to_the_cap() {
        let policy = LockoutPolicy::DEFAULT;
        let lengths: Vec<i64> = (0..5).map(|n| policy.lockout_after(n)).collect();
        assert_eq!(lengths, [900, 1800, 3600, 3600, 3600]);
        assert_eq!(policy.lockout_after(i32::MAX), 3600);
    }

    #[test]
    fn names_are_keyed_after_normalising() {
        assert_eq!(
            Lockout::key_of(" Ada@Example.com "),
            Lockout::key_of("ada@example.com")
        );
        assert_ne!(Lockout::key_of("ada"), Lockout::key_of("ada@example.com"));
        assert_eq!(Lockout::key_of("ada").len(), 64);
    }
}
