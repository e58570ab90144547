//! The `oauth_clients` table: the services allowed to introspect and revoke tokens.

use super::{on_pool, Store, StoreError};

/// A stored client. `secret_hash` is the SHA-256 of its secret, never the secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_client(&self, client: &ClientRow) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO oauth_clients (id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)",
        );
        on_pool!(self, pool => sqlx::query(&sql)
            .bind(&client.id)
            .bind(&client.name)
            .bind(&client.secret_hash)
            .bind(client.created_at)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// The client with this id: one read by primary key.
    pub async fn find_client(&self, id: &str) -> Result<Option<ClientRow>, StoreError> {
        let sql =
            self.sql("SELECT id, name, secret_hash, created_at FROM oauth_clients WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as::<_, ClientRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    /// Every client, oldest first.
    pub async fn list_clients(&self) -> Result<Vec<ClientRow>, StoreError> {
        let sql =
            "SELECT id, name, secret_hash, created_at FROM oauth_clients ORDER BY created_at, id";
        Ok(on_pool!(self, pool => sqlx::query_as::<_, ClientRow>(sql)
            .fetch_all(pool)
            .await?))
    }

    /// Deletes the client; false when there was none with this id.
    pub async fn delete_client(&self, id: &str) -> Result<bool, StoreError> {
        let sql = self.sql("DELETE FROM oauth_clients WHERE id = $1");
        let deleted = on_pool!(self, pool => sqlx::query(&sql)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(deleted > 0)
    }
}
