//! The old service's tokens, read: the seeds' claim shape checked and turned into the claims
//! Gatehouse stands behind. Which user they name, and whether they are still accepted, is
//! `legacy::tokens`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;

use crate::auth::keys::KeySet;
use crate::auth::token::{Claims, TokenError};
use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::store::User;

/// A token signed by a seed service with the same secret (seeds 000/004:
/// `{"username": email, "exp", "iat", "admin"}`), after its signature and times were checked.
/// It names its user by email only; `legacy::tokens` maps it to a Gatehouse user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyToken {
    /// The `username` claim (or `email`), as signed.
    pub email: String,
    /// True only for a JSON `true`; never more than the user's record allows (see `claims_for`).
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

/// The claims a legacy token stands for: `user`'s id and email, and `admin` only if both the
/// token and the user's record say so.
pub fn claims_for(user: &User, token: &LegacyToken) -> Claims {
    Claims {
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

/// Checks a token in the seeds' shape: signature and algorithm as `verify`, `exp` required
/// and checked with the same leeway, `iat`/`nbf` not in the future, and a `username` (or
/// `email`) naming the user. Only called when `verify` found the token not to be ours.
///
/// Seed 002's tokens (`{"sub": <its own row id>, "iat", "exp"}`) are refused: their `sub` is
/// the old table's id, which means nothing here (read as a Gatehouse id it would name
/// someone else), and they lived one minute.
pub fn verify(keys: &KeySet, token: &str, now: i64) -> Result<LegacyToken, TokenError> {
    let p: LegacyPayload = keys.verify_legacy(token)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::token::AccessTokens;
    use crate::secrets::Secret;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use std::sync::Arc;

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

    fn keys() -> KeySet {
        KeySet::hs256(&Secret::new("s".repeat(32)))
    }

    fn ours() -> AccessTokens {
        AccessTokens::new(Arc::new(keys()), "gatehouse".into(), 3600)
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
            ours().verify(&token, 1_500).unwrap_err(),
            TokenError::Invalid
        );
        let verified = verify(&keys(), &token, 1_500).unwrap();
        assert_eq!(verified.email, "ada@example.com");
        assert!(verified.admin);
        assert_eq!((verified.iat, verified.exp), (Some(1_000), 2_000));
        assert!(verified.jti.starts_with("legacy-") && verified.jti.len() == 50);
        assert_eq!(verify(&keys(), &token, 1_600).unwrap().jti, verified.jti);

        let mut user = user();
        user.admin = false;
        let claims = claims_for(&user, &verified);
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
        assert!(verify(&keys(), &token, 2_000 + CLOCK_SKEW_LEEWAY_SECS).is_ok());
        assert_eq!(
            verify(&keys(), &token, 2_001 + CLOCK_SKEW_LEEWAY_SECS).unwrap_err(),
            TokenError::Expired
        );
        let other = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000}),
            &"t".repeat(32),
        );
        assert_eq!(
            verify(&keys(), &other, 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        let future = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 9_000, "iat": 5_000}),
            &secret,
        );
        assert_eq!(
            verify(&keys(), &future, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let no_exp = legacy(serde_json::json!({"username": "a@b.co"}), &secret);
        assert_eq!(
            verify(&keys(), &no_exp, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let huge = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 1e300}),
            &secret,
        );
        assert_eq!(
            verify(&keys(), &huge, 1_000).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn gatehouse_and_seed_002_tokens_are_never_legacy() {
        let (own, _) = ours().issue(&user(), "s1", 1_000, i64::MAX).unwrap();
        assert_eq!(
            verify(&keys(), &own, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let seed_002 = legacy(
            serde_json::json!({"sub": 7, "iat": 1_000, "exp": 1_060}),
            &"s".repeat(32),
        );
        assert_eq!(
            ours().verify(&seed_002, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            verify(&keys(), &seed_002, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let other_iss = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000, "iss": "elsewhere"}),
            &"s".repeat(32),
        );
        assert_eq!(
            verify(&keys(), &other_iss, 1_000).unwrap_err(),
            TokenError::Invalid
        );
    }
}
