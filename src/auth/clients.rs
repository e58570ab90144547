//! OAuth clients: the services allowed to introspect and revoke tokens, each with an id and a
//! secret shown once. `ClientRegistry` adds, lists, removes and authenticates them.
//!
//! A secret is 256 random bits, so it is stored as its plain SHA-256: a digest of a value that
//! random cannot be searched back (argon2's slowness only helps secrets people choose), and a
//! plain digest, unlike one keyed with the signing secret, survives a change of signing keys.
//! Checking a secret costs one read by primary key and one digest, compared in constant time,
//! and an unknown id costs the same as a wrong secret.

use ring::digest;

use crate::clock::Clock;
use crate::secrets::{constant_time_eq, random_hex, random_token, Secret};
use crate::store::{ClientRow, Store, StoreError};

use std::sync::Arc;

/// Bytes of randomness in a client id (public, but unguessable all the same).
const ID_BYTES: usize = 16;
/// Bytes of randomness in a client secret: 256 bits.
const SECRET_BYTES: usize = 32;
/// The longest name `client add` accepts, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longer presented ids are not looked up (ours are 32 characters).
const MAX_ID_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    InvalidName(&'static str),
    #[error("no client with that id")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A client as listed: never its secret or its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// A client just added, with the secret it will present; the secret is not kept anywhere.
#[derive(Debug)]
pub struct NewClient {
    pub client: Client,
    pub secret: Secret,
}

pub struct ClientRegistry {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl ClientRegistry {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Adds a client called `name` (trimmed; 1 to 100 characters, no control characters).
    pub async fn add(&self, name: &str) -> Result<NewClient, ClientError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(ClientError::InvalidName("the client name is empty"));
        }
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ClientError::InvalidName(
                "the client name must be at most 100 characters, none of them control characters",
            ));
        }
        let secret = Secret::new(random_token(SECRET_BYTES));
        let row = ClientRow {
            id: client_id(),
            name: name.to_owned(),
            secret_hash: secret_digest(secret.expose()),
            created_at: self.clock.now(),
        };
        self.store.insert_client(&row).await?;
        Ok(NewClient {
            client: listed(row),
            secret,
        })
    }

    /// Every client, oldest first.
    pub async fn list(&self) -> Result<Vec<Client>, ClientError> {
        Ok(self
            .store
            .list_clients()
            .await?
            .into_iter()
            .map(listed)
            .collect())
    }

    /// Removes a client: its next request is refused (nothing about clients is cached).
    pub async fn remove(&self, id: &str) -> Result<(), ClientError> {
        if !well_formed_id(id) || !self.store.delete_client(id).await? {
            return Err(ClientError::NotFound);
        }
        Ok(())
    }

    /// The client whose id and secret these are; `None` for an unknown id or a wrong secret,
    /// told apart by nothing, not even time. One read of the database, never more.
    pub async fn authenticate(
        &self,
        id: &str,
        secret: &str,
    ) -> Result<Option<Client>, ClientError> {
        let presented = secret_digest(secret);
        let row = if well_formed_id(id) {
            self.store.find_client(id).await?
        } else {
            None
        };
        // Compared against a digest no secret has when there is no such client, so that an
        // unknown id costs what a wrong secret does.
        let stored = row
            .as_ref()
            .map_or(NO_CLIENT, |row| row.secret_hash.as_str());
        let matches = constant_time_eq(presented.as_bytes(), stored.as_bytes());
        Ok(row.filter(|_| matches).map(listed))
    }
}

/// What an unknown id is compared against: not hex, so no digest equals it.
const NO_CLIENT: &str = "no client: not a SHA-256 digest, so that no secret matches it...";

/// A new client id: 128 random bits in hex, so that it never starts with `-` (base64url may),
/// which a command line such as `gatehouse client remove ID` would read as an option.
fn client_id() -> String {
    random_hex(ID_BYTES)
}

/// The stored form of a client secret: its SHA-256, hex.
fn secret_digest(secret: &str) -> String {
    digest::digest(&digest::SHA256, secret.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `id` could be one of ours: base64url, not too long. Anything else (a NUL, text
/// the database's column cannot hold) is refused without a query.
fn well_formed_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn listed(row: ClientRow) -> Client {
    Client {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_sha256_hex_and_never_the_no_client_marker() {
        assert_eq!(
            secret_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(NO_CLIENT.len(), 64);
        assert!(!NO_CLIENT.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn only_base64url_ids_are_looked_up() {
        let id = client_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert!(well_formed_id(&id));
        for id in ["", "a\0b", "é", "a b", "a:b", &"a".repeat(65)] {
            assert!(!well_formed_id(id), "{id:?}");
        }
    }
}
