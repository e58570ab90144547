//! A fresh database per test: a SQLite file in a temporary directory, or a new PostgreSQL or
//! MySQL/MariaDB database.

use std::hash::{BuildHasher, Hasher};

use sqlx::{Connection, Executor, MySqlConnection, PgConnection};

/// `bytes` random bytes as lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(out.len());
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(bytes * 2);
    out
}

pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
    MySql { admin_url: String, name: String },
}

pub async fn create_postgres_database(admin_url: &str) -> (String, TestDatabase) {
    assert!(
        admin_url.starts_with("postgres://") || admin_url.starts_with("postgresql://"),
        "TEST_DATABASE_URL must be a postgres:// URL, got {admin_url:?}"
    );
    let mut conn = PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
    let name = format!("gatehouse_test_{}", random_hex(8));
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    let _ = conn.close().await;
    let url = with_database_name(admin_url, &name);
    (
        url,
        TestDatabase::Postgres {
            admin_url: admin_url.to_owned(),
            name,
        },
    )
}

pub async fn create_mysql_database(admin_url: &str) -> (String, TestDatabase) {
    assert!(
        admin_url.starts_with("mysql://") || admin_url.starts_with("mariadb://"),
        "TEST_MYSQL_URL must be a mysql:// URL, got {admin_url:?}"
    );
    let mut conn = MySqlConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("TEST_MYSQL_URL is set but MySQL/MariaDB is unreachable: {e}"));
    let name = format!("gatehouse_test_{}", random_hex(8));
    conn.execute(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4").as_str())
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
    let _ = conn.close().await;
    let url = with_database_name(admin_url, &name);
    (
        url,
        TestDatabase::MySql {
            admin_url: admin_url.to_owned(),
            name,
        },
    )
}

/// `postgres://u@h:5432/old?x=y` -> `postgres://u@h:5432/NAME?x=y`.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{}{}", &base[..path_start], name, query)
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite(_) => {}
            TestDatabase::Postgres { admin_url, name } => drop_database(admin_url, name, false),
            TestDatabase::MySql { admin_url, name } => drop_database(admin_url, name, true),
        }
    }
}

/// Drops database `name` on the server at `admin_url` (MySQL when `mysql`, else PostgreSQL).
/// Best effort, on its own thread and runtime, since `Drop` cannot await.
pub fn drop_database(admin_url: &str, name: &str, mysql: bool) {
    let admin_url = admin_url.to_owned();
    let sql = if mysql {
        format!("DROP DATABASE IF EXISTS `{name}`")
    } else {
        format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)
    };
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            if mysql {
                let mut conn = MySqlConnection::connect(&admin_url).await.ok()?;
                conn.execute(sql.as_str()).await.ok()?;
                return conn.close().await.ok();
            }
            let mut conn = PgConnection::connect(&admin_url).await.ok()?;
            conn.execute(sql.as_str()).await.ok()?;
            conn.close().await.ok()
        })
    })
    .join();
    if !matches!(dropped, Ok(Some(()))) {
        eprintln!("warning: could not drop the test database {name}");
    }
}

/// Runs `sql` on the database at `url` (SQLite, PostgreSQL or MySQL) and returns the first
/// column of its first row as a number (0 when there is no row): for tests that look at what
/// the server stored.
pub async fn query_number(url: &str, sql: &str) -> i64 {
    use sqlx::Row as _;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("connect");
        let row = conn.fetch_optional(sql).await.expect("query");
        return row.map_or(0, |r| r.try_get::<i64, _>(0).expect("a number"));
    }
    if url.starts_with("mysql:") {
        let mut conn = MySqlConnection::connect(url).await.expect("connect");
        let row = conn.fetch_optional(sql).await.expect("query");
        return row.map_or(0, |r| r.try_get::<i64, _>(0).expect("a number"));
    }
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let row = conn.fetch_optional(sql).await.expect("query");
    row.map_or(0, |r| r.try_get::<i64, _>(0).expect("a number"))
}
