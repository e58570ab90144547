//! Access tokens: JWTs that every seed's clients and PyJWT-based services understand, signed
//! and verified through the `KeySet`.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::keys::KeySet;
use super::sign_in::{Acr, AuthMethod, SignIn};
use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::secrets::random_token;
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
    /// When the user last proved who they are in this session (the login, or a
    /// re-authentication since); kept by refreshes. Absent from tokens of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// How: `["pwd"]`, `["pwd", "otp"]` or `["pwd", "rc"]` (RFC 8176).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<AuthMethod>,
    /// `aal1` (a password) or `aal2` (and a second factor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<Acr>,
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

/// A token that passed signature, time and issuer checks.
#[derive(Debug)]
pub struct VerifiedToken {
    pub claims: Claims,
    /// The payload exactly as signed, for `/validate` to hand back unchanged.
    pub payload_json: Vec<u8>,
}

/// Issues and verifies Gatehouse's access tokens.
pub struct AccessTokens {
    keys: Arc<KeySet>,
    issuer: String,
    ttl_secs: i64,
    /// `MFA_REQUIRED_FOR_ADMIN`: `admin: true` only in tokens of a sign-in with a second factor.
    admin_needs_second_factor: bool,
}

impl AccessTokens {
    pub fn new(keys: Arc<KeySet>, issuer: String, ttl_secs: i64) -> Self {
        Self {
            keys,
            issuer,
            ttl_secs,
            admin_needs_second_factor: false,
        }
    }

    /// `MFA_REQUIRED_FOR_ADMIN=true`: an admin's tokens say `admin: true` only when the sign-in
    /// used a second factor, so gateways that read `admin` from `/validate` require one for
    /// their admin routes without a change.
    pub fn with_admin_needing_second_factor(mut self, needed: bool) -> Self {
        self.admin_needs_second_factor = needed;
        self
    }

    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// When a token issued at `now` in a session expiring at `session_expires_at` expires.
    pub fn expiry(&self, now: i64, session_expires_at: i64) -> i64 {
        now.saturating_add(self.ttl_secs).min(session_expires_at)
    }

    /// Signs a fresh token for `user` in session `sid`, issued at `now`, saying how the user
    /// signed in (`sign_in`). It expires after the access-token lifetime or when its session
    /// does (`session_expires_at`), whichever comes first: a token never outlives its session.
    pub fn issue(
        &self,
        user: &User,
        sid: &str,
        now: i64,
        session_expires_at: i64,
        sign_in: &SignIn,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let second_factor_ok = !self.admin_needs_second_factor || sign_in.second_factor.is_some();
        let claims = Claims {
            sub: user.id.to_string(),
            username: user.email.clone(),
            email: user.email.clone(),
            admin: user.admin && second_factor_ok,
            iat: now,
            exp: self.expiry(now, session_expires_at),
            jti: random_token(16),
            iss: self.issuer.clone(),
            sid: Some(sid.to_owned()),
            auth_time: Some(sign_in.auth_time),
            amr: sign_in.methods(),
            acr: Some(sign_in.acr()),
        };
        let token = self.keys.sign(&claims, now)?;
        Ok((token, claims))
    }

    /// Checks key, signature, algorithm, issuer, `exp` and `iat` (with leeway) at time `now`.
    /// Revocation is the caller's next step (see `auth::revocation`).
    pub fn verify(&self, token: &str, now: i64) -> Result<VerifiedToken, TokenError> {
        let (claims, key_stopped_signing): (Claims, _) = self.keys.verify(token, now)?;
        if claims.exp + CLOCK_SKEW_LEEWAY_SECS < now {
            return Err(TokenError::Expired);
        }
        let after_its_key = key_stopped_signing
            .is_some_and(|at| claims.iat > at.saturating_add(CLOCK_SKEW_LEEWAY_SECS));
        if after_its_key {
            return Err(TokenError::Invalid);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;

    fn user() -> User {
        User::example()
    }

    fn password() -> SignIn {
        SignIn::new(None, 900)
    }

    fn tokens(secret: &str, issuer: &str) -> AccessTokens {
        let keys = Arc::new(KeySet::hs256(&Secret::new(secret)));
        AccessTokens::new(keys, issuer.into(), 3600)
    }

    fn keys() -> AccessTokens {
        tokens(&"s".repeat(32), "gatehouse")
    }

    #[test]
    fn issued_token_verifies_and_carries_every_claim() {
        let (token, claims) = keys()
            .issue(&user(), "s1", 1_000, i64::MAX, &password())
            .unwrap();
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
        let (_, claims) = keys()
            .issue(&user(), "s1", 1_000, 1_500, &password())
            .unwrap();
        assert_eq!(claims.exp, 1_500);
    }

    #[test]
    fn expiry_allows_the_leeway_and_no_more() {
        let (token, claims) = keys()
            .issue(&user(), "s1", 1_000, i64::MAX, &password())
            .unwrap();
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
        let (token, _) = keys()
            .issue(&user(), "s1", 1_000, i64::MAX, &password())
            .unwrap();
        assert_eq!(
            keys()
                .verify(&token, 1_000 - CLOCK_SKEW_LEEWAY_SECS - 1)
                .unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn other_secret_or_issuer_is_refused() {
        let (token, _) = keys()
            .issue(&user(), "s1", 1_000, i64::MAX, &password())
            .unwrap();
        let other = tokens(&"t".repeat(32), "gatehouse");
        assert_eq!(
            other.verify(&token, 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        let other_iss = tokens(&"s".repeat(32), "elsewhere");
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

    #[test]
    fn tokens_say_how_the_user_signed_in() {
        let (_, claims) = keys()
            .issue(&user(), "s1", 1_000, i64::MAX, &password())
            .unwrap();
        assert_eq!(claims.auth_time, Some(900));
        assert_eq!(claims.amr, [AuthMethod::Pwd]);
        assert_eq!(claims.acr, Some(Acr::Aal1));
    }

    #[test]
    fn with_mfa_required_for_admin_only_a_second_factor_makes_a_token_admin() {
        let strict = tokens(&"s".repeat(32), "gatehouse").with_admin_needing_second_factor(true);
        let (_, by_password) = strict
            .issue(&user(), "s1", 1_000, i64::MAX, &password())
            .unwrap();
        assert!(!by_password.admin);
        let otp = SignIn::new(Some(super::super::sign_in::SecondFactor::Otp), 900);
        let (_, by_otp) = strict.issue(&user(), "s1", 1_000, i64::MAX, &otp).unwrap();
        assert!(by_otp.admin);
        let mut plain = user();
        plain.admin = false;
        let (_, not_admin) = strict.issue(&plain, "s1", 1_000, i64::MAX, &otp).unwrap();
        assert!(!not_admin.admin, "a second factor makes no one an admin");
    }
}
