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
    /// The `username` claim (or `email`), as signed: the old row's email, exactly.
    pub email: String,
    /// True only for a JSON `true`; never more than the user's record allows (see `claims_for`).
    pub admin: bool,
    pub iat: i64,
    pub exp: i64,
    /// The old services set no `jti`: this synthetic one is `legacy-` and the base64url
    /// SHA-256 of the whole token, so logout can revoke the token without storing it.
    pub jti: String,
}

/// What a seed token may carry, and nothing else. `jti`, `iss` and `sid` are read only to
/// refuse tokens that have them: Gatehouse's own tokens have them, and must never pass as
/// legacy ones (that would bypass their revocation by `jti` and session).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
        iat: token.iat,
        exp: token.exp,
        jti: token.jti.clone(),
        iss: LEGACY_ISSUER.to_owned(),
        sid: None,
        // Unknown: the old service did not say how or when its user signed in.
        auth_time: None,
        amr: Vec::new(),
        acr: None,
    }
}

/// How far the old service's tokens are trusted (`ACCEPT_LEGACY_TOKENS` and its bounds, with
/// the switch-over time decided).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyTokenPolicy {
    /// Tokens issued (`iat`) after this were not issued before the switch to Gatehouse: the old
    /// service still running, or a token forged with a leaked secret after it.
    pub issued_before: i64,
    /// The longest a token may live (`exp - iat`) and the oldest it may be (`now - iat`).
    pub max_age: i64,
    /// After this, no old token is accepted at all.
    pub until: i64,
}

