//! The route table: every endpoint Gatehouse serves, grouped by who calls it. Each line
//! registers a handler and its OpenAPI description at once (utoipa-axum's `routes!` reads the
//! handler's `#[utoipa::path]`), so the router and `/openapi.json` cannot disagree.

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::ApiDoc;
use super::rate_limit::{limit_per_client, ClientRateLimit};
use super::state::AppState;
use super::{auth_api, gateway, health, mfa, oauth, probes, profile, reauth, sessions, well_known};

pub fn routes(rate_limit: Arc<ClientRateLimit>) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        // The seed contracts: what the old services' clients already send.
        // Gateways (seeds 000, 003, 004): a token for Basic or JSON credentials, and its claims.
        .routes(routes!(gateway::validate))
        .routes(routes!(profile::profile))
        // Seed 002's signup API.
        .routes(routes!(auth_api::ping))
        .routes(routes!(auth_api::user_details))
        // The session API: logout, a user's own sessions.
        .routes(routes!(sessions::logout))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::end_session))
        // The second factor: enrolment, recovery codes, what a user has.
        .routes(routes!(mfa::enrol_totp, mfa::remove_totp))
        .routes(routes!(mfa::mfa_status))
        // Health, for load balancers and orchestrators.
        .routes(routes!(health::health))
        .routes(routes!(health::auth_health))
        .routes(routes!(health::test_db))
        .routes(routes!(probes::live))
        .routes(routes!(probes::ready))
        // Discovery, for services that verify tokens themselves.
        .routes(routes!(well_known::jwks))
        .routes(routes!(well_known::openid_configuration))
        .routes(routes!(well_known::oauth_authorization_server))
        .merge(credential_routes(rate_limit))
    // Docs: `/openapi.json` itself is served by `openapi::router`, `/docs` by `docs::router`.
}

/// Everything that takes a password, a refresh token or a client secret, each client address
/// limited by its token bucket (`rate_limit`).
fn credential_routes(rate_limit: Arc<ClientRateLimit>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Gateways (seeds 000, 003, 004): a token for Basic or JSON credentials.
        .routes(routes!(gateway::login))
        // Seed 002's signup API.
        .routes(routes!(auth_api::signup))
        .routes(routes!(auth_api::login))
        // The second step of a login with a second factor (JSON contracts), and what takes a
        // code from a signed-in user.
        .routes(routes!(mfa::login_mfa))
        .routes(routes!(mfa::confirm_totp))
        .routes(routes!(mfa::new_recovery_codes))
        // The account API: what a signed-in user changes about their account.
        .routes(routes!(auth_api::change_password))
        .routes(routes!(reauth::reauth))
        // The session API: refresh-token rotation.
        .routes(routes!(sessions::refresh))
        // OAuth, for other services (a client id and secret): introspection and revocation.
        .routes(routes!(oauth::introspect))
        .routes(routes!(oauth::revoke))
        .route_layer(from_fn_with_state(rate_limit, limit_per_client))
}
