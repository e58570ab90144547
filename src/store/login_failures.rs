//! The `login_failures` table: the account lockout's counters, one row per login name.
//!
//! Every statement is a single atomic read-modify-write, so replicas sharing the database
//! agree on each count without transactions or locks held across a password verification.

use super::dialect::Backend;
use super::{on_pool, Store, StoreError};

/// What a login attempt was told before its password is verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The attempt holds one place in the count; the caller reports how it ended.
    Reserved,
    /// The name is locked, or its count is full: no verification until `until`.
    Refused { until: i64 },
}

/// A row's counters, as `gatehouse user list` and the failure path read them.
#[derive(Clone, Copy, Debug, sqlx::FromRow)]
pub struct LoginFailures {
    pub failures: i32,
    pub window_started_at: i64,
    pub locked_until: i64,
    pub lockouts: i32,
}

impl Store {
    /// Takes one place in `key`'s count of attempts, unless `max_failures` are taken already
    /// within the window or the name is locked. A window that ran out, or a lockout that
    /// expired, starts a new count first. A name tried before costs one statement.
    pub async fn reserve_login_attempt(
        &self,
        key: &str,
        max_failures: u32,
        window_secs: i64,
        now: i64,
    ) -> Result<Admission, StoreError> {
        let reserve = self.sql(
            "UPDATE login_failures SET failures = failures + 1, updated_at = $1 \
             WHERE name_key = $2 AND locked_until = 0 AND window_started_at > $3 AND failures < $4",
        );
        let restart = self.sql(
            "UPDATE login_failures SET failures = 0, window_started_at = $1, locked_until = 0, \
             updated_at = $2 WHERE name_key = $3 AND locked_until <= $4 \
             AND (locked_until > 0 OR window_started_at <= $5)",
        );
        let insert = self.sql(match self.backend() {
            // Not ON DUPLICATE KEY UPDATE: with the FOUND_ROWS flag sqlx sets, a duplicate
            // would count as a row written, and the insert must tell who wrote it.
            Backend::MySql => {
                "INSERT IGNORE INTO login_failures (name_key, failures, window_started_at, \
                 locked_until, lockouts, updated_at) VALUES ($1, 1, $2, 0, 0, $3)"
            }
            Backend::Sqlite | Backend::Postgres => {
                "INSERT INTO login_failures (name_key, failures, window_started_at, \
                 locked_until, lockouts, updated_at) VALUES ($1, 1, $2, 0, 0, $3) \
                 ON CONFLICT (name_key) DO NOTHING"
            }
        });
        let max = i32::try_from(max_failures).unwrap_or(i32::MAX);
        let window_start = now - window_secs;
        let reserved = on_pool!(self, pool => {
            let try_reserve = || sqlx::query(&reserve)
                .bind(now)
                .bind(key)
                .bind(window_start)
                .bind(max)
                .execute(pool);
            if try_reserve().await?.rows_affected() == 1 {
                true
            } else {
                // A window that ran out or a lockout that expired: start counting again.
                let restarted = sqlx::query(&restart)
                    .bind(now)
                    .bind(now)
                    .bind(key)
                    .bind(now)
                    .bind(window_start)
                    .execute(pool)
                    .await?
                    .rows_affected();
                if restarted == 1 && try_reserve().await?.rows_affected() == 1 {
                    true
                } else {
                    // No row yet (a name never tried, or purged): the first attempt writes
                    // it; one that lost that race to a concurrent attempt tries once more.
                    let inserted = sqlx::query(&insert)
                        .bind(key)
                        .bind(now)
                        .bind(now)
                        .execute(pool)
                        .await?
                        .rows_affected()
                        == 1;
                    inserted || try_reserve().await?.rows_affected() == 1
                }
            }
        });
        if reserved {
            return Ok(Admission::Reserved);
        }
        let row = self.login_failures(key).await?;
        let until = row.map_or(now + 1, |row| {
            if row.locked_until > now {
                row.locked_until
            } else {
                // Full with attempts still being verified: the count frees when they end,
                // or when the window does.
                row.window_started_at + window_secs
            }
        });
        Ok(Admission::Refused {
            until: until.max(now + 1),
        })
    }

    pub async fn login_failures(&self, key: &str) -> Result<Option<LoginFailures>, StoreError> {
        let select = self.sql(
            "SELECT failures, window_started_at, locked_until, lockouts FROM login_failures \
             WHERE name_key = $1",
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&select)
            .bind(key)
            .fetch_optional(pool)
            .await?))
    }

    /// Locks `key` until `until` if its count is full and it is not locked yet; returns
    /// whether this call locked it (concurrent failures lock once).
    pub async fn lock_login_name(
        &self,
        key: &str,
        max_failures: u32,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let lock = self.sql(
            "UPDATE login_failures SET locked_until = $1, lockouts = lockouts + 1, updated_at = $2 \
             WHERE name_key = $3 AND failures >= $4 AND locked_until = 0",
        );
        let max = i32::try_from(max_failures).unwrap_or(i32::MAX);
        Ok(on_pool!(self, pool => sqlx::query(&lock)
            .bind(until)
            .bind(now)
            .bind(key)
            .bind(max)
            .execute(pool)
            .await?
            .rows_affected())
            == 1)
    }

    /// Gives back a place taken by an attempt that ended in neither success nor failure (the
    /// database or the hashing queue failed mid-way).
    pub async fn release_login_attempt(&self, key: &str) -> Result<(), StoreError> {
        let release = self.sql(
            "UPDATE login_failures SET failures = failures - 1 WHERE name_key = $1 AND failures > 0",
        );
        on_pool!(self, pool => sqlx::query(&release).bind(key).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// Starts `key`'s count afresh after a successful login: failures, lockout and the
    /// history of lockouts are forgotten.
    pub async fn reset_login_failures(&self, key: &str, now: i64) -> Result<(), StoreError> {
        let reset = self.sql(
            "UPDATE login_failures SET failures = 0, window_started_at = $1, locked_until = 0, \
             lockouts = 0, updated_at = $2 WHERE name_key = $3",
        );
        on_pool!(self, pool => sqlx::query(&reset)
            .bind(now)
            .bind(now)
            .bind(key)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Deletes `key`'s row (an administrator's unlock). Returns whether there was one.
    pub async fn clear_login_failures(&self, key: &str) -> Result<bool, StoreError> {
        let delete = self.sql("DELETE FROM login_failures WHERE name_key = $1");
        Ok(on_pool!(self, pool => sqlx::query(&delete)
            .bind(key)
            .execute(pool)
            .await?
            .rows_affected())
            > 0)
    }

    /// `(name_key, locked_until)` of every name locked at `now`.
    pub async fn locked_login_names(&self, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let select =
            self.sql("SELECT name_key, locked_until FROM login_failures WHERE locked_until > $1");
        Ok(on_pool!(self, pool => sqlx::query_as(&select)
            .bind(now)
            .fetch_all(pool)
            .await?))
    }

    /// Drops rows untouched since `before` that hold no lock: what keeps a spray of random
    /// names from growing the table without bound.
    pub async fn purge_login_failures(&self, before: i64, now: i64) -> Result<u64, StoreError> {
        let delete =
            self.sql("DELETE FROM login_failures WHERE updated_at < $1 AND locked_until <= $2");
        Ok(on_pool!(self, pool => sqlx::query(&delete)
            .bind(before)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()))
    }
}
