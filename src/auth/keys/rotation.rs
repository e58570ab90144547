//! Adding and retiring keys in the database, safely from several processes at once: a new key
//! takes the next `seq`, which is unique, so of two processes adding one at the same moment (the
//! first start of several replicas, two automatic rotations) one wins and the other re-reads.
//! Every change is announced on the revocation channel, so running servers reload their keys.

use std::path::PathBuf;

use super::algorithm::{KeyError, KeyPair, SigningAlgorithm};
use super::keyring::LocalKeys;
use super::lifecycle::{lifecycles, KeyState};
use super::sealing::{seal, KeyEncryptionKey, SealError};
use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::store::{SigningKeyRow, Store, StoreError};

/// The payload of the notification a key change sends (only a hint: replicas re-read).
pub const KEYS_CHANGED: &str = "keys";
/// Attempts at adding a key before giving up on a database that keeps conflicting.
const ATTEMPTS: usize = 5;

/// The key settings: `JWT_ALGORITHM`, `KEY_ENCRYPTION_KEY`, `JWT_PRIVATE_KEY_FILE`,
/// `JWKS_MAX_AGE_SECS`, `JWT_KEY_ROTATION_DAYS`.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub algorithm: SigningAlgorithm,
    pub encryption: Option<KeyEncryptionKey>,
    pub private_key_file: Option<PathBuf>,
    /// How long a JWKS may be cached, so how long a new key is published before it signs.
    pub jwks_max_age_secs: i64,
    /// Rotate automatically once the current key has signed this many days.
    pub rotation_days: Option<u64>,
    /// With a weak `JWT_SECRET` (`ALLOW_WEAK_SECRET`): until when it may still sign
    /// (`WEAK_SECRET_SIGNS_UNTIL`), for services that verify with it themselves. After that,
    /// or when unset, the strong key of `algorithm` signs.
    pub weak_secret_signs_until: Option<i64>,
}

