//! The real `gatehouse serve` binary in its own process, for crash and multi-replica tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::TestApp;

/// The real binary, in its own process, on the test's database.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
    /// Every line the server wrote to stderr so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts `gatehouse serve` on `app`'s database and secret, with `extra` settings.
    pub fn start(app: &TestApp, extra: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command.arg("serve");
        Self::start_command(command, app, extra)
    }

    /// As `start`, with the soft limit on open files lowered to `limit` (`ulimit -n`).
    pub fn start_with_open_file_limit(app: &TestApp, extra: &[(&str, &str)], limit: u32) -> Self {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("ulimit -S -n {limit} && exec \"$0\" serve"))
            .arg(env!("CARGO_BIN_EXE_gatehouse"));
        Self::start_command(command, app, extra)
    }

    /// Runs `command` (which must start `gatehouse serve`) on `app`'s database and secret.
    pub fn start_command(mut command: Command, app: &TestApp, extra: &[(&str, &str)]) -> Self {
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.database_url)
            .env("JWT_SECRET", &app.secret)
            .env("HOST", "127.0.0.1")
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start gatehouse serve");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let address = loop {
            let line = lines
                .next()
                .expect("gatehouse exited before it listened")
                .expect("read stderr");
            let address = listening_address(&line);
            log.lock().expect("the log").push(line);
            if let Some(address) = address {
                break format!("http://{address}");
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().expect("the log").push(line);
            }
        });
        Self {
            child,
            address,
            log,
        }
    }

    /// Waits until the server has written the access line of `request_id`.
    pub fn wait_for_access_line(&self, request_id: &str) {
        let started = Instant::now();
        while !self
            .log
            .lock()
            .expect("the log")
            .iter()
            .any(|line| line.contains(request_id) && line.contains("gatehouse::access"))
        {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "no access line for {request_id}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

/// The address of the "listening" line, in text (`address=…`) or JSON (`"address":"…"`).
fn listening_address(line: &str) -> Option<String> {
    if line.starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        return value["address"].as_str().map(str::to_owned);
    }
    let rest = line.split("address=").nth(1)?;
    Some(
        rest.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    )
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
