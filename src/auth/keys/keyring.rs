//! The keys one process holds, built from the `signing_keys` rows: for each, what verifies its
//! tokens and, where this process has the private half, what signs with it. A `KeyRing` is
//! immutable; `KeySet` swaps in a new one when the rows change.

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, EncodingKey, Validation};

use super::algorithm::{encoding_key, KeyPair, SigningAlgorithm};
use super::lifecycle::{lifecycle_of, Lifecycle};
use super::sealing::{open, KeyEncryptionKey};
use crate::secrets::Secret;
use crate::store::SigningKeyRow;

/// What a process holds besides the database: the HS256 secret, the key that opens sealed
/// private keys, a key pair from `JWT_PRIVATE_KEY_FILE`.
pub struct LocalKeys {
    pub secret: Secret,
    /// The id HS256 tokens carry: derived from the secret (see `hs256_kid`).
    pub hs256_kid: String,
    pub encryption: Option<KeyEncryptionKey>,
    pub file_key: Option<KeyPair>,
}

pub struct LoadedKey {
    pub row: SigningKeyRow,
    pub algorithm: SigningAlgorithm,
    /// `None`: this process cannot verify it (an HS256 key of another secret).
    pub decoding: Option<DecodingKey>,
    pub validation: Validation,
    /// `None`: this process cannot sign with it; `signing_problem` says why.
    pub encoding: Option<EncodingKey>,
    pub signing_problem: Option<String>,
    pub jwk: Option<Jwk>,
}

pub struct KeyRing {
    pub rows: Vec<SigningKeyRow>,
    pub keys: Vec<LoadedKey>,
    pub token_ttl_secs: i64,
}

impl KeyRing {
    pub fn new(rows: Vec<SigningKeyRow>, local: &LocalKeys, token_ttl_secs: i64) -> Self {
        let keys = rows.iter().map(|row| load(row, local)).collect();
        Self {
            rows,
            keys,
            token_ttl_secs,
        }
    }

    pub fn lifecycle(&self, index: usize, now: i64) -> Option<Lifecycle> {
        lifecycle_of(&self.rows, index, now, self.token_ttl_secs)
    }

    /// The key with id `kid`, if it still verifies at `now`.
    pub fn verifying(&self, kid: &str, now: i64) -> Option<&LoadedKey> {
        let index = self.keys.iter().position(|key| key.row.kid == kid)?;
        let verifies = self.lifecycle(index, now)?.state.verifies();
        verifies.then(|| &self.keys[index])
    }

    /// The key that signs at `now`.
    pub fn current(&self, now: i64) -> Option<&LoadedKey> {
        (0..self.keys.len())
            .find(|&i| self.lifecycle(i, now).is_some_and(|l| l.is_current()))
            .map(|i| &self.keys[i])
    }

    /// The key this process signs with at `now`: the current one; if this process cannot
    /// open it (a replica still without the `KEY_ENCRYPTION_KEY` or key file the others
    /// have), the newest key still verifying that it can, so logins go on during a rolling
    /// change of settings.
    pub fn signer(&self, now: i64) -> Option<&LoadedKey> {
        let current = self.current(now)?;
        if current.encoding.is_some() {
            return Some(current);
        }
        let fallback = (0..self.keys.len()).rev().find(|&i| {
            self.keys[i].encoding.is_some()
                && self.lifecycle(i, now).is_some_and(|l| l.state.verifies())
                && self.keys[i].row.activates_at <= now
        })?;
        Some(&self.keys[fallback])
    }

    /// Every key's row and lifecycle at `now`.
    pub fn described(&self, now: i64) -> impl Iterator<Item = (&LoadedKey, Lifecycle)> {
        self.keys
            .iter()
            .enumerate()
            .filter_map(move |(i, key)| Some((key, self.lifecycle(i, now)?)))
    }
}

/// Verification settings for one key: only its own algorithm is accepted. Times and issuer
/// are checked by the callers against the injected clock instead.
pub fn validation_for(algorithm: SigningAlgorithm) -> Validation {
    let mut validation = Validation::new(algorithm.jwt());
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.leeway = 0;
    validation
}

/// The key id of HS256 tokens signed with `secret`: an HMAC of a fixed label under the secret,
/// so it names the secret without revealing anything of it, and changes when it changes.
pub fn hs256_kid(secret: &Secret) -> String {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.expose().as_bytes());
    let tag = ring::hmac::sign(&key, b"gatehouse HS256 key id");
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag.as_ref()[..12]);
    format!("hs256-{id}")
}

fn load(row: &SigningKeyRow, local: &LocalKeys) -> LoadedKey {
    let algorithm = row.algorithm.parse().unwrap_or(SigningAlgorithm::Hs256);
    let unusable = |problem: String| LoadedKey {
        row: row.clone(),
        algorithm,
        decoding: None,
        validation: validation_for(algorithm),
        encoding: None,
        signing_problem: Some(problem),
        jwk: None,
    };
    if row.algorithm.parse::<SigningAlgorithm>().is_err() {
        return unusable(format!("unknown algorithm {:?}", row.algorithm));
    }
    if algorithm == SigningAlgorithm::Hs256 {
        if row.kid != local.hs256_kid {
            return unusable("an HS256 key of another JWT_SECRET".into());
        }
        let secret = local.secret.expose().as_bytes();
        return LoadedKey {
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: Some(DecodingKey::from_secret(secret)),
            signing_problem: None,
            ..unusable(String::new())
        };
    }
    let Ok(jwk) = serde_json::from_str::<Jwk>(&row.public_jwk) else {
        return unusable("its public key is malformed".into());
    };
    let Ok(decoding) = DecodingKey::from_jwk(&jwk) else {
        return unusable("its public key is malformed".into());
    };
    let (encoding, signing_problem) = match (&row.private_key, &local.file_key) {
        (Some(sealed), _) => match open(local.encryption.as_ref(), &row.kid, sealed) {
            Ok(der) => (Some(encoding_key(algorithm, &der)), None),
            Err(error) => (None, Some(error.to_string())),
        },
        (None, Some(file)) if file.kid == row.kid => (Some(file.encoding_key()), None),
        (None, _) => (
            None,
            Some("its private key is in a JWT_PRIVATE_KEY_FILE this process does not have".into()),
        ),
    };
    LoadedKey {
        row: row.clone(),
        algorithm,
        decoding: Some(decoding),
        validation: validation_for(algorithm),
        encoding,
        signing_problem,
        jwk: Some(jwk),
    }
}
