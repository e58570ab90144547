//! `GET /openapi.json`: the OpenAPI 3.1 document, made from the route table's registrations.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::state::AppState;

/// What the document says beyond its paths (which `routes` adds).
#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse", description = "Drop-in authentication service for Flask JWT auth clients."),
    paths(openapi_json),
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

/// Serves `doc`, rendered once.
pub fn router(doc: &utoipa::openapi::OpenApi) -> Router<AppState> {
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
