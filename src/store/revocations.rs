//! The `revoked_tokens` and `deleted_users` tables: what `/validate` must refuse.

use futures_util::TryStreamExt as _;
use sqlx::postgres::PgListener;

use super::dialect::Pool;
use super::{on_pool, Store, StoreError};

/// The PostgreSQL channel replicas use to tell each other about revocations.
const REVOCATION_CHANNEL: &str = "gatehouse_revocations";

impl Store {
    /// Records a logged-out token; revoking the same token twice is harmless.
    pub async fn revoke_token(
        &self,
        jti: &str,
        user_id: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = self.insert_ignoring_duplicates(
            "INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4)",
            "jti",
        );
        on_pool!(self, pool => {
            sqlx::query(&sql)
        .bind(jti)
        .bind(user_id)
        .bind(expires_at)
        .bind(now)
        .execute(pool)
        .await?;
        });
        Ok(())
    }

    /// How many revoked token ids and ended sessions are still live at `live_at`: what a full
    /// load is about to read, so that it can size its tables once rather than grow them.
    pub async fn live_revocation_counts(&self, live_at: i64) -> Result<(i64, i64), StoreError> {
        let sql = self.sql(
            "SELECT (SELECT COUNT(*) FROM revoked_tokens WHERE expires_at >= $1), \
             (SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL AND tokens_expire_at >= $2)",
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(live_at)
            .bind(live_at)
            .fetch_one(pool)
            .await?))
    }

    /// Unexpired revocations written at or after `since` (all of them for `since = 0`),
    /// handed to `each` as `(jti, expires_at)` row by row as they arrive: a full load never
    /// holds every row as text at once.
    pub async fn each_revoked_token_since(
        &self,
        since: i64,
        now: i64,
        mut each: impl FnMut(&str, i64) + Send,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "SELECT jti, expires_at FROM revoked_tokens WHERE revoked_at >= $1 AND expires_at >= $2",
        );
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, (String, i64)>(&sql)
                .bind(since)
                .bind(now)
                .fetch(pool);
            while let Some((jti, expires_at)) = rows.try_next().await? {
                each(&jti, expires_at);
            }
        });
        Ok(())
    }

    /// Drops revocations of tokens that have expired anyway, and tombstones older than
    /// `tombstones_before` whose user's last token expired before `tokens_expired_before`.
    /// Returns how many rows went.
    pub async fn purge_expired(
        &self,
        tokens_expired_before: i64,
        tombstones_before: i64,
    ) -> Result<u64, StoreError> {
        let tokens = self.sql("DELETE FROM revoked_tokens WHERE expires_at < $1");
        let tombstones =
            self.sql("DELETE FROM deleted_users WHERE deleted_at < $1 AND tokens_expire_at < $2");
        on_pool!(self, pool => {
            let tokens = sqlx::query(&tokens)
                .bind(tokens_expired_before)
                .execute(pool)
                .await?
                .rows_affected();
            let users = sqlx::query(&tombstones)
                .bind(tombstones_before)
                .bind(tokens_expired_before)
                .execute(pool)
                .await?
                .rows_affected();
            Ok(tokens + users)
        })
    }

    /// Tells every replica listening on this database (PostgreSQL). SQLite has one process;
    /// MySQL has no notifications, so its replicas rely on the periodic poll.
    pub async fn notify_revocation(&self, payload: &str) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            let notify = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(REVOCATION_CHANNEL)
                .bind(payload);
            super::with_deadline(async { Ok(notify.execute(pool).await?) }).await?;
        }
        Ok(())
    }

    /// A connection listening for revocation notifications; `None` on SQLite and MySQL.
    pub async fn revocation_listener(&self) -> Result<Option<PgListener>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(REVOCATION_CHANNEL).await?;
        Ok(Some(listener))
    }
}
