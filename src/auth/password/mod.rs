//! argon2id password hashing on a fixed pool of dedicated threads, off the async runtime.
//!
//! - `workers` threads hash, by default one per core but one
//!   ([`PasswordHasher::default_workers`]). Each owns one argon2 work area (19 MiB with the
//!   OWASP parameters), allocated at its first job and reused for every hash after. Memory is
//!   therefore workers × 19 MiB however hard the service is pushed: no per-hash allocation, and
//!   no extra malloc arenas from a growing blocking-thread pool.
//! - The threads run at the lowest CPU priority (nice 19). They still get every idle cycle, so an
//!   unloaded service hashes at full speed, but request handling (`/validate` above all) always
//!   preempts them: a login storm cannot take latency from everything else. (Not `SCHED_IDLE`:
//!   under a flood of refused logins, that starved the hashing to under two logins a second.)
//! - Up to `queue_capacity` more jobs wait. Anything beyond that is refused at once with
//!   `HashError::Busy`, so a login storm costs bounded memory and never starves other requests.
//!   With a patience set, a job first waits that long for a place, so clients that retry at
//!   once cannot turn refusals into a flood. Logins wait for room before they look the user
//!   up, so the refused ones cost no database query.
//! - Verifying accepts every stored form that [`crate::auth::legacy_hash::import`] produces: argon2 PHC
//!   strings with any parameters (verified here, in the work area), and the legacy formats
//!   (bcrypt, Werkzeug, passlib, Django, seed 003's hex PBKDF2), verified by
//!   [`crate::auth::legacy_hash::verify`] on the same worker threads. A match against anything but argon2id
//!   with the current parameters reports `needs_rehash`, and the login upgrades the stored
//!   hash, so raising the parameters later upgrades every user at their next login.
//! - Every password is hashed, and first verified, in its NFKC form
//!   ([`crate::validation::normalise_password`]), on the workers. Hashes made from the typed
//!   form (before Gatehouse normalised, and every legacy hash) still verify: see
//!   [`PasswordHasher::verify`].

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::{Block, Params};
use tokio::sync::{oneshot, Notify};

use crate::auth::legacy_hash::Imported;
use crate::metrics::{Histogram, HASH_BUCKETS};
use crate::secrets::constant_time_eq;
use crate::validation::normalise_password;
use argon::{hash_with, is_current, random_password, verify_stored, wrap_legacy};

mod argon;

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
pub const OWASP_MEMORY_KIB: u32 = 19 * 1024;
pub const OWASP_ITERATIONS: u32 = 2;
pub const OWASP_PARALLELISM: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing queue is full")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// The answer of [`PasswordHasher::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// The password is right (always false for an unknown user).
    pub matches: bool,
    /// The password is right, but the stored hash is not argon2id with the hasher's current
    /// parameters (a legacy format, argon2i, other costs), or was made from the password as
    /// typed rather than its NFKC form: store a fresh hash of it.
    pub needs_rehash: bool,
}

/// Which form of the password a stored hash matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched {
    No,
    /// The NFKC form: what every hash Gatehouse makes now is of.
    Normalised,
    /// Only the form as typed, which differs: a hash made before normalisation, or a legacy one.
    Typed,
}

/// A worker's reusable argon2 memory.
pub(crate) type WorkArea = Vec<Block>;
type Job = Box<dyn FnOnce(&mut WorkArea) + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    /// Jobs sent and not yet taken by a worker: the channel's length, which std does not expose.
    waiting: Arc<AtomicUsize>,
    queue_capacity: usize,
    /// Signalled each time a worker takes a job, which frees a waiting place.
    room: Arc<Notify>,
    /// How long a job may wait for a waiting place when all are taken.
    patience: Duration,
    params: Params,
    /// A real hash of a random password: unknown users are verified against it, so they cost
    /// exactly as much time as a wrong password does.
    dummy_hash: Arc<str>,
    /// Jobs the workers have run (hashes and verifications), across every clone.
    jobs_run: Arc<AtomicU64>,
    /// How long each job took on its worker (`gatehouse_password_hash_duration_seconds`).
    durations: Arc<Histogram>,
}

