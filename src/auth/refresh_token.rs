//! Refresh tokens. A token is `v2.<session id>.<generation>.<tag>`, the tag being
//! `HMAC-SHA256(key, "<session id>.<generation>")` with a key derived from the signing secret.
//! Nothing about a token is stored: the session keeps only its current generation, so a token
//! of an older one is recognised as reuse (theft) without a row per token, and a database
//! reader cannot make a token (the key is not in the database).
//!
//! Successors are deterministic (generation + 1): presenting a just-rotated token again within
//! the grace window is answered with the very same successor (two tabs refreshing at once).
//!
//! Tokens from before this scheme were 256 random bits, stored as SHA-256 only
//! ([`hash_refresh_token`]); they are honoured once, and their sessions move on to this one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::{digest, hmac};

use crate::secrets::Secret;

const VERSION: &str = "v2";

pub struct RefreshTokens {
    key: hmac::Key,
}

impl RefreshTokens {
    /// The key is derived from the signing secret, so replicas agree on it.
    pub fn new(secret: &Secret) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        let derived = hmac::sign(&root, b"gatehouse refresh-token v2");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    /// The refresh token of `session_id` at `generation`.
    pub fn token(&self, session_id: &str, generation: i64) -> String {
        let body = format!("{session_id}.{generation}");
        let tag = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, body.as_bytes()));
        format!("{VERSION}.{body}.{tag}")
    }

    /// The session and generation a token names, if its tag is ours (checked in constant
    /// time); `None` for anything else, including the tokens from before this scheme.
    pub fn open(&self, token: &str) -> Option<(String, i64)> {
        let rest = token.strip_prefix(VERSION)?.strip_prefix('.')?;
        let (body, tag) = rest.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        hmac::verify(&self.key, body.as_bytes(), &tag).ok()?;
        let (session_id, generation) = body.rsplit_once('.')?;
        Some((session_id.to_owned(), generation.parse().ok()?))
    }
}

/// What was stored for a refresh token before this scheme: its SHA-256, hex.
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

    fn keys(secret: char) -> RefreshTokens {
        RefreshTokens::new(&Secret::new(secret.to_string().repeat(32)))
    }

    #[test]
    fn tokens_open_to_their_session_and_generation_under_their_key_only() {
        let (keys, other) = (keys('k'), keys('j'));
        let token = keys.token("AbC-d_9", 41);
        assert_eq!(keys.open(&token), Some(("AbC-d_9".to_owned(), 41)));
        assert_eq!(token, keys.token("AbC-d_9", 41), "deterministic");
        assert_ne!(token, keys.token("AbC-d_9", 42));
        assert_eq!(other.open(&token), None);
    }

    #[test]
    fn tampered_or_foreign_tokens_do_not_open() {
        let keys = keys('k');
        let token = keys.token("session", 3);
        for tampered in [
            token.replace(".3.", ".4."),
            token.replace("session", "sessioN"),
            format!("{token}x"),
            token.replacen("v2", "v3", 1),
            token[..token.len() - 1].to_owned(),
            String::new(),
            "v2.".to_owned(),
            "v2.a.b".to_owned(),
            URL_SAFE_NO_PAD.encode([7u8; 32]),
        ] {
            assert_eq!(keys.open(&tampered), None, "{tampered:?}");
        }
    }

    #[test]
    fn refresh_hash_is_sha256_hex() {
        assert_eq!(
            hash_refresh_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