impl Default for KeySettings {
    fn default() -> Self {
        Self {
            algorithm: SigningAlgorithm::Hs256,
            encryption: None,
            private_key_file: None,
            jwks_max_age_secs: 600,
            rotation_days: None,
            weak_secret_signs_until: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{0}")]
    Refused(String),
}

/// Makes sure a key of the configured kind is current or next, adding one when not: the first
/// start, a change of `JWT_ALGORITHM`, `JWT_SECRET` or the key file. It signs at once, or, for
/// a weak secret kept signing (`WEAK_SECRET_SIGNS_UNTIL`), from that date, waiting in the JWKS
/// until then. Returns whether it added one.
pub async fn ensure_signing_key(
    store: &Store,
    settings: &KeySettings,
    local: &LocalKeys,
    now: i64,
) -> Result<bool, KeysError> {
    let signs_from = settings
        .weak_secret_signs_until
        .filter(|&until| until > now)
        .unwrap_or(now);
    for _ in 0..ATTEMPTS {
        let rows = store.signing_keys().await?;
        let newest = rows.iter().rev().find(|row| row.retired_at.is_none());
        let wanted_kid = match (&local.file_key, settings.algorithm) {
            (Some(file), _) => Some(file.kid.as_str()),
            (None, SigningAlgorithm::Hs256) => Some(local.hs256_kid.as_str()),
            (None, _) => None,
        };
        let satisfied = newest.is_some_and(|row| match wanted_kid {
            Some(kid) => row.kid == kid,
            None => row.algorithm == settings.algorithm.name() && row.private_key.is_some(),
        });
        if satisfied {
            reschedule_weak_secret_switch(store, local, &rows, signs_from, now).await?;
            return Ok(false);
        }
        let mut seq = next_seq(&rows);
        // Tokens an earlier version signed carry no kid and verify with the secret: record
        // the HS256 key first, so that they keep verifying until they expire. A database
        // without users has no such tokens, and then the secret never verifies one, unless
        // it is to sign until `WEAK_SECRET_SIGNS_UNTIL`.
        let hs256_known = rows.iter().any(|row| row.kid == local.hs256_kid);
        let upgrading = rows.is_empty() && store.has_users().await?;
        let keeps_signing = signs_from > now && !hs256_known;
        if (upgrading || keeps_signing) && settings.algorithm.is_asymmetric() {
            match store.insert_signing_key(&hs256_row(local, seq, now)).await {
                Ok(()) => seq += 1,
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        let added = match (&local.file_key, settings.algorithm) {
            (Some(file), _) => insert_pair(store, None, file, seq, (now, signs_from), false).await,
            (None, SigningAlgorithm::Hs256) if hs256_known => store
                .reactivate_signing_key(&local.hs256_kid, seq, now)
                .await
                .map(|_| ()),
            (None, SigningAlgorithm::Hs256) => {
                store.insert_signing_key(&hs256_row(local, seq, now)).await
            }
            (None, algorithm) => {
                let pair = generate(algorithm).await?;
                let encryption = settings.encryption.as_ref();
                insert_pair(store, encryption, &pair, seq, (now, signs_from), true).await
            }
        };
        match added {
            Ok(()) => {
                announce(store).await;
                return Ok(true);
            }
            Err(StoreError::Conflict) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(KeysError::Refused(
        "could not add a signing key: other processes kept adding theirs".into(),
    ))
}

/// While the weak secret still signs and the strong key waits (`next`), a changed
/// `WEAK_SECRET_SIGNS_UNTIL` moves the switch: later, or now when it is unset or past.
async fn reschedule_weak_secret_switch(
    store: &Store,
    local: &LocalKeys,
    rows: &[SigningKeyRow],
    signs_from: i64,
    now: i64,
) -> Result<(), KeysError> {
    let states = lifecycles(rows, now, 0);
    let current = rows.iter().zip(&states).find(|(_, l)| l.is_current());
    let weak_secret_signs = current.is_some_and(|(row, _)| row.kid == local.hs256_kid);
    let waiting = rows
        .iter()
        .zip(&states)
        .rev()
        .find(|(row, l)| l.state == KeyState::Next && row.retired_at.is_none());
    if let (true, Some((row, _))) = (weak_secret_signs, waiting) {
        if row.activates_at != signs_from
            && store
                .schedule_signing_key(&row.kid, signs_from, now)
                .await?
        {
            tracing::info!(kid = %row.kid, signs_from, "WEAK_SECRET_SIGNS_UNTIL changed: moved the switch to the strong key");
            announce(store).await;
        }
    }
    Ok(())
}

/// Adds a new key of the configured algorithm. It signs after `JWKS_MAX_AGE_SECS` and the
/// clock-skew leeway (30 s), once every cached JWKS has it, or at once with `immediately` (a
/// leaked key).
pub async fn rotate(
    store: &Store,
    settings: &KeySettings,
    now: i64,
    immediately: bool,
) -> Result<SigningKeyRow, KeysError> {
    for _ in 0..ATTEMPTS {
        if let Some(row) = add_next_key(store, settings, now, immediately).await? {
            return Ok(row);
        }
    }
    Err(KeysError::Refused(
        "could not add the key: other processes kept adding theirs".into(),
    ))
}

/// One attempt at adding the next key; `None` when another process added one first.
async fn add_next_key(
    store: &Store,
    settings: &KeySettings,
    now: i64,
    immediately: bool,
) -> Result<Option<SigningKeyRow>, KeysError> {
    if settings.algorithm == SigningAlgorithm::Hs256 {
        return Err(KeysError::Refused(
            "JWT_ALGORITHM is HS256, whose key is JWT_SECRET: change the secret to rotate it, or \
             set JWT_ALGORITHM to EdDSA, ES256 or RS256"
                .into(),
        ));
    }
    if settings.private_key_file.is_some() {
        return Err(KeysError::Refused(
            "the signing key comes from JWT_PRIVATE_KEY_FILE: put a new key in the file and \
             restart to rotate it"
                .into(),
        ));
    }
    let seq = next_seq(&store.signing_keys().await?);
    let pair = generate(settings.algorithm).await?;
    // Whole seconds truncate, and clocks differ between hosts: the margin keeps a JWKS
    // fetched just before the rotation from still being fresh when the key signs.
    let activates_at = if immediately {
        now
    } else {
        now.saturating_add(settings.jwks_max_age_secs)
            .saturating_add(CLOCK_SKEW_LEEWAY_SECS)
    };
    let encryption = settings.encryption.as_ref();
    match insert_pair(store, encryption, &pair, seq, (now, activates_at), true).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Ok(None),
        Err(error) => return Err(error.into()),
    }
    announce(store).await;
    let rows = store.signing_keys().await?;
    Ok(rows.into_iter().find(|row| row.kid == pair.kid))
}

/// Rotates when `JWT_KEY_ROTATION_DAYS` is set, the current key has signed that long and no
/// next key is waiting. Every replica may call it: one attempt each, so of replicas racing
/// only one adds the key.
pub async fn rotate_if_due(
    store: &Store,
    settings: &KeySettings,
    rows: &[SigningKeyRow],
    now: i64,
    token_ttl_secs: i64,
) -> Result<bool, KeysError> {
    let Some(days) = settings.rotation_days else {
        return Ok(false);
    };
    if !settings.algorithm.is_asymmetric() || settings.private_key_file.is_some() {
        return Ok(false);
    }
    let states = lifecycles(rows, now, token_ttl_secs);
    let waiting = states.iter().any(|l| l.state == KeyState::Next);
    let current = rows.iter().zip(&states).find(|(_, l)| l.is_current());
    let due = current.is_some_and(|(row, _)| {
        now >= row
            .activates_at
            .saturating_add((days as i64).saturating_mul(86_400))
    });
    if waiting || !due {
        return Ok(false);
    }
    Ok(add_next_key(store, settings, now, false).await?.is_some())
}

/// Retires key `kid`: its tokens are refused from now on. The key that signs cannot be retired
/// (rotate with `--now` first), so that logins never stop.
pub async fn retire(
    store: &Store,
    kid: &str,
    now: i64,
    token_ttl_secs: i64,
) -> Result<(), KeysError> {
    let rows = store.signing_keys().await?;
    let states = lifecycles(&rows, now, token_ttl_secs);
    let Some((_, lifecycle)) = rows.iter().zip(&states).find(|(row, _)| row.kid == kid) else {
        return Err(KeysError::Refused(format!("no key with id {kid:?}")));
    };
    match lifecycle.state {
        KeyState::Current => Err(KeysError::Refused(format!(
            "{kid} is the key that signs: run `gatehouse keys rotate --now` first"
        ))),
        KeyState::Retired => Err(KeysError::Refused(format!("{kid} is already retired"))),
        KeyState::Next | KeyState::Retiring => {
            store.retire_signing_key(kid, now).await?;
            announce(store).await;
            Ok(())
        }
    }
}

fn next_seq(rows: &[SigningKeyRow]) -> i64 {
    rows.iter().map(|row| row.seq).max().unwrap_or(0) + 1
}

fn hs256_row(local: &LocalKeys, seq: i64, now: i64) -> SigningKeyRow {
    SigningKeyRow {
        kid: local.hs256_kid.clone(),
        seq,
        algorithm: SigningAlgorithm::Hs256.name().into(),
        public_jwk: String::new(),
        private_key: None,
        created_at: now,
        activates_at: now,
        retired_at: None,
    }
}

/// Generating an RSA key takes a while: off the async runtime.
async fn generate(algorithm: SigningAlgorithm) -> Result<KeyPair, KeysError> {
    tokio::task::spawn_blocking(move || KeyPair::generate(algorithm))
        .await
        .map_err(|_| KeyError::Generate)?
        .map_err(KeysError::from)
}

/// Stores `pair` (its private key sealed when `store_private`; else it stays in its file).
async fn insert_pair(
    store: &Store,
    encryption: Option<&KeyEncryptionKey>,
    pair: &KeyPair,
    seq: i64,
    (now, activates_at): (i64, i64),
    store_private: bool,
) -> Result<(), StoreError> {
    let private_key = match store_private {
        true => Some(
            seal(encryption, &pair.kid, &pair.private_der)
                .map_err(|e| StoreError::Other(sqlx::Error::Protocol(e.to_string())))?,
        ),
        false => None,
    };
    let row = SigningKeyRow {
        kid: pair.kid.clone(),
        seq,
        algorithm: pair.algorithm.name().into(),
        public_jwk: serde_json::to_string(&pair.public_jwk).unwrap_or_default(),
        private_key,
        created_at: now,
        activates_at,
        retired_at: None,
    };
    store.insert_signing_key(&row).await
}

/// Tells running servers to reload their keys; failing only delays them to their next poll.
async fn announce(store: &Store) {
    if let Err(error) = store.notify_revocation(KEYS_CHANGED).await {
        tracing::warn!(%error, "could not notify the servers of the key change; they will see it at their next poll");
    }
}
