//! The floor for Gatehouse's `/validate` benchmark (`bench/run`): the least an axum server can
//! do for that endpoint. `POST /validate` verifies `Authorization: Bearer <jwt>` with
//! jsonwebtoken (signature and `exp`) and answers 200 with the claims as JSON, 401 otherwise.
//! No middleware, no logging, no revocation list, no key lookup by `kid`: every Gatehouse
//! throughput figure is a ratio against this server on the same machine.
//!
//! Environment: `FLOOR_ALGORITHM` (HS256, the default; EdDSA or ES256), `PORT` (default 5001),
//! `HOST` (default 127.0.0.1). HS256 verifies with `JWT_SECRET` (required). EdDSA and ES256
//! verify with a public key: `FLOOR_JWKS` holds a JWKS document (what Gatehouse serves at
//! `/.well-known/jwks.json`, which bench/run fetches with curl), and the floor takes its one
//! key of that algorithm, so that it checks the very signatures Gatehouse makes.
//!
//! ```sh
//! JWT_SECRET=$(openssl rand -hex 32) PORT=5001 cargo run --release --example floor
//! FLOOR_ALGORITHM=EdDSA FLOOR_JWKS="$(curl -s localhost:8080/.well-known/jwks.json)" \
//!     cargo run --release --example floor
//! ```

use std::error::Error;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

struct Keys {
    decoding: DecodingKey,
    validation: Validation,
}

async fn validate(
    State(keys): State<Arc<Keys>>,
    headers: HeaderMap,
) -> Result<Json<Map<String, Value>>, StatusCode> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(StatusCode::UNAUTHORIZED)?;
    jsonwebtoken::decode::<Map<String, Value>>(token, &keys.decoding, &keys.validation)
        .map(|data| Json(data.claims))
        .map_err(|_| StatusCode::UNAUTHORIZED)
}

/// The one key of `algorithm` in the JWKS document `FLOOR_JWKS`.
fn public_key(algorithm: Algorithm) -> Result<DecodingKey, Box<dyn Error>> {
    let jwks =
        std::env::var("FLOOR_JWKS").map_err(|_| "FLOOR_JWKS must be set for EdDSA and ES256")?;
    let jwks: JwkSet = serde_json::from_str(&jwks).map_err(|e| format!("FLOOR_JWKS: {e}"))?;
    let fits = |params: &AlgorithmParameters| match (algorithm, params) {
        (Algorithm::EdDSA, AlgorithmParameters::OctetKeyPair(p)) => {
            p.curve == EllipticCurve::Ed25519
        }
        (Algorithm::ES256, AlgorithmParameters::EllipticCurve(p)) => p.curve == EllipticCurve::P256,
        _ => false,
    };
    let mut keys = jwks.keys.iter().filter(|jwk| fits(&jwk.algorithm));
    match (keys.next(), keys.next()) {
        (Some(jwk), None) => Ok(DecodingKey::from_jwk(jwk)?),
        (None, _) => Err(format!("FLOOR_JWKS holds no {algorithm:?} key").into()),
        (Some(_), Some(_)) => Err(format!("FLOOR_JWKS holds several {algorithm:?} keys").into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let algorithm = match std::env::var("FLOOR_ALGORITHM").as_deref() {
        Ok("HS256") | Err(_) => Algorithm::HS256,
        Ok("EdDSA") => Algorithm::EdDSA,
        Ok("ES256") => Algorithm::ES256,
        Ok(other) => return Err(format!("FLOOR_ALGORITHM {other:?}: HS256, EdDSA or ES256").into()),
    };
    let decoding = if algorithm == Algorithm::HS256 {
        let secret = std::env::var("JWT_SECRET").map_err(|_| "JWT_SECRET must be set")?;
        DecodingKey::from_secret(secret.as_bytes())
    } else {
        public_key(algorithm)?
    };
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|_| "PORT must be a port number")?,
        Err(_) => 5001,
    };
    let host: IpAddr = match std::env::var("HOST") {
        Ok(host) => host.parse().map_err(|_| "HOST must be an IP address")?,
        Err(_) => IpAddr::from([127, 0, 0, 1]),
    };
    let keys = Arc::new(Keys {
        decoding,
        validation: Validation::new(algorithm),
    });
    let app = Router::new()
        .route("/validate", post(validate))
        .with_state(keys);
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    eprintln!(
        "floor ({algorithm:?}) listening on {}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
