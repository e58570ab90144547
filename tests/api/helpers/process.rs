//! Running the `gatehouse` binary with a deadline.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `command` to completion, killing it (and failing) if it takes more than 30 s.
pub fn run_with_timeout(mut command: Command, stdin: Option<String>) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the gatehouse binary");
    let mut input = child.stdin.take().expect("stdin is piped");
    if let Some(text) = stdin {
        let _ = input.write_all(text.as_bytes());
    }
    drop(input);
    let readers = [
        child.stdout.take().map(drain),
        child.stderr.take().map(drain),
    ];
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the CLI") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the gatehouse CLI did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let [stdout, stderr] =
        readers.map(|r| r.map(|h| h.join().expect("reader")).unwrap_or_default());
    Output {
        status,
        stdout,
        stderr,
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}
