//! Access tokens: HS256 JWTs that every seed's clients and PyJWT-based services understand.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::secret::random_token;
use super::CLOCK_SKEW_LEEWAY_SECS;
use crate::config::Secret;
use crate::store::User;

/// The claims of every token Gatehouse issues. `username` is the email, as seeds 000/004 put it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Claims {
    /// The user id, as a string.
    pub sub: String,
    pub username: String,
    pub email: String,
    pub admin: bool,
    pub iat: i64,
    pub exp: i64,
    /// Unique per token; what logout revokes.
    pub jti: String,
    pub iss: String,
    /// The session this token belongs to; ending the session revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl Claims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token missing")]
    Missing,
    #[error("token signature does not match")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token revoked")]
    Revoked,
    #[error("user disabled or deleted")]
    UserBlocked,
    #[error("token malformed or not ours")]
    Invalid,
}

/// A token signed by a seed service with the same secret (seeds 000/004:
/// `{"username": email, "exp", "iat", "admin"}`), after its signature and times were checked.
/// It names its user by email only; `legacy::tokens` maps it to a Gatehouse user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyToken {
    /// The `username` claim (or `email`), as signed.
    pub email: String,
    /// True only for a JSON `true`; never more than the user's record allows (see `for_legacy`).
    pub admin: bool,
    pub iat: Option<i64>,
    pub exp: i64,
    /// The old services set no `jti`: this synthetic one is `legacy-` and the base64url
    /// SHA-256 of the whole token, so logout can revoke the token without storing it.
    pub jti: String,
}

/// What a seed token may carry. `jti`, `iss` and `sid` are read only to refuse tokens that
/// have them: Gatehouse's own tokens have them, and must never pass as legacy ones (that would
/// bypass their revocation by `jti` and session).
#[derive(Deserialize)]
struct LegacyPayload {
    username: Option<String>,
    email: Option<String>,
    admin: Option<serde_json::Value>,
    exp: Option<f64>,
    iat: Option<f64>,
    nbf: Option<f64>,
    jti: Option<serde::de::IgnoredAny>,
    iss: Option<serde::de::IgnoredAny>,
    sid: Option<serde::de::IgnoredAny>,
}

/// The `iss` of the claims built for a legacy token: it was not issued by Gatehouse.
pub const LEGACY_ISSUER: &str = "legacy";

impl Claims {
    /// The claims a legacy token stands for: `user`'s id and email, and `admin` only if both
    /// the token and the user's record say so.
    pub fn for_legacy(user: &User, token: &LegacyToken) -> Self {
        Self {
            sub: user.id.to_string(),
            username: user.email.clone(),
            email: user.email.clone(),
            admin: token.admin && user.admin,
            iat: token.iat.unwrap_or(0),
            exp: token.exp,
            jti: token.jti.clone(),
            iss: LEGACY_ISSUER.to_owned(),
            sid: None,
        }
    }
}

/// A token that passed signature, time and issuer checks.
#[derive(Debug)]
pub struct VerifiedToken {
    pub claims: Claims,
    /// The payload exactly as signed, for `/validate` to hand back unchanged.
    pub payload_json: Vec<u8>,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl_secs: i64,
}

impl TokenKeys {
    pub fn new(secret: &Secret, issuer: String, ttl_secs: i64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Time and issuer are checked in `verify` against the injected clock instead.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims = HashSet::new();
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            issuer,
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs a fresh token for `user` in session `sid`, issued at `now`. It expires after the
    /// access-token lifetime or when its session does (`session_expires_at`), whichever comes
    /// first: a token never outlives its session.
    pub fn issue(
        &self,
        user: &User,
        sid: &str,
        now: i64,
        session_expires_at: i64,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user.id.to_string(),
            username: user.email.clone(),
            email: user.email.clone(),
            admin: user.admin,
            iat: now,
            exp: (now + self.ttl_secs).min(session_expires_at),
            jti: random_token(16),
            iss: self.issuer.clone(),
            sid: Some(sid.to_owned()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, claims))
    }

