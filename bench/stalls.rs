//! How long this machine takes the CPU away from a thread that wants it: the platform's own
//! latency floor, which no server running on it can beat (`bench/run` prints it beside the
//! `/validate` p99 targets).
//!
//! Runs `--threads N` (default: the available cores) threads that each read the monotonic clock
//! in a tight loop for `--seconds T` (default 10). Any gap between two consecutive readings is
//! time the thread did not run: an interrupt, another task, or, on a virtual machine, the host
//! not running the vCPU (which the guest's steal time does not always show). Prints one JSON
//! line, with gaps counted over all threads:
//!
//! ```text
//! {"threads":2,"seconds":10.0,"stalls_over_1ms":31,"stalls_over_1ms_per_sec":3.1,"longest_stall_ms":7.6,"stalled_pct":0.9}
//! ```
//!
//! Run it on an otherwise idle machine: beside a busy process it measures that process too.
//!
//! ```sh
//! cargo run --release --example stalls -- --seconds 5
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

/// Gaps shorter than this are the loop's own jitter (cache misses, timer ticks), not stalls.
const STALL: Duration = Duration::from_millis(1);

#[derive(Default)]
struct Gaps {
    over_1ms: u64,
    longest: Duration,
    stalled: Duration,
}

fn watch(seconds: f64) -> Gaps {
    let mut gaps = Gaps::default();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut last = start;
    while last < end {
        let now = Instant::now();
        let gap = now - last;
        if gap >= STALL {
            gaps.over_1ms += 1;
            gaps.stalled += gap;
        }
        gaps.longest = gaps.longest.max(gap);
        last = now;
    }
    gaps
}

fn options() -> Result<(usize, f64), Box<dyn Error>> {
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut seconds = 10.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--threads" => threads = value()?.parse()?,
            "--seconds" => seconds = value()?.parse()?,
            "-h" | "--help" => {
                println!("usage: stalls [--threads N] [--seconds T]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if threads == 0 || !(seconds > 0.0 && seconds <= 600.0) {
        return Err("--threads must be at least 1 and --seconds in (0, 600]".into());
    }
    Ok((threads, seconds))
}

fn main() -> Result<(), Box<dyn Error>> {
    let (threads, seconds) = options()?;
    let watchers: Vec<_> = (0..threads)
        .map(|_| std::thread::spawn(move || watch(seconds)))
        .collect();
    let mut total = Gaps::default();
    for watcher in watchers {
        let gaps = watcher.join().map_err(|_| "a watcher thread panicked")?;
        total.over_1ms += gaps.over_1ms;
        total.longest = total.longest.max(gaps.longest);
        total.stalled += gaps.stalled;
    }
    let thread_seconds = seconds * threads as f64;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    let line = serde_json::json!({
        "threads": threads,
        "seconds": seconds,
        "stalls_over_1ms": total.over_1ms,
        "stalls_over_1ms_per_sec": round(total.over_1ms as f64 / seconds),
        "longest_stall_ms": round(total.longest.as_secs_f64() * 1e3),
        "stalled_pct": round(total.stalled.as_secs_f64() / thread_seconds * 100.0),
    });
    println!("{line}");
    Ok(())
}
