//! A token bucket per client address on the credential endpoints (logins, signup, refresh,
//! password change): `RATE_LIMIT_PER_IP` requests a minute, in bursts of up to
//! `RATE_LIMIT_BURST`; past it, 429 with `Retry-After`. Per replica, in memory (governor).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_address::client_address;
use super::error::AppError;
use crate::client_ip::TrustedProxies;

pub struct ClientRateLimit {
    /// `None`: no limit (`RATE_LIMIT_PER_IP=0`).
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Arc<TrustedProxies>,
}

impl ClientRateLimit {
    pub fn new(per_minute: u32, burst: u32, trusted_proxies: Arc<TrustedProxies>) -> Self {
        let limiter = NonZeroU32::new(per_minute).map(|per_minute| {
            let burst = NonZeroU32::new(burst).unwrap_or(per_minute);
            RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Self {
            limiter,
            trusted_proxies,
        }
    }

    /// Forgets addresses whose bucket is full again, so the map holds only recent clients.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// `Err(seconds to wait)` when `address` has used up its bucket.
    fn check(&self, address: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// The middleware: refuses a client past its bucket before the handler runs.
pub async fn limit_per_client(
    State(limit): State<Arc<ClientRateLimit>>,
    request: Request,
    next: Next,
) -> Response {
    let address = client_address(
        &limit.trusted_proxies,
        request.extensions(),
        request.headers(),
    );
    if let Some(Err(retry_after_secs)) = address.map(|address| limit.check(address)) {
        return AppError::TooManyAttempts {
            message: "Too many requests from this address, try again later",
            retry_after_secs: retry_after_secs.max(1),
        }
        .into_response();
    }
    next.run(request).await
}