    /// Checks signature, algorithm, issuer, `exp` and `iat` (with leeway) at time `now`.
    /// Revocation is the caller's next step (see `auth::revocation`).
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                _ => TokenError::Invalid,
            })?;
        let claims = data.claims;
        if claims.exp + CLOCK_SKEW_LEEWAY_SECS < now {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + CLOCK_SKEW_LEEWAY_SECS || claims.iss != self.issuer {
            return Err(TokenError::Invalid);
        }
        let payload_json = token
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .ok_or(TokenError::Invalid)?;
        Ok(VerifiedToken {
            claims,
            payload_json,
        })
    }
}

impl TokenKeys {
    /// Checks a token in the seeds' shape: signature and algorithm as `verify`, `exp` required
    /// and checked with the same leeway, `iat`/`nbf` not in the future, and a `username` (or
    /// `email`) naming the user. Only called when `verify` found the token not to be ours.
    ///
    /// Seed 002's tokens (`{"sub": <its own row id>, "iat", "exp"}`) are refused: their `sub` is
    /// the old table's id, which means nothing here (read as a Gatehouse id it would name
    /// someone else), and they lived one minute.
    pub fn verify_legacy(&self, token: &str, now: i64) -> Result<LegacyToken, TokenError> {
        let data = jsonwebtoken::decode::<LegacyPayload>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            _ => TokenError::Invalid,
        })?;
        let p = data.claims;
        if p.jti.is_some() || p.iss.is_some() || p.sid.is_some() {
            return Err(TokenError::Invalid);
        }
        // Whole seconds (PyJWT writes integers; floats are tolerated), within ±10^15 so that
        // adding the leeway cannot overflow.
        let seconds = |t: f64| (t.is_finite() && t.abs() < 1e15).then_some(t.floor() as i64);
        let exp = p.exp.and_then(seconds).ok_or(TokenError::Invalid)?;
        if exp + CLOCK_SKEW_LEEWAY_SECS < now {
            return Err(TokenError::Expired);
        }
        let iat = p
            .iat
            .map(|t| seconds(t).ok_or(TokenError::Invalid))
            .transpose()?;
        let nbf = p
            .nbf
            .map(|t| seconds(t).ok_or(TokenError::Invalid))
            .transpose()?;
        let future = |t: Option<i64>| t.is_some_and(|t| t > now + CLOCK_SKEW_LEEWAY_SECS);
        if future(iat) || future(nbf) {
            return Err(TokenError::Invalid);
        }
        let email = match (p.username, p.email) {
            (Some(username), Some(email)) if !username.eq_ignore_ascii_case(&email) => {
                return Err(TokenError::Invalid)
            }
            (Some(name), _) | (None, Some(name)) => name,
            (None, None) => return Err(TokenError::Invalid),
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        Ok(LegacyToken {
            email,
            admin: p.admin == Some(serde_json::Value::Bool(true)),
            iat,
            exp,
            jti: format!("legacy-{}", URL_SAFE_NO_PAD.encode(digest.as_ref())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        User {
            id: 7,
            email: "ada@example.com".into(),
            username: None,
            name: "Ada".into(),
            password_hash: String::new(),
            admin: true,
            disabled: false,
            created_at: 0,
        }
    }

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("s".repeat(32)), "gatehouse".into(), 3600)
    }

    #[test]
    fn issued_token_verifies_and_carries_every_claim() {
        let (token, claims) = keys().issue(&user(), "s1", 1_000, i64::MAX).unwrap();
        let verified = keys().verify(&token, 1_000).unwrap();
        assert_eq!(verified.claims, claims);
        assert_eq!(
            (claims.sub.as_str(), claims.username.as_str()),
            ("7", "ada@example.com")
        );
        assert!(claims.admin);
        assert_eq!(claims.exp - claims.iat, 3600);
        let payload: Claims = serde_json::from_slice(&verified.payload_json).unwrap();
        assert_eq!(payload, claims);
    }

    #[test]
    fn a_token_never_outlives_its_session() {
        let (_, claims) = keys().issue(&user(), "s1", 1_000, 1_500).unwrap();
        assert_eq!(claims.exp, 1_500);
    }

    #[test]
    fn expiry_allows_the_leeway_and_no_more() {
        let (token, claims) = keys().issue(&user(), "s1", 1_000, i64::MAX).unwrap();
        assert!(keys()
            .verify(&token, claims.exp + CLOCK_SKEW_LEEWAY_SECS)
            .is_ok());
        assert_eq!(
            keys()
                .verify(&token, claims.exp + CLOCK_SKEW_LEEWAY_SECS + 1)
                .unwrap_err(),
            TokenError::Expired
        );
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let (token, _) = keys().issue(&user(), "s1", 1_000, i64::MAX).unwrap();
        assert_eq!(
            keys()
                .verify(&token, 1_000 - CLOCK_SKEW_LEEWAY_SECS - 1)
                .unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn other_secret_or_issuer_is_refused() {
        let (token, _) = keys().issue(&user(), "s1", 1_000, i64::MAX).unwrap();
        let other = TokenKeys::new(&Secret::new("t".repeat(32)), "gatehouse".into(), 3600);
        assert_eq!(
            other.verify(&token, 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        let other_iss = TokenKeys::new(&Secret::new("s".repeat(32)), "elsewhere".into(), 3600);
        assert_eq!(
            other_iss.verify(&token, 1_000).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn alg_none_and_garbage_are_refused() {
        // {"alg":"none","typ":"JWT"} . {"sub":"1"} . (no signature)
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIn0.";
        assert_eq!(keys().verify(none, 0).unwrap_err(), TokenError::Invalid);
        assert_eq!(
            keys().verify("not.a.jwt", 0).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(keys().verify("", 0).unwrap_err(), TokenError::Invalid);
    }

    fn legacy(claims: serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn seed_000_tokens_verify_as_legacy_only() {
        let secret = "s".repeat(32);
        let token = legacy(
            serde_json::json!({"username": "ada@example.com", "exp": 2_000, "iat": 1_000, "admin": true}),
            &secret,
        );
        assert_eq!(
            keys().verify(&token, 1_500).unwrap_err(),
            TokenError::Invalid
        );
        let verified = keys().verify_legacy(&token, 1_500).unwrap();
        assert_eq!(verified.email, "ada@example.com");
        assert!(verified.admin);
        assert_eq!((verified.iat, verified.exp), (Some(1_000), 2_000));
        assert!(verified.jti.starts_with("legacy-") && verified.jti.len() == 50);
        assert_eq!(
            keys().verify_legacy(&token, 1_600).unwrap().jti,
            verified.jti
        );

        let mut user = user();
        user.admin = false;
        let claims = Claims::for_legacy(&user, &verified);
        assert!(
            !claims.admin,
            "the token's admin claim never outranks the record"
        );
        assert_eq!(
            (claims.sub.as_str(), claims.iss.as_str()),
            ("7", LEGACY_ISSUER)
        );
    }

    #[test]
    fn legacy_tokens_keep_the_time_and_signature_checks() {
        let secret = "s".repeat(32);
        let token = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000}),
            &secret,
        );
        assert!(keys()
            .verify_legacy(&token, 2_000 + CLOCK_SKEW_LEEWAY_SECS)
            .is_ok());
        assert_eq!(
            keys()
                .verify_legacy(&token, 2_001 + CLOCK_SKEW_LEEWAY_SECS)
                .unwrap_err(),
            TokenError::Expired
        );
        let other = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000}),
            &"t".repeat(32),
        );
        assert_eq!(
            keys().verify_legacy(&other, 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        let future = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 9_000, "iat": 5_000}),
            &secret,
        );
        assert_eq!(
            keys().verify_legacy(&future, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let no_exp = legacy(serde_json::json!({"username": "a@b.co"}), &secret);
        assert_eq!(
            keys().verify_legacy(&no_exp, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let huge = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 1e300}),
            &secret,
        );
        assert_eq!(
            keys().verify_legacy(&huge, 1_000).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn gatehouse_and_seed_002_tokens_are_never_legacy() {
        let (ours, _) = keys().issue(&user(), "s1", 1_000, i64::MAX).unwrap();
        assert_eq!(
            keys().verify_legacy(&ours, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let seed_002 = legacy(
            serde_json::json!({"sub": 7, "iat": 1_000, "exp": 1_060}),
            &"s".repeat(32),
        );
        assert_eq!(
            keys().verify(&seed_002, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            keys().verify_legacy(&seed_002, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let other_iss = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000, "iss": "elsewhere"}),
            &"s".repeat(32),
        );
        assert_eq!(
            keys().verify_legacy(&other_iss, 1_000).unwrap_err(),
            TokenError::Invalid
        );
    }
}
