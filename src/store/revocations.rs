//! The `revoked_tokens` and `deleted_users` tables: what `/validate` must refuse.

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

    /// Unexpired revocations written at or after `since` (all of them for `since = 0`),
    /// as `(jti, expires_at)` pairs.
    pub async fn revoked_tokens_since(
        &self,
        since: i64,
        now: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = self.sql(
            "SELECT jti, expires_at FROM revoked_tokens WHERE revoked_at >= $1 AND expires_at >= $2",
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql)
        .bind(since)
        .bind(now)
        .fetch_all(pool)
        .await?))
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
