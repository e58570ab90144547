//! One Gatehouse per test on a fresh database, with one helper per endpoint.

use std::collections::HashMap;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse::clock::{Clock, ManualClock};
use gatehouse::config::Config;
use gatehouse::App;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

mod database;
mod oauth;
mod process;
pub mod proxy;
mod reply;
mod server_process;
mod sign_in;
mod tokens;

use database::{create_mysql_database, create_postgres_database, TestDatabase};
pub use database::{drop_database, query_number, random_hex, with_database_name};
pub use oauth::ClientCredentials;
use process::run_with_timeout;
pub use reply::*;
pub use server_process::ServerProcess;
pub use tokens::*;

/// Writes each listed `async fn name(app: TestApp)` as `sqlite::name`, `postgres::name` and
/// `mysql::name` tests.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = crate::helpers::Backend::Sqlite;
                    if let Some(app) = crate::helpers::spawn_app(backend).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = crate::helpers::Backend::Postgres;
                    if let Some(app) = crate::helpers::spawn_app(backend).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = crate::helpers::Backend::MySql;
                    if let Some(app) = crate::helpers::spawn_app(backend).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

pub const PASSWORD: &str = "correct horse battery staple";
/// How long a change written by the CLI may take to reach the running server.
pub const SYNC_DEADLINE: Duration = Duration::from_secs(5);

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    pub database_url: String,
    pub secret: String,
    /// The last server's `METRICS_ADDR` listener (`http://ip:port`), when it has one.
    pub metrics_address: Option<String>,
    env: HashMap<String, String>,
    /// Each server's count of password hashes and verifications run.
    password_jobs: Vec<Box<dyn Fn() -> u64 + Send + Sync>>,
    _shutdown: Vec<oneshot::Sender<()>>,
    _database: TestDatabase,
}

/// Spawns a server on a new, empty database; `None` when the backend is not configured.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let (database_url, database) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("create a temporary directory");
            let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
            (url, TestDatabase::Sqlite(dir))
        }
        Backend::Postgres => create_postgres_database(&server_url("TEST_DATABASE_URL")?).await,
        Backend::MySql => create_mysql_database(&server_url("TEST_MYSQL_URL")?).await,
    };
    let secret = random_hex(32);
    let env: HashMap<String, String> = [
        ("DATABASE_URL", database_url.as_str()),
        ("JWT_SECRET", secret.as_str()),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("REVOCATION_SYNC_INTERVAL_MS", "100"),
        // Restarts stop at once; tests/api/shutdown.rs sets a drain where it tests one.
        ("SHUTDOWN_DRAIN_SECS", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let clock = Arc::new(ManualClock::starting_now());
    let client = Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("build the HTTP client");
    let mut app = TestApp {
        address: String::new(),
        client,
        clock,
        database_url,
        secret,
        metrics_address: None,
        env,
        password_jobs: Vec::new(),
        _shutdown: Vec::new(),
        _database: database,
    };
    app.address = app.spawn_server().await;
    Some(app)
}

/// The server URL a backend's tests run against, from `variable`; `None` (skip) when unset,
/// except in CI, which must run every backend: there a missing URL fails the test.
pub fn server_url(variable: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {variable} is not: these tests cannot be skipped in CI")
        }
        _ => {
            eprintln!("skipping: {variable} not set");
            None
        }
    }
}

