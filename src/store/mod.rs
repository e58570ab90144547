//! Gatehouse's own tables: every statement on them, one `Store` over SQLite, PostgreSQL or
//! MySQL/MariaDB, with the backend chosen by the URL. (Reading a seed service's table is
//! `legacy::source`; what differs between the backends is in [`dialect`], which both use.)
//!
//! Queries are written once with `$1…$n` placeholders, passed through `Store::sql` (which turns
//! them into MySQL's `?`), and run through `on_pool!`, which type-checks each against every
//! backend. Where the dialects differ (`RETURNING`, `ON CONFLICT`, clocks, notifications), the
//! statement is chosen per backend next to its siblings.

mod clients;
pub mod dialect;
mod login_failures;
mod mfa;
mod revocations;
mod sessions;
mod settings;
mod signing_keys;
mod users;

use std::borrow::Cow;
use std::time::Duration;

use crate::db_url::redact_url;
use dialect::{Backend, Pool};

pub use clients::ClientRow;
pub use login_failures::{Admission, LoginFailures};
pub use mfa::{MfaChallengeRow, TotpRow};
pub use sessions::{RefreshTokenRow, Session};
pub use signing_keys::SigningKeyRow;
pub use users::{NewUser, User};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
static MYSQL_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");

/// Gatehouse's database. Cheap to clone: the pool inside is shared.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

/// No statement may take longer than this: a database that stopped answering (a network
/// partition, a stuck lock) turns into a 503 instead of a request that hangs.
const QUERY_DEADLINE: Duration = Duration::from_secs(5);

/// Runs the same expression against whichever pool the store holds, under `QUERY_DEADLINE`.
/// Inside `$body`, `?` converts `sqlx::Error` into `StoreError`.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        $crate::store::with_deadline(async {
            let value = $crate::store::dialect::on_each_pool!(&$store.pool, $pool => $body);
            Ok::<_, $crate::store::StoreError>(value)
        })
        .await?
    };
}
pub(crate) use on_pool;

pub(crate) async fn with_deadline<T>(
    work: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    dialect::within(QUERY_DEADLINE, work).await
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
        match Pool::open_store(url).await? {
            Some(pool) => Ok(Self { pool }),
            None => Err(StoreError::UnsupportedUrl(redact_url(url))),
        }
    }

    /// Creates or upgrades the schema; safe to run from several replicas at once (migrations lock).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Pool::MySql(pool) => MYSQL_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    /// Where the database file is, for SQLite.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.pool.sqlite_file()
    }

    /// The pool's connections: (open, idle) (`gatehouse_db_pool_connections{state}`).
    pub fn pool_connections(&self) -> (u32, usize) {
        dialect::on_each_pool!(&self.pool, pool => (pool.size(), pool.num_idle()))
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend().name()
    }

    /// `statement`, written with `$1…$n` placeholders, in this backend's dialect.
    pub(crate) fn sql<'a>(&self, statement: &'a str) -> Cow<'a, str> {
        self.backend().placeholders(statement)
    }

    /// `insert` (with `$n` placeholders) made to skip, not fail on, a row whose `key` exists.
    pub(crate) fn insert_ignoring_duplicates(&self, insert: &str, key: &str) -> String {
        let insert = self.sql(insert);
        match self.backend() {
            Backend::MySql => format!("{insert} ON DUPLICATE KEY UPDATE {key} = {key}"),
            Backend::Sqlite | Backend::Postgres => {
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
        let now: i64 = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar("SELECT CAST(strftime('%s', 'now') AS INTEGER)")
                    .fetch_one(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)")
                    .fetch_one(pool)
                    .await?
            }
            Pool::MySql(pool) => {
                sqlx::query_scalar("SELECT CAST(UNIX_TIMESTAMP() AS SIGNED)")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(now)
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn other_url_schemes_are_refused_without_their_password() {
        let err = Store::connect("http://u:secret@h/db").await.unwrap_err();
        assert!(matches!(err, StoreError::UnsupportedUrl(_)));
        assert!(!err.to_string().contains("secret"));
    }
}
