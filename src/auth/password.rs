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
//! - Verifying accepts every stored form that [`legacy_hash::import`] produces: argon2 PHC
//!   strings with any parameters (verified here, in the work area), and the legacy formats
//!   (bcrypt, Werkzeug, passlib, Django, seed 003's hex PBKDF2), verified by
//!   [`legacy_hash::verify`] on the same worker threads. A match against anything but argon2id
//!   with the current parameters reports `needs_rehash`, and the login upgrades the stored
//!   hash, so raising the parameters later upgrades every user at their next login.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{oneshot, Notify};

use crate::auth::legacy_hash::{self, Imported};

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
    /// parameters (a legacy format, argon2i, other costs): store a fresh hash of it.
    pub needs_rehash: bool,
}

/// A worker's reusable argon2 memory.
type WorkArea = Vec<Block>;
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
}

impl PasswordHasher {
    /// Starts `workers` hashing threads with `queue_capacity` waiting places, and computes the
    /// dummy hash (blocking: call from start-up code or a blocking thread). The threads stop
    /// when the last clone of the hasher is dropped.
    pub fn new(workers: usize, queue_capacity: usize) -> Result<Self, HashError> {
        let params = Params::new(OWASP_MEMORY_KIB, OWASP_ITERATIONS, OWASP_PARALLELISM, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let dummy_hash = hash_with(&mut Vec::new(), &params, &random_password())?;
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

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move |memory| hash_with(memory, &params, &password))
            .await?
    }

    /// Checks `password` against `stored` (any form [`legacy_hash::import`] produces), or
    /// against the dummy hash when there is no user, so both paths take the same time. An
    /// unknown user never matches, whatever the password.
    ///
    /// A user whose hash is still in a legacy format takes that format's time instead, which
    /// differs from the dummy's: until their first login upgrades it, such an account can be
    /// told from an unknown email by timing.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verification, HashError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let params = self.params.clone();
        let (matches, current) = self
            .run(move |memory| {
                let matches = verify_stored(memory, &hash, &password);
                (matches, is_current(&hash, &params))
            })
            .await?;
        let matches = known && matches;
        Ok(Verification {
            matches,
            needs_rehash: matches && !current,
        })
    }

    /// Checks `password` against what [`legacy_hash::import`] made of a legacy row, before it
    /// is stored (the lazy migration): a plain-text password is compared in constant time, a
    /// hash is verified on a worker like [`Self::verify`]'s.
    pub async fn verify_imported(
        &self,
        password: String,
        imported: Imported,
    ) -> Result<bool, HashError> {
        match imported {
            Imported::PlainPassword(plain) => Ok(legacy_hash::constant_time_eq(
                plain.as_bytes(),
                password.as_bytes(),
            )),
            Imported::Hash(hash) => {
                self.run(move |memory| verify_stored(memory, &hash, &password))
                    .await
            }
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut WorkArea) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let deadline = tokio::time::Instant::now() + self.patience;
        let (reply, answer) = oneshot::channel();
        let (waiting, room) = (self.waiting.clone(), self.room.clone());
        let job: Job = Box::new(move |memory| {
            waiting.fetch_sub(1, Ordering::Relaxed);
            room.notify_one();
            // The caller may have gone away; the work is done either way.
            let _ = reply.send(job(memory));
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

/// Runs argon2 in `memory`, growing it once to the standard size. A stored hash with bigger
/// parameters than the work area (an imported legacy hash) gets a temporary area instead.
fn argon2_into(
    memory: &mut WorkArea,
    argon: &Argon2<'_>,
    blocks: usize,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    const STANDARD_BLOCKS: usize = OWASP_MEMORY_KIB as usize;
    if blocks > memory.len().max(STANDARD_BLOCKS) {
        let mut temporary = vec![Block::default(); blocks];
        return argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut temporary[..])
            .is_ok();
    }
    if memory.len() < blocks {
        memory.resize(STANDARD_BLOCKS.max(blocks), Block::default());
    }
    argon
        .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])
        .is_ok()
}

