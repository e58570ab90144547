//! The keys tokens are signed and verified with, behind one `KeySet`: nothing else touches a
//! key. `JWT_ALGORITHM` picks HS256 (the shared `JWT_SECRET`, the default), EdDSA, ES256 or
//! RS256; asymmetric keys live in the database (`rotation`), their private halves sealed
//! (`sealing`), and their states follow from timestamps (`lifecycle`). Every token carries
//! the `kid` of the key that signed it, and is verified with that key alone, by its own
//! algorithm only.
//!
//! - `algorithm`: generating key pairs, PEM files, JWKs;
//! - `keyring`: the keys one process holds, loaded from the rows;
//! - `rotation`: adding, rotating and retiring keys in the database.

use std::sync::{Arc, RwLock};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Header};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::token::TokenError;
use crate::secrets::Secret;
use crate::store::{SigningKeyRow, Store, StoreError};
pub use algorithm::{KeyPair, SigningAlgorithm};
use keyring::{hs256_kid, validation_for, KeyRing, LocalKeys};
pub use lifecycle::{lifecycles, KeyState, Lifecycle};
pub use rotation::{
    ensure_signing_key, retire, rotate, rotate_if_due, KeySettings, KeysError, KEYS_CHANGED,
};
pub use sealing::KeyEncryptionKey;

mod algorithm;
mod keyring;
mod lifecycle;
mod rotation;
pub mod sealing;

pub struct KeySet {
    local: LocalKeys,
    settings: KeySettings,
    ring: RwLock<Arc<KeyRing>>,
    /// What the old service signed with: the same secret, since the seeds shared `JWT_SECRET`.
    legacy: DecodingKey,
}

/// A key as `gatehouse keys list` shows it: never private material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub kid: String,
    pub algorithm: String,
    pub lifecycle: Lifecycle,
    pub created_at: i64,
    pub activates_at: i64,
    pub retired_at: Option<i64>,
}

impl KeySet {
    /// HS256 with `secret` and nothing in a database (unit tests of the layers above).
    pub fn hs256(secret: &Secret) -> Self {
        let local = local_keys(secret, &KeySettings::default(), None);
        let row = SigningKeyRow {
            kid: local.hs256_kid.clone(),
            seq: 1,
            algorithm: SigningAlgorithm::Hs256.name().into(),
            public_jwk: String::new(),
            private_key: None,
            created_at: 0,
            activates_at: 0,
            retired_at: None,
        };
        Self::with_rows(local, KeySettings::default(), vec![row], 3600)
    }

    /// The keys in the database, after adding one of the configured kind if none is current
    /// (see `ensure_signing_key`). Fails when this process cannot sign with the current key.
    pub async fn load(
        store: &Store,
        settings: KeySettings,
        secret: &Secret,
        file_key: Option<KeyPair>,
        token_ttl_secs: i64,
        now: i64,
    ) -> Result<Self, KeysError> {
        let local = local_keys(secret, &settings, file_key);
        ensure_signing_key(store, &settings, &local, now).await?;
        let rows = store.signing_keys().await?;
        let keys = Self::with_rows(local, settings, rows, token_ttl_secs);
        let ring = keys.ring();
        match ring.current(now) {
            Some(key) if key.encoding.is_some() => Ok(keys),
            Some(key) => Err(KeysError::Refused(format!(
                "cannot sign with the current key {}: {}",
                key.row.kid,
                key.signing_problem.as_deref().unwrap_or("no private key")
            ))),
            None => Err(KeysError::Refused("no signing key is current".into())),
        }
    }

    fn with_rows(
        local: LocalKeys,
        settings: KeySettings,
        rows: Vec<SigningKeyRow>,
        token_ttl_secs: i64,
    ) -> Self {
        let ring = KeyRing::new(rows, &local, token_ttl_secs);
        let legacy = DecodingKey::from_secret(local.secret.expose().as_bytes());
        Self {
            local,
            settings,
            ring: RwLock::new(Arc::new(ring)),
            legacy,
        }
    }