impl TestApp {
    /// Starts one more server on this app's database, secret and clock (a restart or a replica).
    pub async fn spawn_server(&mut self) -> String {
        let env = self.env.clone();
        let config = Config::from_lookup(|name| env.get(name).cloned()).expect("valid test config");
        let clock: Arc<dyn Clock> = self.clock.clone();
        let app = App::build_with_clock(config, clock)
            .await
            .unwrap_or_else(|e| panic!("the app failed to start: {e:?}"));
        let address = format!("http://{}", app.local_addr());
        self.metrics_address = app.metrics_addr().map(|a| format!("http://{a}"));
        self.password_jobs.push(Box::new(app.password_jobs()));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = rx.await;
        }));
        self._shutdown.push(tx);
        address
    }

    /// Stops every server of this app and starts a fresh one on the same database.
    pub async fn restart(&mut self) {
        self.stop();
        self.address = self.spawn_server().await;
    }

    /// Tells every server of this app to shut down (as SIGTERM does), starting none.
    pub fn stop(&mut self) {
        for stop in self._shutdown.drain(..) {
            let _ = stop.send(());
        }
    }

    /// Restarts with `name=value` added to the configuration.
    pub async fn restart_with(&mut self, name: &str, value: &str) {
        self.set_env(name, value);
        self.restart().await;
    }

    /// Removes `name` from the configuration of the next (re)start.
    pub fn unset_env(&mut self, name: &str) {
        self.env.remove(name);
    }

    /// Adds `name=value` to the configuration of the next (re)start.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.insert(name.to_owned(), value.to_owned());
    }

    /// Password hashes and verifications run by every server this app started.
    pub fn password_jobs_run(&self) -> u64 {
        self.password_jobs.iter().map(|jobs| jobs()).sum()
    }

    /// The server's current time, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn send(&self, request: RequestBuilder) -> Reply {
        Reply::read(request.send().await.expect("the request was sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    /// `POST path` with a raw body and, if given, a `Content-Type`.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        self.send(request).await
    }

    pub async fn signup(&self, body: Value) -> Reply {
        self.post_json("/auth/signup", &body).await
    }

    pub async fn auth_login(&self, body: Value) -> Reply {
        self.post_json("/auth/login", &body).await
    }

    pub async fn json_login(&self, body: Value) -> Reply {
        self.post_json("/login", &body).await
    }

    pub async fn basic_login(&self, email: &str, password: &str) -> Reply {
        let request = self
            .client
            .post(self.url("/login"))
            .basic_auth(email, Some(password));
        self.send(request).await
    }

    /// `POST /validate` with `authorization` as the whole `Authorization` header value.
    pub async fn validate(&self, authorization: Option<&str>) -> Reply {
        self.validate_at(&self.address, authorization).await
    }

    pub async fn validate_at(&self, address: &str, authorization: Option<&str>) -> Reply {
        let mut request = self.client.post(format!("{address}/validate"));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        self.send(request).await
    }

    pub async fn validate_token(&self, token: &str) -> Reply {
        self.validate(Some(&format!("Bearer {token}"))).await
    }

    pub async fn logout(&self, token: &str) -> Reply {
        self.send(
            self.client
                .post(self.url("/auth/logout"))
                .bearer_auth(token),
        )
        .await
    }

    /// `POST /auth/logout?scope=<scope>`.
    pub async fn logout_scope(&self, token: &str, scope: &str) -> Reply {
        let path = format!("/auth/logout?scope={scope}");
        self.send(self.client.post(self.url(&path)).bearer_auth(token))
            .await
    }

    /// `POST /auth/token/refresh` with `{"refresh_token": refresh_token}`.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        self.post_json("/auth/token/refresh", &body).await
    }

    /// `POST /auth/password`, as `token`'s user (or anonymously).
    pub async fn change_password(&self, token: Option<&str>, body: &Value) -> Reply {
        let mut request = self.client.post(self.url("/auth/password")).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    pub async fn auth_user(&self, token: &str) -> Reply {
        self.send(self.client.get(self.url("/auth/user")).bearer_auth(token))
            .await
    }

    pub async fn profile(&self, token: &str) -> Reply {
        self.send(self.client.get(self.url("/profile")).bearer_auth(token))
            .await
    }

    /// Signs a user up through `/auth/signup` and returns the token it was given.
    pub async fn signup_user(&self, email: &str, password: &str, name: &str) -> String {
        let reply = self
            .signup(json!({"email": email, "password": password, "name": name}))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "signup failed: {}",
            reply.text
        );
        reply.json()["jwt_token"]
            .as_str()
            .expect("jwt_token")
            .to_owned()
    }

    /// Polls `/validate` with `token` until it answers `expected`, for at most `SYNC_DEADLINE`.
    pub async fn wait_for_validate_status(&self, token: &str, expected: StatusCode) -> Reply {
        let started = Instant::now();
        loop {
            let reply = self.validate_token(token).await;
            if reply.status == expected {
                return reply;
            }
            assert!(
                started.elapsed() < SYNC_DEADLINE,
                "/validate still answered {} (wanted {expected}) after {SYNC_DEADLINE:?}: {}",
                reply.status,
                reply.text
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs the `gatehouse` binary against this app's database and secret.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.cli_with_env(args, stdin, &[]).await
    }

    pub async fn cli_with_env(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
        command.env_clear().args(args);
        command.env("PATH", std::env::var("PATH").unwrap_or_default());
        command.env("DATABASE_URL", &self.database_url);
        command.env("JWT_SECRET", &self.secret);
        for (name, value) in env {
            command.env(name, value);
        }
        let stdin = stdin.map(str::to_owned);
        tokio::task::spawn_blocking(move || run_with_timeout(command, stdin))
            .await
            .expect("the CLI runner did not panic")
    }
}
