//! Seed 003: `/profile`, `/health`, `/auth/health`, `/test-db` and `/openapi.json`.

use serde_json::json;

use crate::helpers::*;

backend_tests!(
    profile_falls_back_to_the_email_as_username,
    profile_shows_the_username_when_the_user_has_one,
    profile_refuses_missing_or_bad_tokens,
    health_endpoints_report_a_healthy_database,
    test_db_reports_a_successful_connection,
    openapi_document_lists_every_endpoint,
);

async fn profile_falls_back_to_the_email_as_username(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let sub = decode_claims(&token, &app.secret)["sub"].clone();

    let reply = app.profile(&token).await;

    reply.assert_status(200);
    reply.assert_json_content_type();
    let body = reply.json();
    assert!(body["user_id"].is_i64(), "user_id is an integer: {body}");
    assert_eq!(sub, body["user_id"].to_string(), "sub is the user id");
    assert_eq!(body["username"], "ada@example.com");
    assert_eq!(body["email"], "ada@example.com");
}

async fn profile_shows_the_username_when_the_user_has_one(app: TestApp) {
    let added = app
        .cli(
            &[
                "user",
                "add",
                "grace@example.com",
                "--username",
                "grace",
                "--name",
                "Grace",
            ],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let token = app.basic_login("grace@example.com", PASSWORD).await.text;

    let reply = app.profile(&token).await;

    reply.assert_status(200);
    let body = reply.json();
    assert_eq!(body["username"], "grace");
    assert_eq!(body["email"], "grace@example.com");
    assert!(body["user_id"].is_i64(), "{body}");
}

async fn profile_refuses_missing_or_bad_tokens(app: TestApp) {
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let forged = forge_token(&decode_claims(&token, &app.secret), &random_hex(32));

    let missing = app.get("/profile").await;
    let garbage = app.profile("not-a-token").await;
    let other_secret = app.profile(&forged).await;
    app.clock.advance(3600 + 31);
    let expired = app.profile(&token).await;

    for reply in [missing, garbage, other_secret, expired] {
        reply.assert_status(401);
        reply.assert_json_content_type();
        assert_eq!(reply.json()["status"], "failed", "{}", reply.text);
    }
}

async fn health_endpoints_report_a_healthy_database(app: TestApp) {
    for path in ["/health", "/auth/health"] {
        let reply = app.get(path).await;

        reply.assert_status(200);
        reply.assert_json_content_type();
        assert_eq!(
            reply.json(),
            json!({"status": "healthy", "database": "ok"}),
            "{path}"
        );
    }
}

async fn test_db_reports_a_successful_connection(app: TestApp) {
    let reply = app.get("/test-db").await;

    reply.assert_status(200);
    reply.assert_json_content_type();
    let body = reply.json();
    assert_eq!(body["message"], "Successful connection");
    assert!(
        body["timestamp"].as_str().is_some_and(|t| !t.is_empty()),
        "timestamp: {body}"
    );
}

async fn openapi_document_lists_every_endpoint(app: TestApp) {
    let reply = app.get("/openapi.json").await;

    reply.assert_status(200);
    reply.assert_json_content_type();
    let doc = reply.json();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3.1"), "openapi version {version:?}");
    let paths = doc["paths"].as_object().expect("paths is an object");
    for (path, method) in [
        ("/login", "post"),
        ("/validate", "post"),
        ("/auth/ping", "get"),
        ("/auth/signup", "post"),
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/auth/user", "get"),
        ("/auth/health", "get"),
        ("/profile", "get"),
        ("/health", "get"),
        ("/test-db", "get"),
        ("/live", "get"),
        ("/ready", "get"),
        ("/oauth/introspect", "post"),
        ("/oauth/revoke", "post"),
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys()
        );
        assert!(
            paths[path].get(method).is_some(),
            "{method} {path} not documented: {}",
            paths[path]
        );
    }
    // Every schema a path refers to is in the document.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap_or_default();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{name} is referred to but not in components"
        );
    }
}