impl PasswordHasher {
    /// Starts `workers` hashing threads with `queue_capacity` waiting places, and computes the
    /// dummy hash (blocking: call from start-up code or a blocking thread). The threads stop
    /// when the last clone of the hasher is dropped.
    pub fn new(workers: usize, queue_capacity: usize) -> Result<Self, HashError> {
        let params = Params::new(OWASP_MEMORY_KIB, OWASP_ITERATIONS, OWASP_PARALLELISM, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let dummy_hash = hash_with(&mut Vec::new(), &params, random_password())?;
        // At least one place: a zero-capacity channel would refuse every job that finds no
        // worker idle at that instant, which no amount of patience could get past.
        let queue_capacity = queue_capacity.max(1);
        let (jobs, queue) = sync_channel::<Job>(queue_capacity);
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..workers.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("gatehouse-hash-{index}"))
                .spawn(move || work(&queue))
                .map_err(|e| HashError::Internal(e.to_string()))?;
        }
        Ok(Self {
            jobs,
            waiting: Arc::new(AtomicUsize::new(0)),
            queue_capacity,
            room: Arc::new(Notify::new()),
            patience: Duration::ZERO,
            params,
            dummy_hash: dummy_hash.into(),
            jobs_run: Arc::new(AtomicU64::new(0)),
            durations: Arc::new(Histogram::new(HASH_BUCKETS)),
        })
    }

    /// One worker per available core but one, and at least one. The core left over serves
    /// requests: with every core hashing, a request waits for the scheduler to preempt argon2
    /// (nice 19 or not) and finds the caches full of its 19 MiB. On 2 cores that was a paced
    /// `/validate` p99 of 1.5 to 3.3 ms beside two hashing threads, against 0.4 ms beside one
    /// (`bench/RESULTS.md`). `HASH_WORKERS` overrides it.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    }

    /// Lets a job wait up to `patience` for a place when the queue is full, instead of being
    /// refused at once (the default). A client that retries the moment it is refused then costs
    /// one request per `patience`, not one per round trip: a storm of them is a few hundred
    /// requests a second, where it was ~13,000 (2 cores) and let ~16 logins a second through.
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// How many hashes and verifications the workers have run since start: what the lockout's
    /// tests count (a locked name must cost none) and what a metric can export.
    pub fn jobs_run(&self) -> u64 {
        self.jobs_run.load(Ordering::Relaxed)
    }

    /// Jobs waiting for a worker now (`gatehouse_password_hash_queue_depth`).
    pub fn queue_depth(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// How long the jobs run so far took, each on its worker.
    pub fn durations(&self) -> &Histogram {
        &self.durations
    }

    fn is_full(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) >= self.queue_capacity
    }

    /// Counts one more waiting job if there is a place for it; false when the queue is full.
    fn try_take_place(&self) -> bool {
        self.waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |waiting| {
                (waiting < self.queue_capacity).then_some(waiting + 1)
            })
            .is_ok()
    }

    /// Returns once a waiting place is free, or `HashError::Busy` after the patience. A login
    /// calls this before it looks the user up, so a login that will be refused costs no
    /// database query. Free room is a hint, not a reservation: [`Self::verify`] and
    /// [`Self::hash`] wait again, and again if others take the place first.
    pub async fn wait_for_room(&self) -> Result<(), HashError> {
        self.wait_for_room_until(tokio::time::Instant::now() + self.patience)
            .await
    }

    async fn wait_for_room_until(&self, deadline: tokio::time::Instant) -> Result<(), HashError> {
        loop {
            // Registered before the check, so a place freed in between is not missed.
            let freed = self.room.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if !self.is_full() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return Err(HashError::Busy);
            }
        }
    }

    /// Hashes a new password, in its NFKC form, into a PHC string
    /// (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move |memory| hash_with(memory, &params, normalise_password(&password).as_ref()))
            .await?
    }

    /// What an imported legacy hash is stored as: its digest wrapped in argon2id, so that the
    /// database never holds the weak format (see `legacy_hash::wrap`). Argon2 hashes come back
    /// unchanged.
    pub async fn wrap_legacy(&self, stored: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move |memory| wrap_legacy(memory, &params, stored))
            .await?
    }

    /// Checks `password` against `stored` (any form [`crate::auth::legacy_hash::import`] produces), or
    /// against the dummy hash when there is no user, so both paths take the same time. An
    /// unknown user never matches, whatever the password.
    ///
    /// A user whose hash is still in a legacy format takes that format's time instead, which
    /// differs from the dummy's: until their first login upgrades it, such an account can be
    /// told from an unknown email by timing.
    ///
    /// The NFKC form is tried first; when it fails and the typed form differs, the typed form
    /// too, so hashes made before normalisation (and legacy ones) still verify, and are then
    /// upgraded to a hash of the NFKC form. The dummy takes the same two tries, so how long a
    /// failure takes depends on the password alone, never on whether the account exists.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verification, HashError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let params = self.params.clone();
        let (matched, current) = self
            .run(move |memory| {
                let matched = verify_either_form(memory, &hash, &password);
                (matched, is_current(&hash, &params))
            })
            .await?;
        let matches = known && matched != Matched::No;
        Ok(Verification {
            matches,
            needs_rehash: matches && (!current || matched == Matched::Typed),
        })
    }

    /// Checks `password` against what [`crate::auth::legacy_hash::import`] made of a legacy row, before it
    /// is stored (the lazy migration), on a worker: a plain-text password is compared with it
    /// in constant time, both in NFKC form (as `gatehouse import` hashes plain text), a hash is
    /// verified like [`Self::verify`] does.
    pub async fn verify_imported(
        &self,
        password: String,
        imported: Imported,
    ) -> Result<bool, HashError> {
        self.run(move |memory| match imported {
            Imported::PlainPassword(plain) => {
                let (plain, typed) = (normalise_password(&plain), normalise_password(&password));
                constant_time_eq(plain.as_bytes(), typed.as_bytes())
            }
            Imported::Hash(hash) => verify_either_form(memory, &hash, &password) != Matched::No,
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut WorkArea) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let deadline = tokio::time::Instant::now() + self.patience;
        let (reply, answer) = oneshot::channel();
        let (waiting, room) = (self.waiting.clone(), self.room.clone());
        let (jobs_run, durations) = (self.jobs_run.clone(), self.durations.clone());
        let job: Job = Box::new(move |memory| {
            waiting.fetch_sub(1, Ordering::Relaxed);
            room.notify_one();
            jobs_run.fetch_add(1, Ordering::Relaxed);
            let started = std::time::Instant::now();
            let answer = job(memory);
            durations.observe(started.elapsed());
            // The caller may have gone away; the work is done either way.
            let _ = reply.send(answer);
        });
        // Take a place atomically: when two jobs see the last one free at once, the loser
        // waits for the next place (within the same patience) rather than being refused.
        while !self.try_take_place() {
            self.wait_for_room_until(deadline).await?;
        }
        // The channel never holds more jobs than `waiting` counts, so a taken place is free
        // in the channel too; a job refused here comes back unrun and never counts itself out.
        self.jobs.try_send(job).map_err(|e| {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            match e {
                TrySendError::Full(_) => HashError::Busy,
                TrySendError::Disconnected(_) => {
                    HashError::Internal("hashing workers stopped".into())
                }
            }
        })?;
        answer
            .await
            .map_err(|_| HashError::Internal("a hashing worker failed".into()))
    }
}

/// Verifies `typed` against `stored` in either form ([`first_matching_form`]).
fn verify_either_form(memory: &mut WorkArea, stored: &str, typed: &str) -> Matched {
    first_matching_form(typed, |form| verify_stored(memory, stored, form))
}

/// Tries the NFKC form of `typed`, then, if that fails and the typed form differs, the typed
/// form. How many tries a failure costs depends on `typed` alone, whatever `verify` checks
/// against (a user's hash or the dummy).
fn first_matching_form(typed: &str, mut verify: impl FnMut(&str) -> bool) -> Matched {
    let normalised = normalise_password(typed);
    if verify(&normalised) {
        Matched::Normalised
    } else if normalised != typed && verify(typed) {
        Matched::Typed
    } else {
        Matched::No
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::warn!(error = ?e, "could not lower the hashing thread's CPU priority");
    }
    let mut memory = WorkArea::new();
    loop {
        // Only one idle worker waits on the channel at a time; the others wait for the lock.
        let next = queue
            .lock()
            .map_err(|_| ())
            .and_then(|q| q.recv().map_err(|_| ()));
        match next {
            Ok(job) => job(&mut memory),
            Err(()) => return, // every sender is gone: the service is shutting down
        }
    }
}

#[cfg(test)]
mod tests;
