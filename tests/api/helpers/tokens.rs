//! Verifying and forging tokens the way another service holding the secret would.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

/// Verifies `token` as HS256 signed with `secret` and issued by `gatehouse`; returns its claims.
pub fn decode_claims(token: &str, secret: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&["gatehouse"]);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
    jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .unwrap_or_else(|e| panic!("token {token:?} does not verify with the secret: {e}"))
    .claims
}

/// The header of `token`, unverified.
pub fn token_header(token: &str) -> Value {
    let part = token.split('.').next().expect("a header part");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url header");
    serde_json::from_slice(&bytes).expect("JSON header")
}

/// Signs `claims` with HS256 and `secret`.
pub fn forge_token(claims: &Value, secret: &str) -> String {
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("sign a token")
}
