//! `GET /docs`: the API reference page and its files, served from the binary under a
//! Content-Security-Policy, outside `/openapi.json`, and counted under their own route labels.
//! SQLite only: nothing here touches the database. `.ci/browser-docs` renders the page in
//! headless Chromium.

use crate::helpers::{spawn_app, Backend, TestApp};

/// The page's files: path, content type, and a line each must contain.
const ASSETS: [(&str, &str, &str); 3] = [
    (
        "/docs/swagger-ui-bundle.js",
        "text/javascript",
        "SwaggerUIBundle",
    ),
    ("/docs/swagger-ui.css", "text/css", ".swagger-ui"),
    ("/docs/init.js", "text/javascript", "SwaggerUIBundle({"),
];

async fn app() -> TestApp {
    spawn_app(Backend::Sqlite)
        .await
        .expect("SQLite needs no URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_page_is_html_under_a_strict_csp_and_loads_its_files_by_relative_urls() {
    let app = app().await;

    let page = app.get("/docs").await;

    page.assert_status(200);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    let csp = page.header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} not in {csp:?}");
    }
    assert!(!csp.contains("unsafe-"), "{csp:?}");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    for (path, _, _) in ASSETS {
        // `docs/…`, not `/docs/…`: behind a proxy that adds a path prefix it still resolves.
        let relative = &path[1..];
        assert!(
            page.text.contains(&format!("\"{relative}\"")),
            "{relative} not in {}",
            page.text
        );
    }
    assert_eq!(
        page.text.matches("<script").count(),
        page.text.matches("<script src=\"docs/").count(),
        "an inline script: {}",
        page.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_file_is_served_with_its_content_type_and_may_be_cached() {
    let app = app().await;

    for (path, content_type, marker) in ASSETS {
        let reply = app.get(path).await;

        reply.assert_status(200);
        assert!(
            reply.content_type().starts_with(content_type),
            "{path}: {}",
            reply.content_type()
        );
        assert!(reply.text.contains(marker), "{path} lacks {marker:?}");
        let cache = reply.header("cache-control");
        assert!(cache.starts_with("public, max-age="), "{path}: {cache:?}");
        assert_eq!(reply.header("x-content-type-options"), "nosniff", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_script_asks_for_the_document_beside_the_page() {
    let app = app().await;

    let script = app.get("/docs/init.js").await;

    script.assert_status(200);
    assert!(
        script
            .text
            .contains("new URL(\"openapi.json\", document.baseURI)"),
        "{}",
        script.text
    );
    assert!(
        !script.text.contains("\"/openapi.json\""),
        "{}",
        script.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_docs_paths_are_json_404s() {
    let app = app().await;

    for path in ["/docs/x", "/docs/", "/docs/swagger-ui-bundle.js.map"] {
        let reply = app.get(path).await;

        reply.assert_failed(404, "Not found");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_are_not_api_operations() {
    let app = app().await;

    let document = app.get("/openapi.json").await.json();

    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/validate"), "{paths:?}");
    let docs: Vec<_> = paths.keys().filter(|p| p.starts_with("/docs")).collect();
    assert!(docs.is_empty(), "{docs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_requests_are_counted_under_their_own_routes() {
    let mut app = app().await;
    app.restart_with("METRICS_ADDR", "127.0.0.1:0").await;
    app.get("/docs").await.assert_status(200);
    app.get("/docs/swagger-ui.css").await.assert_status(200);

    let address = app.metrics_address.clone().expect("a metrics listener");
    let scrape = app.send(app.client.get(format!("{address}/metrics"))).await;

    for route in ["/docs", "/docs/swagger-ui.css"] {
        let line = format!(
            "gatehouse_http_requests_total{{route=\"{route}\",method=\"GET\",status=\"200\"}} 1"
        );
        assert!(
            scrape.text.lines().any(|l| l == line),
            "{line} not in the scrape"
        );
    }
}
