//! `GET /docs`: an interactive reference of `/openapi.json` (Swagger UI), served from files
//! compiled into the binary: no CDN, nothing fetched at build or run time. Not an API endpoint,
//! so, like `/openapi.json` itself, it is routed here and not in the route table.
//!
//! The page, `docs/index.html`, loads three files from beside it: the vendored Swagger UI
//! bundle and stylesheet (`assets/swagger-ui/`, see its README for the version and how it was
//! fetched) and `docs/init.js`, which points Swagger UI at the document. No inline script, so
//! the page's Content-Security-Policy allows scripts from this origin only.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::state::AppState;

/// What the page may load: its own scripts and stylesheet, the document (`connect-src`, also
/// what "Try it out" sends), and `data:` images (the stylesheet's icons, the empty favicon).
/// Swagger UI sets its inline styles through the DOM, which `style-src` does not govern, so no
/// `'unsafe-inline'` (`.ci/browser-docs` fails on any violation). Nothing may frame the page,
/// and it posts no form.
const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The static files change only with the binary; the page itself keeps the global `no-store`.
const ASSET_CACHE: &str = "public, max-age=86400";

struct StaticFile {
    path: &'static str,
    content_type: &'static str,
    cache_control: Option<&'static str>,
    body: &'static str,
}

static FILES: [StaticFile; 4] = [
    StaticFile {
        path: "/docs",
        content_type: "text/html; charset=utf-8",
        cache_control: None,
        body: include_str!("docs/index.html"),
    },
    StaticFile {
        path: "/docs/init.js",
        content_type: "text/javascript; charset=utf-8",
        cache_control: Some(ASSET_CACHE),
        body: include_str!("docs/init.js"),
    },
    StaticFile {
        path: "/docs/swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        cache_control: Some(ASSET_CACHE),
        body: include_str!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    StaticFile {
        path: "/docs/swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        cache_control: Some(ASSET_CACHE),
        body: include_str!("../../assets/swagger-ui/swagger-ui.css"),
    },
];

/// The paths served here: route templates for the request metrics.
pub fn route_templates<'a>() -> impl Iterator<Item = &'a str> {
    FILES.iter().map(|file| -> &'a str { file.path })
}

/// Serves the page and its files (`GET`, and `HEAD` with it).
pub fn router() -> Router<AppState> {
    FILES.iter().fold(Router::new(), |router, file| {
        let StaticFile {
            path,
            content_type,
            cache_control,
            body,
        } = *file;
        router.route(
            path,
            get(move || async move {
                let headers = [
                    (CONTENT_TYPE, content_type),
                    (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE),
                    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ];
                // The middleware marks a response without `Cache-Control` `no-store`.
                let cache = cache_control.map(|value| [(CACHE_CONTROL, value)]);
                (headers, cache, body).into_response()
            }),
        )
    })
}
