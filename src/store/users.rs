//! The `users` table.

use super::{on_pool, Store, StoreError};

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
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub username: Option<String>,
    pub name: String,
    pub password_hash: String,
    pub admin: bool,
}

/// PostgreSQL text cannot hold NUL, so no stored value contains one: a lookup for such a value
/// finds nothing rather than failing.
fn storable(value: &str) -> bool {
    !value.contains('\0')
}

const COLUMNS: &str = "id, email, username, name, password_hash, admin, disabled, created_at";

impl Store {
    /// Inserts a user; `StoreError::Conflict` when the email or username is taken.
    pub async fn insert_user(&self, user: &NewUser, now: i64) -> Result<User, StoreError> {
        let sql = format!(
            "INSERT INTO users (email, username, name, password_hash, admin, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) RETURNING {COLUMNS}"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(&user.email)
            .bind(&user.username)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(user.admin)
            .bind(now)
            .fetch_one(pool)
            .await?))
    }

    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        if !storable(email) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(email).fetch_optional(pool).await?),
        )
    }

    /// Finds a user by username or email (seed 003 accepts either in its `username` field).
    pub async fn find_user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        if !storable(login) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1 OR email = $2 LIMIT 1");
        let email = login.trim().to_lowercase();
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(login)
            .bind(&email)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn find_user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        Ok(
            on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).bind(id).fetch_optional(pool).await?),
        )
    }

    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY id");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql).fetch_all(pool).await?))
    }

    /// Disables or re-enables a user; returns the user, or `None` for an unknown email.
    pub async fn set_user_disabled(
        &self,
        email: &str,
        disabled: bool,
        now: i64,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "UPDATE users SET disabled = $1, updated_at = $2 WHERE email = $3 RETURNING {COLUMNS}"
        );
        Ok(on_pool!(self, pool => sqlx::query_as::<_, User>(&sql)
            .bind(disabled)
            .bind(now)
            .bind(email)
            .fetch_optional(pool)
            .await?))
    }

    /// Replaces a user's password hash: a legacy or outdated hash upgraded after a login.
    pub async fn set_password_hash(
        &self,
        id: i64,
        password_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Deletes a user and records a tombstone, so tokens it still holds are refused everywhere.
    pub async fn delete_user(&self, email: &str, now: i64) -> Result<Option<i64>, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: Option<i64> = sqlx::query_scalar("DELETE FROM users WHERE email = $1 RETURNING id")
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(id) = id {
                sqlx::query("INSERT INTO deleted_users (user_id, deleted_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
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
