//! `AppState`: the services every handler can reach, built once by `app`.

use std::sync::Arc;

use super::probes::Readiness;
use crate::accounts::Accounts;
use crate::auth::access::Authenticator;
use crate::auth::clients::ClientRegistry;
use crate::auth::introspection::TokenInspector;
use crate::auth::keys::KeySet;
use crate::auth::login::LoginService;
use crate::auth::mfa::Mfa;
use crate::auth::session::SessionService;
use crate::client_ip::TrustedProxies;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::store::Store;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    /// For the few reads a handler makes itself (a user's details, the health checks).
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Bearer token → claims, from memory (the `AuthUser` extractor).
    pub access: Arc<Authenticator>,
    /// Every login contract's credential check.
    pub login: Arc<LoginService>,
    pub sessions: Arc<SessionService>,
    /// Second factors: enrolment, recovery codes.
    pub mfa: Arc<Mfa>,
    /// The OAuth clients that may introspect and revoke tokens (one read per request).
    pub clients: Arc<ClientRegistry>,
    /// Introspection and revocation for those clients.
    pub inspector: Arc<TokenInspector>,
    /// Signup.
    pub accounts: Arc<Accounts>,
    /// Whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<TrustedProxies>,
    /// What `/ready` checks besides the database: the revocation list's freshness.
    pub readiness: Readiness,
    /// Set by `http::router_with_metrics` when `METRICS_ADDR` is set; `None`: nothing counted.
    pub metrics: Option<Arc<Metrics>>,
    /// The signing keys, for the JWKS.
    pub keys: Arc<KeySet>,
    /// What the discovery documents say about this deployment.
    pub discovery: Arc<Discovery>,
    /// `REAUTH_MAX_AGE_SECS`: how recent a sign-in `RecentSignIn` accepts.
    pub reauth_max_age_secs: i64,
}

/// The settings behind `/.well-known/*`.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// `JWT_ISSUER`: the `iss` of every token.
    pub issuer: String,
    /// `PUBLIC_URL`, without a trailing slash.
    pub public_url: Option<String>,
    /// `JWKS_MAX_AGE_SECS`: the JWKS's `Cache-Control: max-age`.
    pub jwks_max_age_secs: i64,
}