fn hash_with(memory: &mut WorkArea, params: &Params, password: &str) -> Result<String, HashError> {
    let internal = |e: argon2::password_hash::Error| HashError::Internal(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(internal)?;
    let mut out = [0u8; 32];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    if !argon2_into(
        memory,
        &argon,
        params.block_count(),
        password,
        salt_bytes,
        &mut out,
    ) {
        return Err(HashError::Internal("argon2 failed".into()));
    }
    let output = Output::new(&out).map_err(internal)?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        output
    ))
}

/// Argon2 PHC strings are verified here, in the worker's work area; every other format by
/// [`legacy_hash::verify`], which is false for anything it cannot parse.
fn verify_stored(memory: &mut WorkArea, stored: &str, password: &str) -> bool {
    if stored.starts_with("$argon2") {
        verify_with(memory, stored, password)
    } else {
        legacy_hash::verify(stored, password)
    }
}

/// Whether `stored` is what [`hash_with`] makes now: argon2id, version 0x13, the same m, t and
/// p, and a 32-byte output. Anything else is upgraded at the next successful login.
fn is_current(stored: &str, params: &Params) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(stored_params) = Params::try_from(&hash) else {
        return false;
    };
    hash.algorithm == Algorithm::Argon2id.ident()
        && hash.version == Some(Version::V0x13 as u32)
        && stored_params.m_cost() == params.m_cost()
        && stored_params.t_cost() == params.t_cost()
        && stored_params.p_cost() == params.p_cost()
        && hash.hash.is_some_and(|output| output.len() == 32)
}

/// The parameters are read from the stored PHC string (argon2id, argon2i or argon2d), so older
/// hashes keep verifying. The comparison is constant-time (`Output`'s `==`).
///
/// Costs beyond the import limits never verify: the import refuses such hashes, and one written
/// into the database some other way must not make every login for it allocate hundreds of MiB.
fn verify_with(memory: &mut WorkArea, stored: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
    if !legacy_hash::argon2_affordable(&params) {
        tracing::warn!(
            m_cost_kib = params.m_cost(),
            t_cost = params.t_cost(),
            "a stored argon2 hash exceeds the cost limits and cannot verify"
        );
        return false;
    }
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    argon2_into(
        memory,
        &argon,
        params.block_count(),
        password,
        salt_bytes,
        &mut out,
    ) && Output::new(&out).is_ok_and(|computed| computed == expected)
}

