//! `GET /openapi.json`: the OpenAPI 3.1 document, made from the route table's registrations.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{Modify, OpenApi};

use super::state::AppState;
use crate::validation::{PasswordPolicy, MAX_PASSWORD_CHARS};

/// What the document says beyond its paths (which `routes` adds).
#[derive(OpenApi)]
#[openapi(
    info(title = "Gatehouse", description = "Drop-in authentication service for Flask JWT auth clients."),
    paths(openapi_json),
    components(schemas(super::ErrorBody, super::oauth::OAuthErrorBody)),
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

/// States the deployment's password rules in `doc`: `min_length` of the new-password fields is
/// `PASSWORD_MIN_LENGTH`, whatever it is set to, and their description says what else is refused.
pub fn describe_password_policy(doc: &mut utoipa::openapi::OpenApi, policy: PasswordPolicy) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let description = format!(
        "A new password: {} to {MAX_PASSWORD_CHARS} characters (Unicode code points, counted \
         after NFKC normalisation; `PASSWORD_MIN_LENGTH` sets the minimum), never trimmed. \
         A commonly used password (one of the 99,838 of the `passwords` crate's list, in any \
         capitalisation) is refused with 400.",
        policy.min_chars()
    );
    for (schema, field) in [
        ("SignupRequest", "password"),
        ("PasswordChange", "new_password"),
    ] {
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) else {
            continue;
        };
        if let Some(RefOr::T(Schema::Object(property))) = object.properties.get_mut(field) {
            property.min_length = Some(policy.min_chars());
            property.max_length = Some(MAX_PASSWORD_CHARS);
            property.description = Some(description.clone());
        }
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
