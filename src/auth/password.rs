//! argon2id password hashing on a fixed pool of dedicated threads, off the async runtime.
//!
//! - `workers` threads hash, one per core. Each owns one argon2 work area (19 MiB with the OWASP
//!   parameters), allocated at its first job and reused for every hash after. Memory is therefore
//!   workers × 19 MiB however hard the service is pushed: no per-hash allocation, and no extra
//!   malloc arenas from a growing blocking-thread pool.
//! - The threads run at the lowest CPU priority (nice 19). They still get every idle cycle, so an
//!   unloaded service hashes at full speed, but request handling (`/validate` above all) always
//!   preempts them: a login storm cannot take latency from everything else.
//! - Up to `queue_capacity` more jobs wait. Anything beyond that is refused at once with
//!   `HashError::Busy`, so a login storm costs bounded memory and never starves other requests.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

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

/// A worker's reusable argon2 memory.
type WorkArea = Vec<Block>;
type Job = Box<dyn FnOnce(&mut WorkArea) + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
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
            params,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// One worker per available core.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.params.clone();
        self.run(move |memory| hash_with(memory, &params, &password))
            .await?
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no user,
    /// so both paths take the same time. Returns false for `None` whatever the password.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(move |memory| verify_with(memory, &hash, &password))
            .await?;
        Ok(known && matches)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut WorkArea) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // The caller may have gone away; the work is done either way.
            let _ = reply.send(job(memory));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => HashError::Busy,
            TrySendError::Disconnected(_) => HashError::Internal("hashing workers stopped".into()),
        })?;
        answer
            .await
            .map_err(|_| HashError::Internal("a hashing worker failed".into()))
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    if let Err(e) = thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min) {
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

/// The parameters are read from the stored PHC string (argon2id, argon2i or argon2d, any
/// costs), so older hashes keep verifying. The comparison is constant-time (`Output`'s `==`).
fn verify_with(memory: &mut WorkArea, stored: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) =
        (Algorithm::try_from(hash.algorithm), Params::try_from(&hash))
    else {
        return false;
    };
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
        assert!(hasher
            .verify("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!hasher
            .verify("wrong horse".into(), Some(hash))
            .await
            .unwrap());
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
        assert!(!hasher.verify("anything".into(), None).await.unwrap());
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

    #[test]
    fn garbage_hash_does_not_verify() {
        assert!(!verify_with(&mut Vec::new(), "not a phc string", "pw"));
        assert!(!verify_with(
            &mut Vec::new(),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA",
            "pw"
        ));
    }
}
