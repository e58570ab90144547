//! Raw argon2id verify rate with Gatehouse's parameters (m=19456 KiB, t=2, p=1), the ceiling
//! for its login throughput (`bench/run` compares logins/s against it).
//!
//! Runs `--threads N` (default: the available cores) threads that each verify one password
//! against its PHC hash, over and over, for `--seconds T` (default 10), then prints one JSON line:
//!
//! ```text
//! {"mode":"phc","threads":2,"seconds":10.0,"verifies":1160,"verifies_per_sec":116.0,"ms_per_verify":17.2,"peak_rss_kib":430180,...}
//! ```
//!
//! `--mode phc` (default) verifies exactly as the server does: parse the stored PHC string, then
//! `Argon2::default().verify_password`, which allocates and zeroes a fresh 19 MiB block buffer
//! for every call. `--mode reuse` computes the same hash into one buffer allocated per thread up
//! front, which shows what that per-call allocation costs. `peak_rss_kib` is the process's
//! VmHWM at the end: the memory the allocation pattern really takes (argon2's blocks are
//! 64-byte aligned, so each call is a 19 MiB `posix_memalign`).
//!
//! ```sh
//! cargo run --release --example hashrate -- --seconds 5
//! ```

use std::error::Error;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
const PASSWORD: &[u8] = b"correct horse battery staple";
const SALT: &[u8] = b"gatehouse-bench-salt";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Phc,
    Reuse,
}

struct Options {
    threads: usize,
    seconds: f64,
    mode: Mode,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut opts = Options {
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        seconds: 10.0,
        mode: Mode::Phc,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--threads" => opts.threads = value()?.parse()?,
            "--seconds" => opts.seconds = value()?.parse()?,
            "--mode" => {
                opts.mode = match value()?.as_str() {
                    "phc" => Mode::Phc,
                    "reuse" => Mode::Reuse,
                    other => return Err(format!("unknown mode {other:?}: phc or reuse").into()),
                }
            }
            "-h" | "--help" => {
                println!("usage: hashrate [--threads N] [--seconds T] [--mode phc|reuse]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if opts.threads == 0 || opts.seconds.is_nan() || opts.seconds <= 0.0 {
        return Err("--threads and --seconds must be greater than zero".into());
    }
    Ok(opts)
}

fn params() -> Result<Params, Box<dyn Error>> {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).map_err(|e| e.to_string().into())
}

/// Verifies until `deadline`; returns (verifies, seconds spent).
fn worker(mode: Mode, start: &Barrier, seconds: f64) -> Result<(u64, f64), String> {
    let params = params().map_err(|e| e.to_string())?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::encode_b64(SALT).map_err(|e| e.to_string())?;
    let stored = argon2
        .hash_password(PASSWORD, &salt)
        .map_err(|e| e.to_string())?
        .to_string();
    let mut expected = [0u8; 32];
    argon2
        .hash_password_into(PASSWORD, SALT, &mut expected)
        .map_err(|e| e.to_string())?;
    let mut blocks = match mode {
        Mode::Reuse => vec![Block::default(); params.block_count()],
        Mode::Phc => Vec::new(),
    };

    start.wait();
    let began = Instant::now();
    let deadline = began + Duration::from_secs_f64(seconds);
    let mut count = 0u64;
    while Instant::now() < deadline {
        let ok = match mode {
            // The argon2 crate's own verify: a fresh work area for every hash.
            Mode::Phc => PasswordHash::new(&stored)
                .map(|parsed| Argon2::default().verify_password(PASSWORD, &parsed).is_ok())
                .unwrap_or(false),
            Mode::Reuse => {
                let mut out = [0u8; 32];
                argon2
                    .hash_password_into_with_memory(PASSWORD, SALT, &mut out, &mut blocks)
                    .is_ok()
                    && out == expected
            }
        };
        if !ok {
            return Err("the correct password did not verify".into());
        }
        count += 1;
    }
    Ok((count, began.elapsed().as_secs_f64()))
}

/// VmHWM from /proc/self/status (Linux), in KiB; null elsewhere.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn main() -> Result<(), Box<dyn Error>> {
    let opts = options()?;
    let start = Arc::new(Barrier::new(opts.threads));
    let handles: Vec<_> = (0..opts.threads)
        .map(|_| {
            let start = start.clone();
            let (mode, seconds) = (opts.mode, opts.seconds);
            std::thread::spawn(move || worker(mode, &start, seconds))
        })
        .collect();
    let (mut verifies, mut rate, mut longest) = (0u64, 0.0f64, 0.0f64);
    for handle in handles {
        let (count, secs) = handle.join().map_err(|_| "a worker thread panicked")??;
        verifies += count;
        rate += count as f64 / secs;
        longest = longest.max(secs);
    }
    let line = serde_json::json!({
        "peak_rss_kib": peak_rss_kib(),
        "mode": if opts.mode == Mode::Phc { "phc" } else { "reuse" },
        "threads": opts.threads,
        "memory_kib": MEMORY_KIB,
        "iterations": ITERATIONS,
        "parallelism": PARALLELISM,
        "seconds": (longest * 100.0).round() / 100.0,
        "verifies": verifies,
        "verifies_per_sec": (rate * 10.0).round() / 10.0,
        "ms_per_verify": if rate > 0.0 {
            (opts.threads as f64 / rate * 1000.0 * 100.0).round() / 100.0
        } else {
            0.0
        },
    });
    println!("{line}");
    Ok(())
}
