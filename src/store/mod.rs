//! All SQL lives here: one `Store` over SQLite, PostgreSQL or MySQL/MariaDB, with the dialect
//! chosen by the URL.
//!
//! Queries are written once with `$1…$n` placeholders, passed through `Store::sql` (which turns
//! them into MySQL's `?`), and run through `on_pool!`, which type-checks each against every
//! backend. Where the dialects differ (`RETURNING`, `ON CONFLICT`, clocks, notifications), the
//! statement is chosen per backend next to its siblings.

mod revocations;
mod sessions;
mod settings;
mod users;

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use sessions::{RefreshTokenRow, Session};
pub use users::{NewUser, User};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");

/// How long a request waits for a pooled connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

/// No statement may take longer than this: a database that stopped answering (a network
/// partition, a stuck lock) turns into a 503 instead of a request that hangs.
const QUERY_DEADLINE: Duration = Duration::from_secs(5);

/// Runs the same expression against whichever pool the store holds, under `QUERY_DEADLINE`.
/// Inside `$body`, `?` converts `sqlx::Error` into `StoreError`.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::store::with_deadline(async {
            let value = match $store {
                $crate::store::Store::Sqlite($pool) => $body,
                $crate::store::Store::Postgres($pool) => $body,
                $crate::store::Store::MySql($pool) => $body,
            };
            Ok::<_, $crate::store::StoreError>(value)
        })
        .await?
    };
}
pub(crate) use on_pool;

pub(crate) async fn with_deadline<T>(
    work: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(QUERY_DEADLINE, work)
        .await
        .unwrap_or(Err(StoreError::Unavailable(sqlx::Error::PoolTimedOut)))
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (the one place such violations are recognised).
    #[error("unique constraint violated")]
    Conflict,
    /// The database did not answer in time or the connection is gone; worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
    #[error(
        "unsupported database URL scheme in {0:?}: use sqlite://, postgres://, postgresql:// or mysql://"
    )]
    UnsupportedUrl(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict,
            // SQLITE_BUSY after busy_timeout: the writer lock stayed taken; treat as overload.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("5") => {
                StoreError::Unavailable(err)
            }
            // MySQL: a lock wait timed out or InnoDB chose this transaction as a deadlock
            // victim; both are load, not bugs, and worth retrying.
            sqlx::Error::Database(db)
                if db
                    .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                    .is_some_and(|e| matches!(e.number(), 1205 | 1213)) =>
            {
                StoreError::Unavailable(err)
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err),
            _ => StoreError::Other(err),
        }
    }
}

impl Store {
    /// Opens a pool for `url`; a SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url)?
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
                Ok(Store::Sqlite(pool))
            }
            "postgres" | "postgresql" => {
                // Named per process, so an operator (or a test) can tell replicas apart.
                let options = PgConnectOptions::from_str(url)?
                    .application_name(&format!("gatehouse {}", std::process::id()));
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Ok(Store::Postgres(pool))
            }
            "mysql" | "mariadb" => {
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
                Ok(Store::MySql(pool))
            }
            _ => Err(StoreError::UnsupportedUrl(redact_url(url))),
        }
    }

    /// Creates or upgrades the schema; safe to run from several replicas at once (migrations lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Store::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Store::MySql(pool) => MYSQL_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
            Store::MySql(_) => "mysql",
        }
    }

    /// `statement`, written with `$1…$n` placeholders, in this backend's dialect: MySQL wants
    /// `?`, bound in order, so each `$n` must appear exactly once and in ascending order.
    pub(crate) fn sql<'a>(&self, statement: &'a str) -> Cow<'a, str> {
        match self {
            Store::MySql(_) => Cow::Owned(question_mark_placeholders(statement)),
            Store::Sqlite(_) | Store::Postgres(_) => Cow::Borrowed(statement),
        }
    }

    /// `insert` (with `$n` placeholders) made to skip, not fail on, a row whose `key` exists.
    pub(crate) fn insert_ignoring_duplicates(&self, insert: &str, key: &str) -> String {
        match self {
            Store::MySql(_) => format!(
                "{} ON DUPLICATE KEY UPDATE {key} = {key}",
                question_mark_placeholders(insert)
            ),
            Store::Sqlite(_) | Store::Postgres(_) => {
                format!("{insert} ON CONFLICT ({key}) DO NOTHING")
            }
        }
    }

    /// A round trip to the database.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// The database's own clock, in Unix seconds.
    pub async fn database_time(&self) -> Result<i64, StoreError> {
        let now: i64 = match self {
            Store::Sqlite(pool) => {
                sqlx::query_scalar("SELECT CAST(strftime('%s', 'now') AS INTEGER)")
                    .fetch_one(pool)
                    .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)")
                    .fetch_one(pool)
                    .await?
            }
            Store::MySql(pool) => {
                sqlx::query_scalar("SELECT CAST(UNIX_TIMESTAMP() AS SIGNED)")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(now)
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(pool) => pool.close().await,
            Store::Postgres(pool) => pool.close().await,
            Store::MySql(pool) => pool.close().await,
        }
    }
}

/// Rewrites `$1`, `$2`, … as `?`. Placeholders out of order would bind the wrong values, so in
/// debug builds (the test suite) that is a panic.
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

/// A URL fit for logs and error messages: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***{}", &url[..scheme_end], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://gatehouse.db"), "sqlite://gatehouse.db");
    }

    #[test]
    fn placeholders_become_question_marks_for_mysql() {
        assert_eq!(
            question_mark_placeholders("UPDATE t SET a = $1, b = $2 WHERE c = $3 AND d = '$x'"),
            "UPDATE t SET a = ?, b = ? WHERE c = ? AND d = '$x'"
        );
        assert_eq!(
            question_mark_placeholders(
                &(1..=12)
                    .map(|n| format!("${n}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ["?"; 12].join(",")
        );
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn repeated_placeholders_are_caught() {
        question_mark_placeholders("SELECT $1, $1");
    }
}
