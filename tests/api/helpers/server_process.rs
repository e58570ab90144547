//! The real `gatehouse serve` binary in its own process, for crash and multi-replica tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::TestApp;

/// The real binary, in its own process, on the test's database.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
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
        let address = loop {
            let line = lines
                .next()
                .expect("gatehouse exited before it listened")
                .expect("read stderr");
            if let Some(rest) = line.split("address=").nth(1) {
                break format!(
                    "http://{}",
                    rest.split_whitespace().next().unwrap_or_default()
                );
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, address }
    }

    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
