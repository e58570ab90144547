//! The `signing_keys` table: every key tokens were signed with, its public half, its sealed
//! private half, and the timestamps its state is computed from (`auth::keys`).

use super::{on_pool, Store, StoreError};

/// One row of `signing_keys`, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    /// Orders the keys: the current one is the highest `seq` whose `activates_at` has passed.
    pub seq: i64,
    pub algorithm: String,
    /// The public key as a JWK (JSON); empty for HS256.
    pub public_jwk: String,
    /// Sealed private key; `None` for HS256 and keys held in `JWT_PRIVATE_KEY_FILE`.
    pub private_key: Option<String>,
    pub created_at: i64,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
}

const COLUMNS: &str =
    "kid, seq, algorithm, public_jwk, private_key, created_at, activates_at, retired_at";

impl Store {
    /// Every key, in `seq` order.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM signing_keys ORDER BY seq");
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, SigningKeyRow>(&sql)
            .fetch_all(pool)
            .await?),
        )
    }

    /// Adds a key. `StoreError::Conflict` when its `seq` (or `kid`) is taken: another process
    /// added a key first, and the caller re-reads.
    pub async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError> {
        let insert =
            format!("INSERT INTO signing_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        let sql = self.sql(&insert);
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(&key.kid)
            .bind(key.seq)
            .bind(&key.algorithm)
            .bind(&key.public_jwk)
            .bind(&key.private_key)
            .bind(key.created_at)
            .bind(key.activates_at)
            .bind(key.retired_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Makes an existing key (HS256's, whose kid comes from the secret) the newest again:
    /// a new `seq`, signing from `activates_at`. `StoreError::Conflict` when `seq` is taken.
    pub async fn reactivate_signing_key(
        &self,
        kid: &str,
        seq: i64,
        activates_at: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE signing_keys SET seq = $1, activates_at = $2, retired_at = NULL WHERE kid = $3",
        );
        let rows = on_pool!(self, pool => sqlx::query(&sql)
            .bind(seq)
            .bind(activates_at)
            .bind(kid)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(rows == 1)
    }

    /// Moves key `kid`'s activation to `activates_at`, only while it has not activated at
    /// `now` nor been retired. Returns whether it moved.
    pub async fn schedule_signing_key(
        &self,
        kid: &str,
        activates_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE signing_keys SET activates_at = $1 \
             WHERE kid = $2 AND activates_at > $3 AND retired_at IS NULL",
        );
        let moved = on_pool!(self, pool => sqlx::query(&sql)
            .bind(activates_at)
            .bind(kid)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(moved == 1)
    }

    /// Retires a key at `now`: its tokens are refused from then on. False when no such key
    /// exists or it was already retired.
    pub async fn retire_signing_key(&self, kid: &str, now: i64) -> Result<bool, StoreError> {
        let sql = self
            .sql("UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL");
        let rows = on_pool!(self, pool => sqlx::query(&sql)
            .bind(now)
            .bind(kid)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(rows == 1)
    }
}
