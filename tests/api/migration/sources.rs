//! Seed-style legacy databases: a SQLite file, or a fresh PostgreSQL or MariaDB database per
//! test (`TEST_DATABASE_URL`, `TEST_MYSQL_URL`; skipped when unset, required in CI).

use sqlx::mysql::MySqlPool;
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::{Connection, Executor, MySqlConnection, PgConnection};
use std::str::FromStr;

use crate::helpers::{drop_database, random_hex, server_url, with_database_name};

/// A value to bind into a legacy row.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Null,
}

pub fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
    MySql(MySqlPool),
}

enum Cleanup {
    Directory(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
    MySql { admin_url: String, name: String },
}

/// A legacy database the test fills, and the URL `gatehouse import --from` reads it with.
pub struct LegacyDb {
    pub url: String,
    pool: Pool,
    cleanup: Cleanup,
}

impl LegacyDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("legacy.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .expect("a SQLite URL")
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options)
            .await
            .expect("create the legacy SQLite file");
        Self {
            url,
            pool: Pool::Sqlite(pool),
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// A new database on the `TEST_DATABASE_URL` server; `None` (skip) when unset outside CI.
    pub async fn postgres() -> Option<Self> {
        let admin_url = server_url("TEST_DATABASE_URL")?;
        let name = format!("gatehouse_legacy_{}", random_hex(8));
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but unreachable: {e}"));
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        let url = with_database_name(&admin_url, &name);
        let pool = PgPool::connect(&url)
            .await
            .expect("connect to the legacy database");
        Some(Self {
            url,
            pool: Pool::Postgres(pool),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// A new database on the `TEST_MYSQL_URL` server (MariaDB in CI); `None` (skip) when unset
    /// outside CI.
    pub async fn mysql() -> Option<Self> {
        let admin_url = server_url("TEST_MYSQL_URL")?;
        let name = format!("gatehouse_legacy_{}", random_hex(8));
        let mut conn = MySqlConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("TEST_MYSQL_URL is set but unreachable: {e}"));
        conn.execute(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4").as_str())
            .await
            .expect("CREATE DATABASE");
        let _ = conn.close().await;
        let url = with_database_name(&admin_url, &name);
        let pool = MySqlPool::connect(&url)
            .await
            .expect("connect to the legacy database");
        Some(Self {
            url,
            pool: Pool::MySql(pool),
            cleanup: Cleanup::MySql { admin_url, name },
        })
    }

    pub async fn execute(&self, sql: &str) {
        let done = match &self.pool {
            Pool::Sqlite(p) => p.execute(sql).await.map(drop),
            Pool::Postgres(p) => p.execute(sql).await.map(drop),
            Pool::MySql(p) => p.execute(sql).await.map(drop),
        };
        done.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Inserts `rows` into `table` (names written as the dialect needs them).
    pub async fn insert(&self, table: &str, columns: &[&str], rows: Vec<Vec<Value>>) {
        let mysql = matches!(self.pool, Pool::MySql(_));
        let placeholders: Vec<String> = (1..=columns.len())
            .map(|i| {
                if mysql {
                    "?".to_owned()
                } else {
                    format!("${i}")
                }
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            placeholders.join(", ")
        );
        macro_rules! run {
            ($pool:expr, $row:expr) => {{
                let mut query = sqlx::query(&sql);
                for value in $row {
                    query = match value {
                        Value::Text(v) => query.bind(v),
                        Value::Bytes(v) => query.bind(v),
                        Value::Bool(v) => query.bind(v),
                        Value::Null => query.bind(None::<String>),
                    };
                }
                query.execute($pool).await.map(drop)
            }};
        }
        for row in rows {
            let done = match &self.pool {
                Pool::Sqlite(p) => run!(p, row),
                Pool::Postgres(p) => run!(p, row),
                Pool::MySql(p) => run!(p, row),
            };
            done.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}

impl Drop for LegacyDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(_) => {}
            Cleanup::Postgres { admin_url, name } => drop_database(admin_url, name, false),
            Cleanup::MySql { admin_url, name } => drop_database(admin_url, name, true),
        }
    }
}
