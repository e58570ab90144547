//! The `users` table.

use super::dialect::Backend;
use super::{on_pool, Store, StoreError};
use crate::validation::email_key;

/// A stored user. `password_hash` never leaves the service: no `Serialize` here on purpose.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    pub password_hash: String,
    pub admin: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// For users who came from the old service: their row's email there, exactly as stored.
    pub legacy_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    pub password_hash: String,
    pub admin: bool,
    /// Set for users copied from the old service's table (see `User::legacy_name`).
    pub legacy_name: Option<String>,
}

/// PostgreSQL text cannot hold NUL, so no stored value contains one: a lookup for such a value
/// finds nothing rather than failing.
fn storable(value: &str) -> bool {
    !value.contains('\0')
}

impl Store {
    /// The `User` columns. MySQL's email and username compare byte-exactly (`utf8mb4_bin`),
    /// which sqlx would read as bytes; the cast reads them as text.
    fn user_columns(&self) -> &'static str {
        match self.backend() {
            Backend::MySql => {
                "id, CAST(email AS CHAR) AS email, CAST(username AS CHAR) AS username, \
                 name, password_hash, admin, disabled, created_at, \
                 CAST(legacy_name AS CHAR) AS legacy_name"
            }
            Backend::Sqlite | Backend::Postgres => {
                "id, email, username, name, password_hash, admin, disabled, created_at, legacy_name"
            }
        }
    }

    fn select_user_by_email(&self) -> String {
        let columns = self.user_columns();
        self.sql(&format!("SELECT {columns} FROM users WHERE email = $1"))
            .into_owned()
    }
}

