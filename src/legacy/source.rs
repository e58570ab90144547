//! Reading users from a seed service's table on PostgreSQL, MySQL/MariaDB or SQLite.
//!
//! Names come from `LegacyTable` (validated and quoted, see `ident`); values are always bound.
//! Columns are decoded by what they turn out to be (see `decode`); a value that cannot be
//! decoded makes its row unusable (`RowProblem`), never the whole read.

use std::future::poll_fn;
use std::time::Duration;

use sqlx::{ColumnIndex, Decode, Type};
use tokio::sync::mpsc;

use super::decode::decode;
use super::LegacyTable;
use crate::db_url::{normalise_database_url, redact_url};
use crate::store::dialect::{on_each_pool, within, Backend, Pool};
use crate::store::StoreError;

/// A lookup that takes longer than this counts as the legacy database being unavailable.
const LOOKUP_DEADLINE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("unsupported legacy database URL {0:?}: use postgres://, mysql:// (MariaDB too) or sqlite://")]
    UnsupportedUrl(String),
    /// The legacy database did not answer, or the connection is gone; worth retrying later.
    #[error("the legacy database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// It answered with an error: a missing table or column, bad credentials, …
    #[error("reading the legacy table failed: {0}")]
    Query(#[source] sqlx::Error),
}

impl From<sqlx::Error> for SourceError {
    /// The same line as Gatehouse's own store draws: overload and lost connections (SQLite
    /// busy, MySQL lock timeouts, PostgreSQL shutting down or out of connections) are
    /// `Unavailable`; anything else the database says is `Query`.
    fn from(err: sqlx::Error) -> Self {
        let postgres_unavailable = matches!(
            &err,
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("53300" | "57P01" | "57P02" | "57P03"))
        );
        match StoreError::from(err) {
            StoreError::Unavailable(err) => SourceError::Unavailable(err),
            StoreError::Other(err) if postgres_unavailable => SourceError::Unavailable(err),
            StoreError::Other(err) => SourceError::Query(err),
            // A unique violation cannot come from a SELECT; keep the cause as it came.
            other => SourceError::Query(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

/// One legacy user, as read. `email` and `password` are as stored (not yet normalised).
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyRow {
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub username: Option<String>,
    /// `None`: no admin column, or NULL in it.
    pub admin: Option<bool>,
}

/// Never shows the password column's value.
impl std::fmt::Debug for LegacyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyRow")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("username", &self.username)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

/// Why a row could not be used; `Display` is the reason kind shown in the import summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    #[error("email is NULL")]
    NullEmail,
    #[error("password is NULL")]
    NullPassword,
    #[error("{0} column is neither text nor UTF-8 bytes")]
    Unreadable(&'static str),
    #[error("admin value is not a boolean, 0/1 or true/false")]
    BadAdmin,
    /// Several rows match one email case-insensitively: which one is the user is unclear.
    #[error("several legacy rows have this email")]
    Ambiguous,
}

/// What `find_by_email` found.
#[derive(Debug)]
pub enum Lookup {
    Missing,
    Found(LegacyRow),
    Unusable(RowProblem),
}

/// A legacy user table, opened lazily: no connection is made until the first query.
pub struct LegacySource {
    pool: Pool,
    layout: Layout,
    /// `SELECT email, password[, name][, username][, admin] FROM table`
    select_all: String,
    /// `select_all` + a case-insensitive match on the trimmed email, at most two rows.
    select_one: String,
    /// `select_all` + an exact match on the username, at most two rows (with a username column).
    select_by_username: Option<String>,
    description: String,
}

/// Where each optional column sits in the select list (email is 0, password 1).
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    pub name: Option<usize>,
    pub username: Option<usize>,
    pub admin: Option<usize>,
}

impl LegacySource {
    /// Prepares a pool for `url` (`postgresql+psycopg2://` and `mysql+pymysql://` are accepted)
    /// without connecting (see `Pool::open_reader`). A SQLite file must already exist.
    pub fn open(url: &str, table: &LegacyTable) -> Result<Self, SourceError> {
        let url = normalise_database_url(url);
        let unsupported = || SourceError::UnsupportedUrl(redact_url(&url));
        let pool = Pool::open_reader(&url)
            .map_err(|_| unsupported())?
            .ok_or_else(unsupported)?;
        let dialect = pool.backend();
        let mut columns = vec![table.email.quoted(dialect), table.password.quoted(dialect)];
        let mut index = |column: &Option<super::ident::Ident>| {
            column.as_ref().map(|c| {
                columns.push(c.quoted(dialect));
                columns.len() - 1
            })
        };
        let layout = Layout {
            name: index(&table.name),
            username: index(&table.username),
            admin: index(&table.admin),
        };
        let select_all = format!(
            "SELECT {} FROM {}",
            columns.join(", "),
            table.table.quoted(dialect)
        );
        let select_one = dialect
            .placeholders(&format!(
                "{select_all} WHERE LOWER(TRIM({})) = LOWER($1) LIMIT 2",
                table.email.quoted(dialect)
            ))
            .into_owned();
        // Exact, as Gatehouse compares usernames; MySQL's default collations ignore case, so
        // there the comparison is made on the bytes.
        let exact = if dialect == Backend::MySql {
            "BINARY $1"
        } else {
            "$1"
        };
        let select_by_username = table.username.as_ref().map(|column| {
            let sql = format!(
                "{select_all} WHERE {} = {exact} LIMIT 2",
                column.quoted(dialect)
            );
            dialect.placeholders(&sql).into_owned()
        });
        Ok(Self {
            pool,
            layout,
            select_all,
            select_one,
            select_by_username,
            description: format!("table {} at {}", table.table, redact_url(&url)),
        })
    }

    pub fn dialect(&self) -> Backend {
        self.pool.backend()
    }

    /// "table auth_user at postgres://u:***@host/db", for messages.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Connects and checks that the table and columns exist, reading no rows.
    pub async fn probe(&self) -> Result<(), SourceError> {
        let sql = format!("{} WHERE 1 = 0", self.select_all);
        let checked = async {
            on_each_pool!(&self.pool, p => sqlx::query(&sql).fetch_optional(p).await.map(drop))
        };
        deadline(checked).await
    }

    /// The row for `email` (trimmed and compared case-insensitively on both sides).
    pub async fn find_by_email(&self, email: &str) -> Result<Lookup, SourceError> {
        self.find_one(&self.select_one, email.trim()).await
    }

    /// The row whose username is exactly `username`; `Missing` without a username column.
    pub async fn find_by_username(&self, username: &str) -> Result<Lookup, SourceError> {
        match &self.select_by_username {
            Some(sql) => self.find_one(sql, username).await,
            None => Ok(Lookup::Missing),
        }
    }

    /// The one row `sql` finds for `value`: more than one is `Ambiguous`. A value no database
    /// can hold (a NUL character: PostgreSQL refuses it outright) matches no row.
    async fn find_one(&self, sql: &str, value: &str) -> Result<Lookup, SourceError> {
        if value.contains('\0') {
            return Ok(Lookup::Missing);
        }
        let layout = self.layout;
        let rows: Vec<Result<LegacyRow, RowProblem>> = deadline(async {
            Ok(on_each_pool!(&self.pool, p => sqlx::query(sql)
                .bind(value)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| decode(r, layout))
                .collect()))
        })
        .await?;
        Ok(match rows.len() {
            0 => Lookup::Missing,
            1 => match rows.into_iter().next() {
                Some(Ok(row)) => Lookup::Found(row),
                Some(Err(problem)) => Lookup::Unusable(problem),
                None => Lookup::Missing,
            },
            _ => Lookup::Unusable(RowProblem::Ambiguous),
        })
    }

    /// Every row, streamed: a reader task fetches ahead at most `READ_AHEAD` rows, so memory
    /// stays bounded however large the table is. Dropping `Rows` stops the read.
    pub fn rows(&self) -> Rows {
        let (tx, rx) = mpsc::channel(READ_AHEAD);
        let sql = self.select_all.clone();
        let layout = self.layout;
        on_each_pool!(&self.pool, p => spawn_reader(p.clone(), sql, layout, tx));
        Rows { rx }
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

async fn deadline<T>(
    work: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, SourceError> {
    within(LOOKUP_DEADLINE, async { Ok(work.await?) }).await
}

/// Rows read ahead of the consumer.
const READ_AHEAD: usize = 256;

type RowResult = Result<Result<LegacyRow, RowProblem>, SourceError>;

/// The rows of a legacy table, one at a time.
pub struct Rows {
    rx: mpsc::Receiver<RowResult>,
}

impl Rows {
    /// The next row (`Ok(Err(problem))` for a row that cannot be used); `None` at the end.
    /// After an `Err`, the read is over.
    pub async fn next(&mut self) -> Option<RowResult> {
        self.rx.recv().await
    }
}

fn spawn_reader<DB>(pool: sqlx::Pool<DB>, sql: String, layout: Layout, tx: mpsc::Sender<RowResult>)
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Vec<u8>: Decode<'r, DB> + Type<DB>,
    for<'r> bool: Decode<'r, DB> + Type<DB>,
    for<'r> i16: Decode<'r, DB> + Type<DB>,
    for<'r> i32: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    tokio::spawn(async move {
        let mut stream = sqlx::query(&sql).fetch(&pool);
        // `poll_next` of the boxed `dyn Stream`: no stream-combinator crate needed.
        while let Some(item) = poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
            let item = item
                .map(|row| decode(&row, layout))
                .map_err(SourceError::from);
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::ident::{Ident, TableName};
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
    use std::str::FromStr;

    /// A new SQLite file holding one table made by `ddl`: its directory, URL and a pool on it.
    async fn sqlite_table(ddl: &str) -> (tempfile::TempDir, String, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("legacy.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        sqlx::query(ddl).execute(&pool).await.unwrap();
        (dir, url, pool)
    }

    fn table(name: &str, admin: Option<&str>) -> LegacyTable {
        LegacyTable {
            table: TableName::parse(name).unwrap(),
            email: Ident::parse("email", "email column").unwrap(),
            password: Ident::parse("password", "password column").unwrap(),
            name: None,
            username: None,
            admin: admin.map(|a| Ident::parse(a, "admin column").unwrap()),
        }
    }

    #[tokio::test]
    async fn statements_quote_names_per_dialect() {
        let pg =
            LegacySource::open("postgresql+psycopg2://u:pw@h/db", &table("user", None)).unwrap();
        assert_eq!(pg.dialect(), Backend::Postgres);
        assert_eq!(pg.select_all, r#"SELECT "email", "password" FROM "user""#);
        assert!(pg
            .select_one
            .ends_with(r#"WHERE LOWER(TRIM("email")) = LOWER($1) LIMIT 2"#));
        assert!(!pg.description().contains("pw"));
        let my =
            LegacySource::open("mysql+pymysql://u@h/db", &table("user", Some("is_admin"))).unwrap();
        assert_eq!(
            my.select_all,
            "SELECT `email`, `password`, `is_admin` FROM `user`"
        );
        assert!(my.select_one.ends_with("= LOWER(?) LIMIT 2"));
    }

    #[test]
    fn other_schemes_are_refused() {
        let err = LegacySource::open("http://u:pw@h/db", &table("user", None))
            .err()
            .unwrap();
        assert!(matches!(err, SourceError::UnsupportedUrl(_)));
        assert!(!err.to_string().contains("pw"));
    }

    #[tokio::test]
    async fn sqlite_rows_decode_odd_column_types() {
        let (_dir, url, pool) =
            sqlite_table("CREATE TABLE user (email TEXT, password BLOB, admin TEXT)").await;
        for (email, password, admin) in [
            (
                Some("Ada@Example.com "),
                Some(b"plain-pw".to_vec()),
                Some("true"),
            ),
            (None, Some(b"x".to_vec()), None),
            (Some("bob@example.com"), Some(vec![0xff, 0xfe]), None),
            (
                Some("cy@example.com"),
                Some(b"pw".to_vec()),
                Some("perhaps"),
            ),
        ] {
            sqlx::query("INSERT INTO user VALUES (?, ?, ?)")
                .bind(email)
                .bind(password)
                .bind(admin)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;

        let source = LegacySource::open(&url, &table("user", Some("admin"))).unwrap();
        source.probe().await.unwrap();
        let mut rows = source.rows();
        let mut seen = Vec::new();
        while let Some(row) = rows.next().await {
            seen.push(row.unwrap());
        }
        assert_eq!(seen.len(), 4);
        assert_eq!(
            seen[0],
            Ok(LegacyRow {
                email: "Ada@Example.com ".into(),
                password: "plain-pw".into(),
                name: None,
                username: None,
                admin: Some(true)
            })
        );
        assert_eq!(seen[1], Err(RowProblem::NullEmail));
        assert_eq!(seen[2], Err(RowProblem::Unreadable("password")));
        assert_eq!(seen[3], Err(RowProblem::BadAdmin));
        drop(rows);

        match source.find_by_email("ADA@example.COM").await.unwrap() {
            Lookup::Found(row) => assert_eq!(row.password, "plain-pw"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            source.find_by_email("nobody@example.com").await.unwrap(),
            Lookup::Missing
        ));
    }

    #[tokio::test]
    async fn a_mistyped_sqlite_column_is_an_error_not_a_string() {
        let (_dir, url, pool) = sqlite_table("CREATE TABLE user (email TEXT, password TEXT)").await;
        pool.close().await;
        let mut mistyped = table("user", None);
        mistyped.email = Ident::parse("mail", "email column").unwrap();
        let source = LegacySource::open(&url, &mistyped).unwrap();
        assert!(matches!(source.probe().await, Err(SourceError::Query(_))));
        assert!(LegacySource::open(&url, &table("user", None))
            .unwrap()
            .probe()
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn a_missing_sqlite_file_is_an_error_not_a_new_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("absent.db").display());
        let source = LegacySource::open(&url, &table("user", None)).unwrap();
        assert!(source.probe().await.is_err());
        assert!(!dir.path().join("absent.db").exists());
    }
}
