//! The `sessions` and `refresh_tokens` tables.

use futures_util::TryStreamExt as _;

use super::{on_pool, Store, StoreError};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub absolute_expires_at: i64,
    pub user_agent: String,
    pub client_ip: String,
    pub revoked_at: Option<i64>,
    /// When the last access token issued for this session expires.
    pub tokens_expire_at: i64,
    /// The generation of the session's current refresh token (see `auth::refresh_token`).
    pub refresh_generation: i64,
    /// When the current generation was reached (`None`: never refreshed).
    pub refresh_rotated_at: Option<i64>,
    /// When and how the user last signed in to this session (see `auth::sign_in`); `None` in
    /// sessions from before these columns.
    pub auth_time: Option<i64>,
    pub amr: Option<String>,
}

impl Session {
    /// Whether the session can still be refreshed.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// Whether an access token of this session may still be accepted somewhere (its `exp` is
    /// at most the session's expiry, plus the clock-skew leeway): such a session can be ended.
    pub fn may_have_live_tokens(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at + crate::clock::CLOCK_SKEW_LEEWAY_SECS >= now
    }
}

/// A refresh token's row, with the session it belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub rotated_at: Option<i64>,
}

const SESSION_COLUMNS: &str =
    "id, user_id, created_at, last_used_at, expires_at, absolute_expires_at, user_agent, client_ip, \
     revoked_at, tokens_expire_at, refresh_generation, refresh_rotated_at, auth_time, amr";