    fn ring(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(ring) => ring.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-reads the keys (another process rotated or retired one); returns whether they changed.
    pub async fn reload(&self, store: &Store) -> Result<bool, StoreError> {
        let rows = store.signing_keys().await?;
        let ring = self.ring();
        if rows == ring.rows {
            return Ok(false);
        }
        let fresh = Arc::new(KeyRing::new(rows, &self.local, ring.token_ttl_secs));
        match self.ring.write() {
            Ok(mut ring) => *ring = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(true)
    }

    /// The periodic check: rotates when `JWT_KEY_ROTATION_DAYS` says so, then reloads.
    pub async fn maintain(&self, store: &Store, now: i64) -> Result<(), KeysError> {
        self.reload(store).await?;
        let ring = self.ring();
        if rotate_if_due(store, &self.settings, &ring.rows, now, ring.token_ttl_secs).await? {
            tracing::info!("JWT_KEY_ROTATION_DAYS: added the next signing key");
            self.reload(store).await?;
        }
        Ok(())
    }

    pub fn settings(&self) -> &KeySettings {
        &self.settings
    }

    /// The `kid` of HS256 tokens signed with this process's `JWT_SECRET`.
    pub fn hs256_kid(&self) -> &str {
        &self.local.hs256_kid
    }

    /// Signs `claims` with the key current at `now` (see `KeyRing::signer`), naming it in the
    /// header's `kid`.
    pub fn sign(
        &self,
        claims: &impl Serialize,
        now: i64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let ring = self.ring();
        let key = ring.signer(now).ok_or(jsonwebtoken::errors::Error::from(
            ErrorKind::InvalidKeyFormat,
        ))?;
        let is_current = ring
            .current(now)
            .is_some_and(|current| current.row.kid == key.row.kid);
        if !is_current {
            tracing::warn!(kid = %key.row.kid, "cannot open the current signing key (KEY_ENCRYPTION_KEY or JWT_PRIVATE_KEY_FILE differs from the other replicas'); signing with an older key");
        }
        let encoding = key
            .encoding
            .as_ref()
            .ok_or(jsonwebtoken::errors::Error::from(
                ErrorKind::InvalidKeyFormat,
            ))?;
        let mut header = Header::new(key.algorithm.jwt());
        header.kid = Some(key.row.kid.clone());
        jsonwebtoken::encode(&header, claims, encoding)
    }

    /// The claims of a token signed with one of Gatehouse's keys that still verifies at `now`,
    /// checking the signature with the key its `kid` names, by that key's algorithm only.
    /// Refused: an unknown or retired `kid`; `alg: none` or any other algorithm than the
    /// key's (HS256 signed with a public key as the secret); headers that point elsewhere for
    /// a key (`jku`, `x5u`, `jwk`, `x5c`). A token without `kid` is an HS256 one from before
    /// kids, verified with the secret while its HS256 key still verifies.
    ///
    /// Each part is parsed once, here: `jsonwebtoken::decode` would parse the header again
    /// (after this parse for the `kid`) and the claims twice (once for its own claim checks,
    /// all of which are off: callers check time and issuer against the injected clock).
    /// The signature is still checked by jsonwebtoken (`crypto::verify`).
    ///
    /// Also returns when the key stopped signing, if it has: a token it signed was issued
    /// before then, so the caller refuses one claiming a later `iat` (forged with a cracked
    /// weak secret, or a leaked key, after the rotation).
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<(T, Option<i64>), TokenError> {
        let parts = TokenParts::split(token).ok_or(TokenError::Invalid)?;
        let header: Header = parts.header()?;
        let names_a_key_elsewhere = header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some();
        if names_a_key_elsewhere {
            return Err(TokenError::Invalid);
        }
        let ring = self.ring();
        let kid = header.kid.as_deref().unwrap_or(&self.local.hs256_kid);
        let Some((key, lifecycle)) = ring.verifying(kid, now) else {
            return Err(self.unknown_kid(&ring, token, header.alg, now));
        };
        let decoding = key.decoding.as_ref().ok_or(TokenError::Invalid)?;
        // Only the key's own algorithm: a public key is never taken as an HMAC secret.
        if header.alg != key.algorithm.jwt() {
            return Err(TokenError::Invalid);
        }
        let signed = parts.signed.as_bytes();
        match jsonwebtoken::crypto::verify(parts.signature, signed, decoding, header.alg) {
            Ok(true) => Ok((parts.claims()?, lifecycle.signs_until)),
            Ok(false) => Err(TokenError::BadSignature),
            Err(_) => Err(TokenError::Invalid),
        }
    }

    /// Why a token naming a key this process does not accept is refused: an HS256 token
    /// signed with another secret says so (`BadSignature`, as before kids, for the seeds'
    /// clients); anything else, or one that does match the secret, is not ours (`Invalid`).
    fn unknown_kid(
        &self,
        ring: &KeyRing,
        token: &str,
        alg: jsonwebtoken::Algorithm,
        now: i64,
    ) -> TokenError {
        let hs256 = ring.verifying(&self.local.hs256_kid, now);
        match hs256.and_then(|(key, _)| Some((key.decoding.as_ref()?, &key.validation))) {
            Some((decoding, validation)) if alg == jsonwebtoken::Algorithm::HS256 => {
                match decode::<serde::de::IgnoredAny>(token, decoding, validation) {
                    Err(TokenError::BadSignature) => TokenError::BadSignature,
                    _ => TokenError::Invalid,
                }
            }
            _ => TokenError::Invalid,
        }
    }

    /// The claims of a token the old service signed, checking the signature and algorithm.
    pub fn verify_legacy<T: DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        decode(
            token,
            &self.legacy,
            &validation_for(SigningAlgorithm::Hs256),
        )
    }

    /// The public keys that verify at `now` (the JWKS). HS256's secret is never in it.
    pub fn jwks(&self, now: i64) -> JwkSet {
        let ring = self.ring();
        let keys = ring
            .described(now)
            .filter(|(_, lifecycle)| lifecycle.state.verifies())
            .filter_map(|(key, _)| key.jwk.clone())
            .collect();
        JwkSet { keys }
    }

    /// The algorithms of the keys that verify at `now`, the signing one first.
    pub fn algorithms(&self, now: i64) -> Vec<&'static str> {
        let ring = self.ring();
        let mut names: Vec<&'static str> = ring
            .current(now)
            .map(|k| k.algorithm.name())
            .into_iter()
            .collect();
        for (key, lifecycle) in ring.described(now) {
            if lifecycle.state.verifies() && !names.contains(&key.algorithm.name()) {
                names.push(key.algorithm.name());
            }
        }
        names
    }

