//! The floor for Gatehouse's `/validate` benchmark (`bench/run`): the least an axum server can
//! do for that endpoint. `POST /validate` HS256-verifies `Authorization: Bearer <jwt>` with
//! jsonwebtoken (signature and `exp`) and answers 200 with the claims as JSON, 401 otherwise.
//! No middleware, no logging, no revocation list: every Gatehouse throughput figure is a ratio
//! against this server on the same machine.
//!
//! Environment: `JWT_SECRET` (required), `PORT` (default 5001), `HOST` (default 127.0.0.1).
//!
//! ```sh
//! JWT_SECRET=$(openssl rand -hex 32) PORT=5001 cargo run --release --example floor
//! ```

use std::error::Error;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("JWT_SECRET").map_err(|_| "JWT_SECRET must be set")?;
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|_| "PORT must be a port number")?,
        Err(_) => 5001,
    };
    let host: IpAddr = match std::env::var("HOST") {
        Ok(host) => host.parse().map_err(|_| "HOST must be an IP address")?,
        Err(_) => IpAddr::from([127, 0, 0, 1]),
    };
    let keys = Arc::new(Keys {
        decoding: DecodingKey::from_secret(secret.as_bytes()),
        validation: Validation::new(Algorithm::HS256),
    });
    let app = Router::new()
        .route("/validate", post(validate))
        .with_state(keys);
    let listener = tokio::net::TcpListener::bind((host, port)).await?;
    eprintln!("floor listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
