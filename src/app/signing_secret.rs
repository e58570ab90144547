//! Where the HS256 signing secret comes from, kept out of the database: anyone who can read
//! the database (a backup, a read replica, the old service sharing it) must not be able to
//! forge tokens with it.
//!
//! In this order:
//! 1. `JWT_SECRET` (or the seeds' `JWT_SECRET_KEY`, `SECRET_KEY`).
//! 2. `JWT_SECRET_FILE`: read (a mounted secret); on SQLite created if missing.
//! 3. SQLite: a file beside the database, `<database>.jwt-secret`, created with mode 0600 by
//!    the first start.
//! 4. PostgreSQL or MySQL with neither: start-up is refused. Replicas must share one secret,
//!    and the database is no place for it.
//!
//! Versions before kept a generated secret in the `settings` table. On SQLite it moves to the
//! file (tokens keep validating) and leaves the database; on PostgreSQL and MySQL start-up is
//! refused until the operator carries it over. With a secret configured, the old row is
//! deleted.

use std::path::PathBuf;

use anyhow::{bail, Context as _};

use crate::config::Config;
use crate::secrets::{random_token, read_secret_file, secret_file, Secret};
use crate::store::Store;

/// The `settings` row earlier versions kept a generated secret in.
const STORED_SECRET: &str = "jwt_secret";

pub(super) async fn signing_secret(config: &Config, store: &Store) -> anyhow::Result<Secret> {
    let stored = store
        .setting(STORED_SECRET)
        .await
        .context("reading the settings table")?;
    if let Some(secret) = &config.jwt_secret {
        // A weak one is warned about with the keys (`signing_keys`): what it still signs.
        if stored.is_some() {
            forget_stored_secret(store).await?;
        }
        return Ok(secret.clone());
    }
    let sqlite_file = store.sqlite_file();
    let file = match (&config.jwt_secret_file, &sqlite_file) {
        (Some(path), _) => path.clone(),
        (None, Some(database)) => beside(database),
        (None, None) => {
            if stored.is_some() {
                bail!(
                    "an earlier version of Gatehouse generated the JWT secret and kept it in the \
                     database's settings table, where anyone who can read the database can forge \
                     tokens. Set JWT_SECRET to it (SELECT value FROM settings WHERE name = \
                     'jwt_secret'), start again (the row is then deleted), and plan to rotate it"
                );
            }
            bail!(
                "no JWT secret: set JWT_SECRET (at least 32 bytes, e.g. `openssl rand -hex 32`), \
                 or JWT_SECRET_FILE naming a file that holds it; every replica needs the same one"
            );
        }
    };
    if sqlite_file.is_none() {
        // A replica must never invent its own: they would not accept each other's tokens.
        return read_secret_file(&file)
            .with_context(|| format!("reading JWT_SECRET_FILE {}", file.display()));
    }
    let generated = stored.is_none();
    let secret = secret_file(&file, || stored.unwrap_or_else(|| random_token(32)))
        .with_context(|| format!("keeping the JWT secret in {}", file.display()))?;
    if generated {
        tracing::warn!(
            file = %file.display(),
            "no JWT_SECRET set: using a random secret kept in a file beside the database; services \
             that verify tokens themselves need it, so set JWT_SECRET explicitly in production"
        );
    }
    forget_stored_secret(store).await?;
    Ok(secret)
}

/// `gatehouse.db` → `gatehouse.db.jwt-secret`.
fn beside(database: &std::path::Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".jwt-secret");
    PathBuf::from(name)
}

async fn forget_stored_secret(store: &Store) -> anyhow::Result<()> {
    store
        .delete_setting(STORED_SECRET)
        .await
        .context("deleting the JWT secret an earlier version kept in the settings table")?;
    Ok(())
}
