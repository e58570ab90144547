//! Refresh tokens: 256 random bits, shown once and stored only as their SHA-256.
//!
//! A token's successor is not random but `HMAC(key, token)`: presenting an already-rotated
//! token again within the grace window can then be answered with the very same successor (two
//! tabs refreshing at once) without the service ever storing a usable token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::{digest, hmac};

use crate::secrets::Secret;

pub struct RefreshTokens {
    successor_key: hmac::Key,
}

impl RefreshTokens {
    /// The successor key is derived from the signing secret, so replicas agree on it.
    pub fn new(secret: &Secret) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        let derived = hmac::sign(&root, b"gatehouse refresh-token successor v1");
        Self {
            successor_key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    pub fn successor(&self, token: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.successor_key, token.as_bytes()))
    }
}

/// What is stored for a refresh token: its SHA-256, hex. (It is 256 random bits, so a fast hash
/// loses nothing; the lookup is by this value.)
pub fn hash_refresh_token(token: &str) -> String {
    digest::digest(&digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::random_token;

    #[test]
    fn successors_are_deterministic_per_secret_and_unguessable_without_it() {
        let keys = RefreshTokens::new(&Secret::new("k".repeat(32)));
        let other = RefreshTokens::new(&Secret::new("j".repeat(32)));
        let token = random_token(32);
        assert_eq!(keys.successor(&token), keys.successor(&token));
        assert_ne!(keys.successor(&token), other.successor(&token));
        assert_ne!(keys.successor(&token), token);
        assert_eq!(keys.successor(&token).len(), 43, "256 bits, base64url");
    }

    #[test]
    fn refresh_hash_is_sha256_hex() {
        assert_eq!(
            hash_refresh_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