/// Checks a token in the seeds' shape: signature and algorithm as `verify`, only the seeds'
/// claims (`username`/`email`, `admin`, `exp`, `iat`, `nbf`), `exp` and `iat` required and
/// within `policy`, nothing in the future, and a `username` (or `email`) naming the user. Only
/// called when `verify` found the token not to be ours.
///
/// Other JWTs signed with the same secret are refused by their shape: Gatehouse's own (they
/// have `jti`, `iss`, `sid`), seed 002's (`{"sub": <its own row id>, …}`: that id means
/// nothing here), and a Flask app's password-reset or confirmation tokens (claims of their
/// own) (RFC 8725 §2.8, §3.11).
pub fn verify(
    keys: &KeySet,
    token: &str,
    now: i64,
    policy: &LegacyTokenPolicy,
) -> Result<LegacyToken, TokenError> {
    if now > policy.until {
        return Err(TokenError::Invalid);
    }
    let p: LegacyPayload = keys.verify_legacy(token)?;
    if p.jti.is_some() || p.iss.is_some() || p.sid.is_some() {
        return Err(TokenError::Invalid);
    }
    // Whole seconds (PyJWT writes integers; floats are tolerated), within ±10^15 so that
    // sums of them and the leeway cannot overflow.
    let seconds = |t: f64| (t.is_finite() && t.abs() < 1e15).then_some(t.floor() as i64);
    let exp = p.exp.and_then(seconds).ok_or(TokenError::Invalid)?;
    let iat = p.iat.and_then(seconds).ok_or(TokenError::Invalid)?;
    let nbf = p
        .nbf
        .map(|t| seconds(t).ok_or(TokenError::Invalid))
        .transpose()?;
    if exp + CLOCK_SKEW_LEEWAY_SECS < now {
        return Err(TokenError::Expired);
    }
    let future = |t: i64| t > now + CLOCK_SKEW_LEEWAY_SECS;
    if future(iat) || nbf.is_some_and(future) {
        return Err(TokenError::Invalid);
    }
    if iat > policy.issued_before || exp - iat > policy.max_age {
        return Err(TokenError::Invalid);
    }
    if iat.saturating_add(policy.max_age) + CLOCK_SKEW_LEEWAY_SECS < now {
        return Err(TokenError::Expired);
    }
    let email = match (p.username, p.email) {
        (Some(username), Some(email)) if username != email => return Err(TokenError::Invalid),
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
        User::example()
    }

    fn keys() -> KeySet {
        KeySet::hs256(&Secret::new("s".repeat(32)))
    }

    fn ours() -> AccessTokens {
        AccessTokens::new(Arc::new(keys()), "gatehouse".into(), 3600)
    }

    /// Issued up to time 1,500, living a day at most, accepted for ever.
    fn policy() -> LegacyTokenPolicy {
        LegacyTokenPolicy {
            issued_before: 1_500,
            max_age: 86_400,
            until: i64::MAX,
        }
    }

    fn verify_now(token: &str, now: i64) -> Result<LegacyToken, TokenError> {
        verify(&keys(), token, now, &policy())
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
        let verified = verify_now(&token, 1_500).unwrap();
        assert_eq!(verified.email, "ada@example.com");
        assert!(verified.admin);
        assert_eq!((verified.iat, verified.exp), (1_000, 2_000));
        assert!(verified.jti.starts_with("legacy-") && verified.jti.len() == 50);
        assert_eq!(verify_now(&token, 1_600).unwrap().jti, verified.jti);

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
            serde_json::json!({"username": "a@b.co", "exp": 2_000, "iat": 1_000}),
            &secret,
        );
        assert!(verify_now(&token, 2_000 + CLOCK_SKEW_LEEWAY_SECS).is_ok());
        assert_eq!(
            verify_now(&token, 2_001 + CLOCK_SKEW_LEEWAY_SECS).unwrap_err(),
            TokenError::Expired
        );
        let other = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000, "iat": 1_000}),
            &"t".repeat(32),
        );
        assert_eq!(
            verify_now(&other, 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        let future = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 9_000, "iat": 1_400}),
            &secret,
        );
        assert_eq!(verify_now(&future, 1_000).unwrap_err(), TokenError::Invalid);
        let no_exp = legacy(
            serde_json::json!({"username": "a@b.co", "iat": 1_000}),
            &secret,
        );
        assert_eq!(verify_now(&no_exp, 1_000).unwrap_err(), TokenError::Invalid);
        let huge = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 1e300, "iat": 1_000}),
            &secret,
        );
        assert_eq!(verify_now(&huge, 1_000).unwrap_err(), TokenError::Invalid);
    }

    #[test]
    fn gatehouse_and_seed_002_tokens_are_never_legacy() {
        let (own, _) = ours()
            .issue(
                &user(),
                "s1",
                1_000,
                i64::MAX,
                &crate::auth::sign_in::SignIn::new(None, 1_000),
            )
            .unwrap();
        assert_eq!(verify_now(&own, 1_000).unwrap_err(), TokenError::Invalid);
        let seed_002 = legacy(
            serde_json::json!({"sub": 7, "iat": 1_000, "exp": 1_060}),
            &"s".repeat(32),
        );
        assert_eq!(
            ours().verify(&seed_002, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            verify_now(&seed_002, 1_000).unwrap_err(),
            TokenError::Invalid
        );
        let other_iss = legacy(
            serde_json::json!({"username": "a@b.co", "exp": 2_000, "iat": 1_000, "iss": "elsewhere"}),
            &"s".repeat(32),
        );
        assert_eq!(
            verify_now(&other_iss, 1_000).unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn only_tokens_issued_before_the_switch_and_within_a_day_pass() {
        let secret = "s".repeat(32);
        let token = |claims: serde_json::Value| legacy(claims, &secret);
        let refused = |claims: serde_json::Value, now: i64| verify_now(&token(claims), now);

        // No `iat`: when it was issued cannot be told.
        assert_eq!(
            refused(
                serde_json::json!({"username": "a@b.co", "exp": 2_000}),
                1_000
            ),
            Err(TokenError::Invalid)
        );
        // Issued after the switch (the old service still running, or a leaked secret).
        assert_eq!(
            refused(
                serde_json::json!({"username": "a@b.co", "exp": 3_000, "iat": 1_501}),
                1_600
            ),
            Err(TokenError::Invalid)
        );
        // An absurd lifetime.
        assert_eq!(
            refused(
                serde_json::json!({"username": "a@b.co", "exp": 1_000 + 86_401, "iat": 1_000}),
                1_100
            ),
            Err(TokenError::Invalid)
        );
        // Older than the longest lifetime, whatever its `exp` says.
        let day_old =
            serde_json::json!({"username": "a@b.co", "exp": 1_000 + 86_400, "iat": 1_000});
        assert!(refused(day_old.clone(), 1_000 + 86_400 + CLOCK_SKEW_LEEWAY_SECS).is_ok());
        assert_eq!(
            refused(day_old, 1_001 + 86_400 + CLOCK_SKEW_LEEWAY_SECS),
            Err(TokenError::Expired)
        );
        // A Flask password-reset token signed with the same secret: claims of its own.
        assert_eq!(
            refused(
                serde_json::json!({"reset_password": 7, "email": "a@b.co", "exp": 2_000, "iat": 1_000}),
                1_100
            ),
            Err(TokenError::Invalid)
        );
        // `username` and `email` that differ, even in case only.
        assert_eq!(
            refused(
                serde_json::json!({"username": "A@b.co", "email": "a@b.co", "exp": 2_000, "iat": 1_000}),
                1_100
            ),
            Err(TokenError::Invalid)
        );
        // After the sunset, nothing passes.
        let fine = token(serde_json::json!({"username": "a@b.co", "exp": 2_000, "iat": 1_000}));
        let sunset = LegacyTokenPolicy {
            until: 1_099,
            ..policy()
        };
        assert!(verify(&keys(), &fine, 1_099, &sunset).is_ok());
        assert_eq!(
            verify(&keys(), &fine, 1_100, &sunset).unwrap_err(),
            TokenError::Invalid
        );
    }
}