fn random_password() -> String {
    crate::auth::secret::random_token(32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;

    #[tokio::test]
    async fn hashes_with_owasp_argon2id_and_verifies() {
        let hasher = PasswordHasher::new(1, 4).unwrap();
        let hash = hasher.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            hasher
                .verify("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap(),
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher
                .verify("wrong horse".into(), Some(hash))
                .await
                .unwrap(),
            Verification {
                matches: false,
                needs_rehash: false
            }
        );
    }

    #[test]
    fn a_stored_hash_beyond_the_cost_limits_never_verifies() {
        // 19 MiB × 54 passes is just over the 2^20 KiB-passes work limit: a real hash of "pw",
        // refused all the same. (The memory limit is checked by the same function.)
        let costly = reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 54, 1, "pw");
        assert!(!verify_with(&mut Vec::new(), &costly, "pw"));
        // One pass fewer is within the limit and verifies.
        let affordable = reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 53, 1, "pw");
        assert!(verify_with(&mut Vec::new(), &affordable, "pw"));
    }

    #[test]
    fn hashes_agree_with_the_reference_implementation() {
        // Ours verifies with the argon2 crate's own verifier, and the other way round, with
        // other algorithms and costs too.
        let ours = hash_with(
            &mut Vec::new(),
            &Params::new(OWASP_MEMORY_KIB, 2, 1, None).unwrap(),
            "pw",
        )
        .unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2::PasswordVerifier::verify_password(&Argon2::default(), b"pw", &parsed).is_ok()
        );
        for (algorithm, m, t, p) in [
            (Algorithm::Argon2id, 8192, 3, 2),
            (Algorithm::Argon2i, 4096, 2, 1),
        ] {
            let reference = Argon2::new(
                algorithm,
                Version::V0x13,
                Params::new(m, t, p, None).unwrap(),
            )
            .hash_password(b"pw", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
            assert!(
                verify_with(&mut Vec::new(), &reference, "pw"),
                "{reference}"
            );
            assert!(
                !verify_with(&mut Vec::new(), &reference, "pW"),
                "{reference}"
            );
        }
    }

    #[test]
    fn bigger_legacy_parameters_use_a_temporary_area() {
        let reference = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(32768, 1, 1, None).unwrap(),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        let mut memory = vec![Block::default(); OWASP_MEMORY_KIB as usize];
        assert!(verify_with(&mut memory, &reference, "pw"));
        assert_eq!(
            memory.len(),
            OWASP_MEMORY_KIB as usize,
            "the work area did not grow"
        );
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let hasher = PasswordHasher::new(1, 4).unwrap();
        let answer = hasher.verify("anything".into(), None).await.unwrap();
        assert!(!answer.matches && !answer.needs_rehash);
    }

    #[tokio::test]
    async fn full_queue_refuses_instead_of_waiting() {
        // One worker and one waiting place: of three hashes submitted together, at most two
        // are taken (one hashing, one waiting); the rest are refused at once.
        let hasher = PasswordHasher::new(1, 1).unwrap();
        let (a, b, c) = tokio::join!(
            hasher.hash("a".into()),
            hasher.hash("b".into()),
            hasher.hash("c".into())
        );
        let results = [a, b, c];
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert!((1..=2).contains(&refused), "{results:?}");
        assert!(results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(HashError::Busy))));
    }

    #[tokio::test]
    async fn a_patient_job_takes_the_next_free_place() {
        // One worker and one waiting place, as above, but with patience: the third hash waits
        // for the place the first one frees instead of being refused.
        let hasher = PasswordHasher::new(1, 1)
            .unwrap()
            .with_patience(Duration::from_secs(30));
        let (a, b, c) = tokio::join!(
            hasher.hash("a".into()),
            hasher.hash("b".into()),
            hasher.hash("c".into())
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok(), "{a:?} {b:?} {c:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn patient_jobs_racing_for_one_place_all_get_in() {
        // Eight tasks push tiny jobs through one waiting place as fast as they can, so places
        // free up and get taken thousands of times a second, often by two tasks at once.
        // Losing that race must mean waiting for the next place, never a refusal, while the
        // patience lasts.
        let hasher = PasswordHasher::new(2, 1)
            .unwrap()
            .with_patience(Duration::from_secs(60));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move {
                    for _ in 0..5_000 {
                        hasher.run(|_| ()).await?;
                    }
                    Ok::<_, HashError>(())
                })
            })
            .collect();
        for task in tasks {
            let result = task.await.unwrap();
            assert!(result.is_ok(), "{result:?}");
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_once_the_patience_runs_out() {
        // A 19 MiB hash takes far longer than 1 ms, so of eight hashes submitted together,
        // those beyond the worker and its waiting place run out of patience.
        let hasher = PasswordHasher::new(1, 1)
            .unwrap()
            .with_patience(Duration::from_millis(1));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(format!("password {i}")).await })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(HashError::Busy)))
            .count();
        assert!(refused >= 5, "{results:?}");
        assert!(results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(HashError::Busy))));
        // Once the queue drains there is room again.
        assert!(hasher.wait_for_room().await.is_ok());
    }

    #[test]
    fn garbage_hash_does_not_verify() {
        assert!(!verify_with(&mut Vec::new(), "not a phc string", "pw"));
        assert!(!verify_with(
            &mut Vec::new(),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
            "pw"
        ));
    }

    fn reference_argon2(algorithm: Algorithm, m: u32, t: u32, p: u32, password: &str) -> String {
        Argon2::new(
            algorithm,
            Version::V0x13,
            Params::new(m, t, p, None).unwrap(),
        )
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string()
    }

    #[tokio::test]
    async fn needs_rehash_unless_argon2id_with_the_current_parameters() {
        let hasher = PasswordHasher::new(1, 8).unwrap();
        let current = hasher.hash("pw".into()).await.unwrap();
        // The same parameters made by the reference implementation count as current too.
        let reference_current = reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 2, 1, "pw");
        for stored in [current, reference_current] {
            let answer = hasher
                .verify("pw".into(), Some(stored.clone()))
                .await
                .unwrap();
            assert_eq!(
                answer,
                Verification {
                    matches: true,
                    needs_rehash: false
                },
                "{stored}"
            );
        }
        let bcrypt_hash = bcrypt::hash("pw", 4).unwrap();
        let outdated = [
            reference_argon2(Algorithm::Argon2i, OWASP_MEMORY_KIB, 2, 1, "pw"),
            reference_argon2(Algorithm::Argon2id, 8192, 2, 1, "pw"),
            reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 3, 1, "pw"),
            reference_argon2(Algorithm::Argon2id, OWASP_MEMORY_KIB, 2, 2, "pw"),
            bcrypt_hash.clone(),
            bcrypt_hash.replacen("$2b$", "$2y$", 1),
        ];
        for stored in outdated {
            let answer = hasher
                .verify("pw".into(), Some(stored.clone()))
                .await
                .unwrap();
            assert_eq!(
                answer,
                Verification {
                    matches: true,
                    needs_rehash: true
                },
                "{stored}"
            );
            // A wrong password is never worth a rehash.
            let answer = hasher
                .verify("pW".into(), Some(stored.clone()))
                .await
                .unwrap();
            assert_eq!(
                answer,
                Verification {
                    matches: false,
                    needs_rehash: false
                },
                "{stored}"
            );
        }
    }

    #[tokio::test]
    async fn verifies_every_imported_legacy_form() {
        use crate::auth::legacy_hash::{import, LegacyFormat, Pbkdf2HexSettings};
        let hasher = PasswordHasher::new(1, 8).unwrap();
        let settings = Pbkdf2HexSettings::default();
        // Seed 003: hashlib.pbkdf2_hmac('sha256', b'pw', b'salt', 1000, 64).hex()
        let mut seed003 = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"pw", b"salt", 1000, &mut seed003);
        let seed003: String = seed003.iter().map(|b| format!("{b:02x}")).collect();
        let legacy = [
            bcrypt::hash("pw", 4).unwrap(),
            seed003,
            reference_argon2(Algorithm::Argon2i, 4096, 2, 1, "pw"),
        ];
        for value in legacy {
            let imported = import(&value, None, &settings).unwrap();
            assert!(hasher
                .verify_imported("pw".into(), imported.clone())
                .await
                .unwrap());
            assert!(!hasher
                .verify_imported("pW".into(), imported.clone())
                .await
                .unwrap());
            let Imported::Hash(stored) = imported else {
                panic!("{value} imported as plain text");
            };
            let answer = hasher.verify("pw".into(), Some(stored)).await.unwrap();
            assert!(answer.matches && answer.needs_rehash, "{value}");
        }
        let plain = import("pw", Some(LegacyFormat::Plain), &settings).unwrap();
        assert!(hasher
            .verify_imported("pw".into(), plain.clone())
            .await
            .unwrap());
        assert!(!hasher.verify_imported("pw ".into(), plain).await.unwrap());
        assert!(
            !hasher
                .verify("pw".into(), Some("not a hash".into()))
                .await
                .unwrap()
                .matches
        );
    }
}
