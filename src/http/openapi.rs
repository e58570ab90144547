//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse", description = "Drop-in authentication service for Flask JWT auth clients."),
    paths(
        super::gateway::login,
        super::gateway::validate,
        super::profile::profile,
        super::auth_api::ping,
        super::auth_api::signup,
        super::auth_api::login,
        super::sessions::logout,
        super::sessions::refresh,
        super::sessions::list_sessions,
        super::sessions::end_session,
        super::auth_api::user_details,
        super::health::health,
        super::health::test_db,
        openapi_json,
    ),
    components(schemas(super::ErrorBody)),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    }
}

pub fn router() -> Router<AppState> {
    // `/auth/health` answers exactly like `/health`; documented once under that path too.
    let mut doc = ApiDoc::openapi();
    if let Some(mut item) = doc.paths.paths.get("/health").cloned() {
        if let Some(get) = item.get.as_mut() {
            get.operation_id = Some("auth_health".into());
        }
        doc.paths.paths.insert("/auth/health".into(), item);
    }
    let json = doc.to_json().unwrap_or_else(|_| "{}".into());
    Router::new().route(
        "/openapi.json",
        get(move || async move { ([(CONTENT_TYPE, "application/json")], json).into_response() }),
    )
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
#[allow(dead_code)] // served by the closure in `router`; this only carries the annotation
async fn openapi_json() {}
