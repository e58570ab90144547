//! The second factor's tables: `mfa_totp` (a user's sealed TOTP secret and the last time step
//! accepted), `mfa_recovery_codes` (keyed hashes) and `mfa_challenges` (logins waiting for
//! their second factor, by the SHA-256 of their mfa_token). What is sealed or hashed, and how,
//! is `auth::mfa`'s business: this file only stores it.
//!
//! Every "once only" rule is one conditional `UPDATE` whose affected-row count decides, so two
//! replicas (or two requests) racing cannot both win.

use super::{on_pool, Store, StoreError};

/// A user's TOTP row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    pub user_id: i64,
    /// The secret, sealed (never the secret itself).
    pub secret_sealed: String,
    /// `None` while pending: enrolled but not confirmed with a code.
    pub confirmed_at: Option<i64>,
    /// The time step of the last code accepted.
    pub last_used_step: Option<i64>,
    pub created_at: i64,
}

/// A login waiting for its second factor.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MfaChallengeRow {
    /// SHA-256 (hex) of the mfa_token.
    pub token_hash: String,
    pub user_id: i64,
    /// The name as typed at the login, which the lockout counts wrong codes under.
    pub login_name: String,
    /// Which login contract's answer completes the login.
    pub contract: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl Store {
    /// The user's TOTP row, pending or active.
    pub async fn totp(&self, user_id: i64) -> Result<Option<TotpRow>, StoreError> {
        let sql = self.sql(
            "SELECT user_id, secret_sealed, confirmed_at, last_used_step, created_at \
             FROM mfa_totp WHERE user_id = $1",
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, TotpRow>(&sql)
            .bind(user_id)
            .fetch_optional(pool)
            .await?))
    }

    /// Stores a new pending secret, replacing a pending one. False when the user has an active
    /// (confirmed) one, which stays.
    pub async fn put_pending_totp(
        &self,
        user_id: i64,
        secret_sealed: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let remove_pending =
            self.sql("DELETE FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NULL");
        let insert = self
            .sql("INSERT INTO mfa_totp (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)");
        let inserted = on_pool!(self, pool => {
            sqlx::query(&remove_pending).bind(user_id).execute(pool).await?;
            sqlx::query(&insert)
                .bind(user_id)
                .bind(secret_sealed)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match inserted {
            Ok(_) => Ok(true),
            // The row that stayed is an active one (or a pending one another request put there
            // a moment ago: the caller retries or reports a conflict, either is right).
            Err(err) => match StoreError::from(err) {
                StoreError::Conflict => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Activates the pending secret `secret_sealed` (the one the code was checked against, not
    /// one that replaced it since), with `step` as the last step used. False when it is no
    /// longer pending.
    pub async fn confirm_totp(
        &self,
        user_id: i64,
        secret_sealed: &str,
        step: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE mfa_totp SET confirmed_at = $1, last_used_step = $2 \
             WHERE user_id = $3 AND secret_sealed = $4 AND confirmed_at IS NULL",
        );
        let rows = on_pool!(self, pool => sqlx::query(&sql)
            .bind(now)
            .bind(step)
            .bind(user_id)
            .bind(secret_sealed)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(rows == 1)
    }

    /// Records that a code of time step `step` was accepted, if no code of that step or a later
    /// one was: the compare-and-set that makes every code single-use on every replica.
    pub async fn advance_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE mfa_totp SET last_used_step = $1 WHERE user_id = $2 \
             AND confirmed_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < $3)",
        );
        let rows = on_pool!(self, pool => sqlx::query(&sql)
            .bind(step)
            .bind(user_id)
            .bind(step)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(rows == 1)
    }

    /// Removes the user's TOTP secret and recovery codes, in one transaction; whether there
    /// was a secret.
    pub async fn delete_totp(&self, user_id: i64) -> Result<bool, StoreError> {
        let codes = self.sql("DELETE FROM mfa_recovery_codes WHERE user_id = $1");
        let totp = self.sql("DELETE FROM mfa_totp WHERE user_id = $1");
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&codes).bind(user_id).execute(&mut *tx).await?;
            let removed = sqlx::query(&totp)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            removed > 0
        }))
    }

    /// Replaces every recovery code of the user by `hashes`, in one transaction.
    pub async fn replace_recovery_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let remove = self.sql("DELETE FROM mfa_recovery_codes WHERE user_id = $1");
        let insert = self.sql(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&remove).bind(user_id).execute(&mut *tx).await?;
            for hash in hashes {
                sqlx::query(&insert)
                    .bind(user_id)
                    .bind(hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Uses the user's unused recovery code with this hash: true for exactly one caller, however
    /// many try at once. (The hash is the lookup key, so nothing is compared byte by byte.)
    pub async fn use_recovery_code(
        &self,
        user_id: i64,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE mfa_recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        );
        let rows = on_pool!(self, pool => sqlx::query(&sql)
            .bind(now)
            .bind(user_id)
            .bind(code_hash)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(rows == 1)
    }

    /// How many of the user's recovery codes are unused.
    pub async fn recovery_codes_left(&self, user_id: i64) -> Result<i64, StoreError> {
        let sql = self
            .sql("SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL");
        Ok(on_pool!(self, pool => sqlx::query_scalar::<_, i64>(&sql)
            .bind(user_id)
            .fetch_one(pool)
            .await?))
    }

    /// Stores a login's challenge, after dropping every expired one (there are few: a challenge
    /// lives minutes, and only logins with a right password make one).
    pub async fn insert_mfa_challenge(
        &self,
        challenge: &MfaChallengeRow,
        now: i64,
    ) -> Result<(), StoreError> {
        let purge = self.sql("DELETE FROM mfa_challenges WHERE expires_at < $1");
        let insert = self.sql(
            "INSERT INTO mfa_challenges (token_hash, user_id, login_name, contract, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        );
        on_pool!(self, pool => {
            sqlx::query(&purge).bind(now).execute(pool).await?;
            sqlx::query(&insert)
                .bind(&challenge.token_hash)
                .bind(challenge.user_id)
                .bind(&challenge.login_name)
                .bind(&challenge.contract)
                .bind(challenge.expires_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The challenge with this token hash, used or not.
    pub async fn mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallengeRow>, StoreError> {
        let sql = self.sql(
            "SELECT token_hash, user_id, login_name, contract, expires_at, used_at \
             FROM mfa_challenges WHERE token_hash = $1",
        );
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, MfaChallengeRow>(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?),
        )
    }

    /// Uses the challenge: true for exactly one caller, and only before it expires.
    pub async fn use_mfa_challenge(&self, token_hash: &str, now: i64) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE mfa_challenges SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3",
        );
        let rows = on_pool!(self, pool => sqlx::query(&sql)
            .bind(now)
            .bind(token_hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(rows == 1)
    }
}
