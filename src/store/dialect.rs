//! What differs between SQLite, PostgreSQL and MySQL/MariaDB, in one place: which backend a URL
//! names, opening a pool on it, deadlines, and placeholder rewriting. Gatehouse's own store and
//! the reader of a seed service's table (`legacy::source`) both go through here.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::ConnectOptions as _;

/// How long a request waits for a pooled connection before the database counts as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A database product, as a URL's scheme names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// MySQL 8 or MariaDB 10.5+.
    MySql,
}

impl Backend {
    /// The backend of a normalised URL (`sqlite:`, `postgres:`/`postgresql:`, `mysql:`/`mariadb:`).
    pub fn from_url(url: &str) -> Option<Self> {
        match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Some(Backend::Sqlite),
            Some("postgres" | "postgresql") => Some(Backend::Postgres),
            Some("mysql" | "mariadb") => Some(Backend::MySql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// `statement`, written with `$1…$n` placeholders, in this backend's dialect: MySQL wants
    /// `?`, bound in order, so each `$n` must appear exactly once and in ascending order. Debug
    /// builds (the test suite) check that order on every backend, so a statement that would
    /// bind the wrong values on MySQL fails on whichever database the test runs.
    pub fn placeholders(self, statement: &str) -> Cow<'_, str> {
        match self {
            Backend::MySql => Cow::Owned(question_mark_placeholders(statement)),
            Backend::Sqlite | Backend::Postgres => {
                if cfg!(debug_assertions) {
                    question_mark_placeholders(statement);
                }
                Cow::Borrowed(statement)
            }
        }
    }
}

/// A connection pool on one of the backends.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// Runs the same expression against whichever pool `$pool` (a `&Pool`) is; each arm is
/// type-checked against its own backend.
macro_rules! on_each_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::store::dialect::Pool::Sqlite($p) => $body,
            $crate::store::dialect::Pool::Postgres($p) => $body,
            $crate::store::dialect::Pool::MySql($p) => $body,
        }
    };
}
pub(crate) use on_each_pool;

impl Pool {
    /// Gatehouse's own database: connected now, a SQLite file created if missing and made
    /// durable (WAL, synchronous FULL), MySQL in utf8mb4 and strict mode.
    pub async fn open_store(url: &str) -> Result<Option<Self>, sqlx::Error> {
        let Some(backend) = Backend::from_url(url) else {
            return Ok(None);
        };
        Ok(Some(match backend {
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?;
                create_private_file(options.get_filename())?;
                let options = options
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // FULL: a signup acknowledged with 201 survives a crash or power cut.
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true);
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Pool::Sqlite(pool)
            }
            Backend::Postgres => {
                // Named per process, so an operator (or a test) can tell replicas apart.
                let options = PgConnectOptions::from_str(url)?
                    .application_name(&format!("gatehouse {}", std::process::id()));
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Pool::Postgres(pool)
            }
            Backend::MySql => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                // utf8mb4 (all of Unicode) and strict mode (refuse, never truncate, an oversized
                // value) whatever the server's defaults are.
                let options = MySqlConnectOptions::from_str(&url)?
                    .charset("utf8mb4")
                    .pipes_as_concat(false);
                let pool = MySqlPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::query(
                                "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
                            )
                            .execute(conn)
                            .await
                            .map(|_| ())
                        })
                    })
                    .connect_with(options)
                    .await?;
                Pool::MySql(pool)
            }
        }))
    }

    /// Someone else's database, read only: nothing connects until the first query, a SQLite
    /// file must already exist, and statements are not logged (reading a big table is meant
    /// to take long, and sqlx would warn about it as "slow"). `None`: not a URL of ours.
    pub fn open_reader(url: &str) -> Result<Option<Self>, sqlx::Error> {
        let Some(backend) = Backend::from_url(url) else {
            return Ok(None);
        };
        Ok(Some(match backend {
            Backend::Postgres => {
                let options = PgConnectOptions::from_str(url)?
                    .application_name("gatehouse legacy")
                    .disable_statement_logging();
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(4)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
            Backend::MySql => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let options = MySqlConnectOptions::from_str(&url)?.disable_statement_logging();
                Pool::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(4)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
            Backend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(false)
                    .busy_timeout(ACQUIRE_TIMEOUT)
                    .disable_statement_logging();
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_lazy_with(options),
                )
            }
        }))
    }

    /// The database file, for SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        match self {
            Pool::Sqlite(pool) => Some(pool.connect_options().get_filename().to_owned()),
            Pool::Postgres(_) | Pool::MySql(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
            Pool::MySql(_) => Backend::MySql,
        }
    }

    pub async fn close(&self) {
        on_each_pool!(self, p => p.close().await)
    }
}

/// Creates a new SQLite file readable and writable by its owner only (mode 0600): it holds
/// password hashes. SQLite gives its `-wal` and `-shm` files the same mode. An existing file is
/// left as it is; `:memory:` databases have no file.
fn create_private_file(path: &std::path::Path) -> Result<(), sqlx::Error> {
    if path.as_os_str().is_empty() || path.to_str().is_some_and(|p| p.starts_with(':')) {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(sqlx::Error::Io(e)),
    }
}

/// `work`, or an unavailable-database error once `limit` has passed: a database that stopped
/// answering (a network partition, a stuck lock) turns into a 503 instead of a request that
/// hangs. Both error types read `PoolTimedOut` as "unavailable".
pub async fn within<T, E: From<sqlx::Error>>(
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| Err(E::from(sqlx::Error::PoolTimedOut)))
}

/// Rewrites `$1`, `$2`, … as `?`. Placeholders out of order would bind the wrong values, so in
/// debug builds that is a panic.
fn question_mark_placeholders(statement: &str) -> String {
    let mut out = String::with_capacity(statement.len());
    let mut chars = statement.chars().peekable();
    let mut expected = 1u32;
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut number = 0u32;
            while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                number = number * 10 + digit;
                chars.next();
            }
            debug_assert_eq!(
                number, expected,
                "placeholders out of order in: {statement}"
            );
            expected += 1;
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_question_marks_for_mysql() {
        assert_eq!(
            Backend::MySql.placeholders("UPDATE t SET a = $1, b = $2 WHERE c = $3 AND d = '$x'"),
            "UPDATE t SET a = ?, b = ? WHERE c = ? AND d = '$x'"
        );
        let twelve = (1..=12).map(|n| format!("${n}")).collect::<Vec<_>>();
        assert_eq!(
            Backend::MySql.placeholders(&twelve.join(",")),
            ["?"; 12].join(",")
        );
        assert_eq!(
            Backend::Postgres.placeholders("SELECT $1, $2"),
            "SELECT $1, $2"
        );
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn repeated_placeholders_are_caught() {
        Backend::MySql.placeholders("SELECT $1, $1");
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn placeholder_order_is_checked_on_every_backend() {
        Backend::Sqlite.placeholders("SELECT $2, $1");
    }

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mariadb://h/db"), Some(Backend::MySql));
        assert_eq!(Backend::from_url("http://h/db"), None);
    }
}
