//! The client's address, resolved once per request (the peer, or behind `TRUSTED_PROXIES`
//! the address they forwarded) and kept in the request's extensions, so the rate limits, the
//! session records and the request log all name the same client.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::client_ip::TrustedProxies;

/// The resolved client address of a request.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub IpAddr);

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The middleware: resolves the address before anything else reads it.
pub async fn resolve_client_address(
    State(trusted): State<Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    if let Some(peer) = peer {
        let headers = request.headers();
        let forwarded = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok());
        let client = trusted.client_ip(peer, forwarded);
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}