impl Store {
    /// Creates a session (its refresh tokens are derived from its id and generation).
    pub async fn insert_session(&self, session: &Session) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, absolute_expires_at, \
             user_agent, client_ip, tokens_expire_at, auth_time, amr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(&session.id)
            .bind(session.user_id)
            .bind(session.created_at)
            .bind(session.last_used_at)
            .bind(session.expires_at)
            .bind(session.absolute_expires_at)
            .bind(&session.user_agent)
            .bind(&session.client_ip)
            .bind(session.tokens_expire_at)
            .bind(session.auth_time)
            .bind(&session.amr)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    pub async fn find_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        let sql = self.sql(&sql);
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, Session>(&sql).bind(id).fetch_optional(pool).await?),
        )
    }

    /// The user's sessions that are not revoked and expire at or after `expires_after`, newest
    /// first. Pass `now` for the live ones; pass `now - CLOCK_SKEW_LEEWAY_SECS` to include
    /// sessions whose last access token may still be accepted (to end them all).
    pub async fn active_sessions(
        &self,
        user_id: i64,
        expires_after: i64,
    ) -> Result<Vec<Session>, StoreError> {
        let now = expires_after;
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at >= $2 \
             ORDER BY created_at DESC, id"
        );
        let sql = self.sql(&sql);
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, Session>(&sql).bind(user_id).bind(now).fetch_all(pool).await?),
        )
    }

    pub async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRow>, StoreError> {
        let sql = self.sql(
            "SELECT token_hash, session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1",
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, RefreshTokenRow>(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?),
        )
    }

    /// Moves the session's refresh token from generation `from` to the next, slides its expiry,
    /// and records that an access token expiring at `token_expiry` is issued. Returns false
    /// when the session is no longer at `from`: a concurrent refresh won the race.
    pub async fn advance_refresh_generation(
        &self,
        session_id: &str,
        from: i64,
        now: i64,
        (new_expiry, token_expiry): (i64, i64),
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE sessions SET refresh_generation = $1, refresh_rotated_at = $2, last_used_at = $3, \
             expires_at = $4, \
             tokens_expire_at = CASE WHEN tokens_expire_at < $5 THEN $6 ELSE tokens_expire_at END \
             WHERE id = $7 AND refresh_generation = $8 AND revoked_at IS NULL",
        );
        let changed = on_pool!(self, pool => sqlx::query(&sql)
            .bind(from + 1)
            .bind(now)
            .bind(now)
            .bind(new_expiry)
            .bind(token_expiry)
            .bind(token_expiry)
            .bind(session_id)
            .bind(from)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(changed == 1)
    }

    /// Marks a refresh token from before the generation scheme as used, sliding its session's
    /// expiry like a refresh. Returns false when it was used already (a concurrent refresh).
    pub async fn retire_refresh_token(
        &self,
        (session_id, token_hash): (&str, &str),
        now: i64,
        (new_expiry, token_expiry): (i64, i64),
    ) -> Result<bool, StoreError> {
        let retire = self.sql(
            "UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL",
        );
        let slide = self.sql(
            "UPDATE sessions SET last_used_at = $1, expires_at = $2, \
             tokens_expire_at = CASE WHEN tokens_expire_at < $3 THEN $4 ELSE tokens_expire_at END \
             WHERE id = $5",
        );
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let retired = sqlx::query(&retire)
                .bind(now)
                .bind(token_hash)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if retired != 1 {
                return Ok(false);
            }
            sqlx::query(&slide)
                .bind(now)
                .bind(new_expiry)
                .bind(token_expiry)
                .bind(token_expiry)
                .bind(session_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            true
        }))
    }

    /// The user's sessions whose tokens may still be accepted at `live_at`, oldest first,
    /// beyond the newest `keep`: the ones a cap on sessions per user ends.
    pub async fn sessions_beyond(
        &self,
        user_id: i64,
        keep: u64,
        live_at: i64,
    ) -> Result<Vec<String>, StoreError> {
        let count = self.sql(
            "SELECT COUNT(*) FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND tokens_expire_at >= $2",
        );
        let count: i64 = on_pool!(self, pool => sqlx::query_scalar(&count)
            .bind(user_id)
            .bind(live_at)
            .fetch_one(pool)
            .await?);
        let excess = u64::try_from(count).unwrap_or(0).saturating_sub(keep);
        if excess == 0 {
            return Ok(Vec::new());
        }
        let oldest = self.sql(
            "SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND tokens_expire_at >= $2 \
             ORDER BY created_at, id LIMIT $3",
        );
        Ok(on_pool!(self, pool => sqlx::query_scalar(&oldest)
            .bind(user_id)
            .bind(live_at)
            .bind(i64::try_from(excess).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?))
    }

    /// Records that an access token of the session expiring at `token_expiry` was issued.
    pub async fn note_token_expiry(
        &self,
        session_id: &str,
        token_expiry: i64,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE sessions SET tokens_expire_at = $1 WHERE id = $2 AND tokens_expire_at < $3",
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(token_expiry)
            .bind(session_id)
            .bind(token_expiry)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Records a re-authentication in a live session of `user_id`: when and how (`amr`, see
    /// `auth::sign_in`), and that an access token expiring at `token_expiry` is issued.
    /// Returns false when there is no such live session.
    pub async fn renew_session_sign_in(
        &self,
        (session_id, user_id): (&str, i64),
        auth_time: i64,
        amr: &str,
        token_expiry: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE sessions SET auth_time = $1, amr = $2, last_used_at = $3, \
             tokens_expire_at = CASE WHEN tokens_expire_at < $4 THEN $5 ELSE tokens_expire_at END \
             WHERE id = $6 AND user_id = $7 AND revoked_at IS NULL AND expires_at > $8",
        );
        let updated = on_pool!(self, pool => sqlx::query(&sql)
            .bind(auth_time)
            .bind(amr)
            .bind(auth_time)
            .bind(token_expiry)
            .bind(token_expiry)
            .bind(session_id)
            .bind(user_id)
            .bind(auth_time)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Marks sessions revoked (those already revoked keep their time). Returns those that were
    /// active, as `(id, tokens_expire_at)`.
    pub async fn revoke_sessions(
        &self,
        ids: &[String],
        now: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let update =
            self.sql("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL");
        let select = self.sql("SELECT tokens_expire_at FROM sessions WHERE id = $1");
        let mut revoked = Vec::new();
        for id in ids {
            let expiry: Option<i64> = on_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let changed = sqlx::query(&update)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let expiry = if changed == 1 {
                    sqlx::query_scalar(&select).bind(id).fetch_optional(&mut *tx).await?
                } else {
                    None
                };
                tx.commit().await?;
                expiry
            });
            if let Some(expiry) = expiry {
                revoked.push((id.clone(), expiry));
            }
        }
        Ok(revoked)
    }

    /// Ends everything `user_id` holds, in one transaction: every session (one statement,
    /// however many there are) and the old service's tokens issued until `now`.
    pub async fn end_all_of_user(&self, user_id: i64, now: i64) -> Result<(), StoreError> {
        self.end_all_of_user_but(user_id, "", now).await
    }

    /// As [`Self::end_all_of_user`], but session `keep` (the caller's own) goes on.
    pub async fn end_all_of_user_but(
        &self,
        user_id: i64,
        keep: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sessions = self.sql(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3",
        );
        // Never moves back: a later cut-off keeps what an earlier one refused.
        let legacy = self.sql(
            "UPDATE users SET legacy_tokens_revoked_at = $1 \
             WHERE id = $2 AND (legacy_tokens_revoked_at IS NULL OR legacy_tokens_revoked_at < $3)",
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&sessions).bind(now).bind(user_id).bind(keep).execute(&mut *tx).await?;
            sqlx::query(&legacy).bind(now).bind(user_id).bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Sessions revoked at or after `since` whose tokens may still be accepted at `live_at`,
    /// handed to `each` as `(id, tokens_expire_at)` row by row as they arrive.
    pub async fn each_session_revoked_since(
        &self,
        since: i64,
        live_at: i64,
        mut each: impl FnMut(&str, i64) + Send,
    ) -> Result<(), StoreError> {
        let sql = self.sql(
            "SELECT id, tokens_expire_at FROM sessions \
             WHERE revoked_at IS NOT NULL AND revoked_at >= $1 AND tokens_expire_at >= $2",
        );
        on_pool!(self, pool => {
            let mut rows = sqlx::query_as::<_, (String, i64)>(&sql)
                .bind(since)
                .bind(live_at)
                .fetch(pool);
            while let Some((id, tokens_expire_at)) = rows.try_next().await? {
                each(&id, tokens_expire_at);
            }
        });
        Ok(())
    }

    /// Deletes sessions that expired or were revoked, once every access token they issued
    /// expired before `tokens_dead_before` (their refresh tokens go with them).
    pub async fn purge_sessions(
        &self,
        now: i64,
        tokens_dead_before: i64,
    ) -> Result<u64, StoreError> {
        let sql = self.sql(
            "DELETE FROM sessions WHERE (expires_at < $1 OR revoked_at IS NOT NULL) \
             AND tokens_expire_at < $2",
        );
        Ok(on_pool!(self, pool => sqlx::query(&sql)
        .bind(now)
        .bind(tokens_dead_before)
        .execute(pool)
        .await?
        .rows_affected()))
    }
}
