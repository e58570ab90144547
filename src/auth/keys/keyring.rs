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

    /// The key with id `kid` and its lifecycle, if it still verifies at `now`.
    pub fn verifying(&self, kid: &str, now: i64) -> Option<(&LoadedKey, Lifecycle)> {
        let index = self.keys.iter().position(|key| key.row.kid == kid)?;
        let lifecycle = self.lifecycle(index, now)?;
        lifecycle
            .state
            .verifies()
            .then(|| (&self.keys[index], lifecycle))
    }

    /// The key that signs at `now`.
    pub fn current(&self, now: i64) -> Option<&LoadedKey> {
        (0..self.keys.len())
            .find(|&i| self.lifecycle(i, now).is_some_and(|l| l.is_current()))
            .map(|i| &self.keys[i])
    }

    /// The key this process signs with at `now`: the current one; if this process cannot
    /// open it (a replica still without the `KEY_ENCRYPTION_KEY` or key file the others
    /// have), the newest key it can open that will still verify this token until it expires,
    /// so logins go on during a rolling change of settings (for the clock-skew leeway past a
    /// rotation; after that this process cannot sign and says why).
    pub fn signer(&self, now: i64) -> Option<&LoadedKey> {
        let current = self.current(now)?;
        if current.encoding.is_some() {
            return Some(current);
        }
        // Only a key that still verifies for a whole token lifetime: a token must never
        // outlive the key that signed it (a retiring key verifies until `ACCESS_TOKEN_TTL`
        // plus the leeway after it stopped signing, so the fallback lasts that leeway).
        let outlives_a_token = |l: &Lifecycle| {
            l.state.verifies()
                && l.verifies_until
                    .is_none_or(|until| until >= now.saturating_add(self.token_ttl_secs))
        };
        let fallback = (0..self.keys.len()).rev().find(|&i| {
            self.keys[i].encoding.is_some()
                && self.lifecycle(i, now).is_some_and(|l| outlives_a_token(&l))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::sealing::seal;
    use crate::clock::CLOCK_SKEW_LEEWAY_SECS;

    const TTL: i64 = 3600;

    fn row(
        pair: &KeyPair,
        seq: i64,
        activates_at: i64,
        key: Option<&KeyEncryptionKey>,
    ) -> SigningKeyRow {
        SigningKeyRow {
            kid: pair.kid.clone(),
            seq,
            algorithm: pair.algorithm.name().into(),
            public_jwk: serde_json::to_string(&pair.public_jwk).unwrap(),
            private_key: Some(seal(key, &pair.kid, &pair.private_der).unwrap()),
            created_at: 0,
            activates_at,
            retired_at: None,
        }
    }

    /// A replica without the `KEY_ENCRYPTION_KEY` the others sealed the new key with signs
    /// with the key before it, but only while that key will verify a whole token lifetime.
    #[test]
    fn a_process_that_cannot_open_the_current_key_falls_back_only_while_its_tokens_would_verify() {
        let old = KeyPair::generate(SigningAlgorithm::EdDsa).unwrap();
        let new = KeyPair::generate(SigningAlgorithm::EdDsa).unwrap();
        let theirs: KeyEncryptionKey = "11".repeat(32).parse().unwrap();
        let rows = vec![row(&old, 1, 0, None), row(&new, 2, 1_000, Some(&theirs))];
        let secret = Secret::new("s".repeat(32));
        let local = LocalKeys {
            hs256_kid: hs256_kid(&secret),
            secret,
            encryption: None,
            file_key: None,
        };
        let ring = KeyRing::new(rows, &local, TTL);
        let signer = |now: i64| ring.signer(now).map(|key| key.row.kid.clone());

        assert_eq!(signer(999), Some(old.kid.clone()), "still current");
        assert_eq!(
            ring.current(1_000).map(|k| k.row.kid.clone()),
            Some(new.kid.clone())
        );
        assert_eq!(signer(1_000), Some(old.kid.clone()), "the fallback");
        assert_eq!(
            signer(1_000 + CLOCK_SKEW_LEEWAY_SECS),
            Some(old.kid.clone())
        );
        assert_eq!(
            signer(1_000 + CLOCK_SKEW_LEEWAY_SECS + 1),
            None,
            "its tokens would outlive it"
        );
    }
}
