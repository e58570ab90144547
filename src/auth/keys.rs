//! The keys tokens are signed and verified with, behind one `KeySet`: nothing else touches a
//! key, so asymmetric algorithms and rotation plug in here without changing a handler.
//!
//! Today a `KeySet` is HS256 with one shared secret (what every seed used), and the old
//! service's tokens verify with that same secret (`legacy::tokens`).

use std::collections::HashSet;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::token::TokenError;
use crate::secrets::Secret;

pub struct KeySet {
    signing: EncodingKey,
    verifying: DecodingKey,
    /// What the old service signed with: the same secret, since the seeds shared `JWT_SECRET`.
    legacy: DecodingKey,
    validation: Validation,
}

impl KeySet {
    /// HS256 with `secret`, for Gatehouse's tokens and the old service's alike.
    pub fn hs256(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Time and issuer are checked by the callers against the injected clock instead.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        let bytes = secret.expose().as_bytes();
        Self {
            signing: EncodingKey::from_secret(bytes),
            verifying: DecodingKey::from_secret(bytes),
            legacy: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    /// Signs `claims` with the current key.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.signing)
    }

    /// The claims of a token signed with one of Gatehouse's keys, checking the signature and
    /// the algorithm only (`alg: none` and other algorithms are refused).
    pub fn verify<T: DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        decode(token, &self.verifying, &self.validation)
    }

    /// The claims of a token the old service signed, checking the signature and algorithm.
    pub fn verify_legacy<T: DeserializeOwned>(&self, token: &str) -> Result<T, TokenError> {
        decode(token, &self.legacy, &self.validation)
    }
}

fn decode<T: DeserializeOwned>(
    token: &str,
    key: &DecodingKey,
    validation: &Validation,
) -> Result<T, TokenError> {
    jsonwebtoken::decode::<T>(token, key, validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Invalid,
        })
}
