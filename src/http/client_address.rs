//! The client's address: the peer, or behind `TRUSTED_PROXIES` the address they forwarded.
//! Resolved where it is needed (the rate limit, the session records, the request log), all
//! through [`client_address`], so they always agree; `/validate` never pays for it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

use crate::client_ip::TrustedProxies;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client address of a request, from its connection info and headers; `None` when the
/// connection info is missing (a request not from a socket, in unit tests).
pub fn client_address(
    trusted: &TrustedProxies,
    extensions: &Extensions,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let ConnectInfo(peer) = extensions.get::<ConnectInfo<SocketAddr>>()?;
    if trusted.is_empty() {
        return Some(peer.ip());
    }
    let forwarded = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok());
    Some(trusted.client_ip(peer.ip(), forwarded))
}