impl Store {
    /// Inserts a user; `StoreError::Conflict` when the email or username is taken.
    pub async fn insert_user(&self, user: &NewUser, now: i64) -> Result<User, StoreError> {
        // Read back by email (unique) in the same transaction: MySQL has no `RETURNING`.
        let insert = self.sql(
            "INSERT INTO users (email, username, name, password_hash, admin, disabled, created_at, \
             updated_at, legacy_name) VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7, $8)",
        );
        let select = self.select_user_by_email();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&insert)
                .bind(&user.email)
                .bind(&user.username)
                .bind(&user.name)
                .bind(&user.password_hash)
                .bind(user.admin)
                .bind(now)
                .bind(now)
                .bind(&user.legacy_name)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query_as::<_, User>(&select)
                .bind(&user.email)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        }))
    }

    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        if !storable(email) {
            return Ok(None);
        }
        let sql = self.select_user_by_email();
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(email).fetch_optional(pool).await?),
        )
    }

    /// Finds a user by username or email (seed 003 accepts either in its `username` field).
    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        if !storable(login) {
            return Ok(None);
        }
        let columns = self.user_columns();
        let sql = format!("SELECT {columns} FROM users WHERE username = $1 OR email = $2 LIMIT 1");
        let sql = self.sql(&sql);
        let email = email_key(login);
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(login)
            .bind(&email)
            .fetch_optional(pool)
            .await?))
    }

    /// The users whose old-service row had exactly this email (`legacy_name`); at most two,
    /// enough to tell one from several.
    pub async fn find_users_by_legacy_name(&self, name: &str) -> Result<Vec<User>, StoreError> {
        if !storable(name) {
            return Ok(Vec::new());
        }
        let columns = self.user_columns();
        let sql = format!("SELECT {columns} FROM users WHERE legacy_name = $1 LIMIT 2");
        let sql = self.sql(&sql);
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(name).fetch_all(pool).await?),
        )
    }

    pub async fn find_user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let columns = self.user_columns();
        let sql = format!("SELECT {columns} FROM users WHERE id = $1");
        let sql = self.sql(&sql);
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(pool).await?),
        )
    }

    /// Whether any user exists (so tokens may have been issued before).
    pub async fn has_users(&self) -> Result<bool, StoreError> {
        let sql = "SELECT id FROM users LIMIT 1";
        let any: Option<i64> =
            on_pool!(self, pool => sqlx::query_scalar(sql).fetch_optional(pool).await?);
        Ok(any.is_some())
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let columns = self.user_columns();
        let sql = format!("SELECT {columns} FROM users ORDER BY id");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).fetch_all(pool).await?))
    }

    /// Disables or re-enables a user; returns the user, or `None` for an unknown email.
    pub async fn set_user_disabled(
        &self,
        email: &str,
        disabled: bool,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        self.set_user_flag("disabled", email, disabled, now).await
    }

    /// Grants or removes admin; returns the user, or `None` for an unknown email.
    pub async fn set_user_admin(
        &self,
        email: &str,
        admin: bool,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        self.set_user_flag("admin", email, admin, now).await
    }

    /// Sets one of the boolean columns `disabled` or `admin` (never caller input).
    async fn set_user_flag(
        &self,
        column: &'static str,
        email: &str,
        value: bool,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let update = format!("UPDATE users SET {column} = $1, updated_at = $2 WHERE email = $3");
        let update = self.sql(&update);
        let select = self.select_user_by_email();
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&update)
                .bind(value)
                .bind(now)
                .bind(email)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query_as::<_, User>(&select)
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        }))
    }

    /// Sets a user's password hash; returns the user, or `None` for an unknown email.
    pub async fn set_password_hash(
        &self,
        email: &str,
        hash: &str,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let update =
            self.sql("UPDATE users SET password_hash = $1, updated_at = $2 WHERE email = $3");
        on_pool!(self, pool => sqlx::query(&update)
            .bind(hash)
            .bind(now)
            .bind(email)
            .execute(pool)
            .await?
            .rows_affected());
        self.find_user_by_email(email).await
    }

    /// Replaces a user's password hash if it is still `old_hash` (an upgrade after a login must
    /// not overwrite a password changed in the meantime). Returns whether it was replaced.
    pub async fn replace_password_hash(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4",
        );
        let replaced = on_pool!(self, pool => sqlx::query(&sql)
            .bind(new_hash)
            .bind(now)
            .bind(id)
            .bind(old_hash)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(replaced == 1)
    }

    /// Deletes a user and records a tombstone, so tokens it still holds are refused everywhere.
    pub async fn delete_user(&self, email: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let select = self.sql("SELECT id FROM users WHERE email = $1");
        let delete = self.sql("DELETE FROM users WHERE id = $1");
        // Read before the delete takes the sessions with it.
        let last_token =
            self.sql("SELECT COALESCE(MAX(tokens_expire_at), 0) FROM sessions WHERE user_id = $1");
        let tombstone = self.insert_ignoring_duplicates(
            "INSERT INTO deleted_users (user_id, deleted_at, tokens_expire_at) VALUES ($1, $2, $3)",
            "user_id",
        );
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar(&select).bind(email).fetch_optional(&mut *tx).await?;
            match id {
                None => None,
                Some(id) => {
                    let tokens_expire_at: i64 = sqlx::query_scalar(&last_token).bind(id).fetch_one(&mut *tx).await?;
                    let deleted = sqlx::query(&delete).bind(id).execute(&mut *tx).await?.rows_affected();
                    sqlx::query(&tombstone).bind(id).bind(now).bind(tokens_expire_at).execute(&mut *tx).await?;
                    tx.commit().await?;
                    // A concurrent delete of the same user got there first: it reports the deletion.
                    (deleted == 1).then_some(id)
                }
            }
        }))
    }

    /// User id -> the time at or before which its legacy tokens are refused.
    pub async fn legacy_token_cutoffs(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query_as(
            "SELECT id, legacy_tokens_revoked_at FROM users WHERE legacy_tokens_revoked_at IS NOT NULL"
        )
        .fetch_all(pool)
        .await?))
    }

    /// Ids of users whose tokens must be refused: disabled ones and deleted ones.
    pub async fn blocked_user_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, pool => sqlx::query_scalar(
            "SELECT id FROM users WHERE disabled UNION SELECT user_id FROM deleted_users"
        )
        .fetch_all(pool)
        .await?))
    }
}

#[cfg(test)]
impl User {
    /// Ada, user 7, an admin: for the unit tests of what is made from a user.
    pub fn example() -> Self {
        Self {
            id: 7,
            email: "ada@example.com".into(),
            username: None,
            name: "Ada".into(),
            password_hash: String::new(),
            admin: true,
            disabled: false,
            created_at: 0,
            legacy_name: None,
        }
    }
}
