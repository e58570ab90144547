//! Key/value settings the service keeps for itself (when `ACCEPT_LEGACY_TOKENS` was turned
//! on; before, the generated signing secret, now kept out of the database).

use super::{on_pool, Store, StoreError};

impl Store {
    /// Stores `value` under `name` unless a value is already there, and returns the stored value,
    /// so that replicas starting together all agree on the first one written.
    pub async fn setting_or_insert(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let insert = self.insert_ignoring_duplicates(
            "INSERT INTO settings (name, value) VALUES ($1, $2)",
            "name",
        );
        let select = self.sql("SELECT value FROM settings WHERE name = $1");
        on_pool!(self, pool => {
            sqlx::query(&insert)
                .bind(name)
                .bind(value)
                .execute(pool)
                .await?;
            Ok(sqlx::query_scalar(&select)
                .bind(name)
                .fetch_one(pool)
                .await?)
        })
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let select = self.sql("SELECT value FROM settings WHERE name = $1");
        Ok(on_pool!(self, pool => sqlx::query_scalar(&select)
            .bind(name)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn delete_setting(&self, name: &str) -> Result<(), StoreError> {
        let delete = self.sql("DELETE FROM settings WHERE name = $1");
        on_pool!(self, pool => sqlx::query(&delete).bind(name).execute(pool).await?.rows_affected());
        Ok(())
    }
}