    /// Every key and its state at `now`.
    pub fn list(&self, now: i64) -> Vec<KeyInfo> {
        self.ring()
            .described(now)
            .map(|(key, lifecycle)| KeyInfo {
                kid: key.row.kid.clone(),
                algorithm: key.row.algorithm.clone(),
                lifecycle,
                created_at: key.row.created_at,
                activates_at: key.row.activates_at,
                retired_at: key.row.retired_at,
            })
            .collect()
    }
}

fn local_keys(secret: &Secret, settings: &KeySettings, file_key: Option<KeyPair>) -> LocalKeys {
    LocalKeys {
        secret: secret.clone(),
        hs256_kid: hs256_kid(secret),
        encryption: settings.encryption.clone(),
        file_key,
    }
}

fn decode<T: DeserializeOwned>(
    token: &str,
    key: &DecodingKey,
    validation: &jsonwebtoken::Validation,
) -> Result<T, TokenError> {
    jsonwebtoken::decode::<T>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Invalid,
        })
}

/// A compact JWS split into its parts: `header.claims.signature`, exactly three.
struct TokenParts<'a> {
    /// `header.claims`: what the signature covers.
    signed: &'a str,
    header: &'a str,
    claims: &'a str,
    signature: &'a str,
}

impl<'a> TokenParts<'a> {
    fn split(token: &'a str) -> Option<Self> {
        let (signed, signature) = token.rsplit_once('.')?;
        let (header, claims) = signed.split_once('.')?;
        (!claims.contains('.')).then_some(Self {
            signed,
            header,
            claims,
            signature,
        })
    }

    fn header(&self) -> Result<Header, TokenError> {
        json_part(self.header)
    }

    fn claims<T: DeserializeOwned>(&self) -> Result<T, TokenError> {
        json_part(self.claims)
    }
}

/// A part's JSON, from its unpadded base64url (RFC 7515 §2).
fn json_part<T: DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Invalid)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Invalid)
}
