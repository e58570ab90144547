//! Bad input on every path: always a 4xx with a JSON body, never a 5xx.

use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

mod unicode;

backend_tests!(
    malformed_json_is_a_json_4xx_on_every_json_endpoint,
    non_object_json_is_a_json_4xx_on_every_json_endpoint,
    wrong_types_are_a_json_4xx_on_every_json_endpoint,
    a_one_mebibyte_body_is_a_json_4xx_on_every_json_endpoint,
    json_without_a_json_content_type_is_a_json_4xx,
    unknown_path_is_a_json_404,
    wrong_method_is_a_json_405,
    non_ascii_authorization_header_is_a_json_401,
    basic_with_bad_base64_is_401,
);

const JSON_ENDPOINTS: [&str; 3] = ["/auth/signup", "/auth/login", "/login"];

async fn assert_every_json_endpoint_refuses(app: &TestApp, body: &str) {
    for path in JSON_ENDPOINTS {
        let reply = app
            .post_raw(path, Some("application/json"), body.to_owned())
            .await;
        assert!(
            !reply.status.is_server_error(),
            "POST {path} {body:?}: {reply:?}"
        );
        reply.assert_client_error_json();
    }
}

async fn malformed_json_is_a_json_4xx_on_every_json_endpoint(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    for body in [
        r#"{"email": "#,
        "{email: 'ada@example.com'}",
        "{}}",
        "\u{0}",
        "{\"email\": \"ada@example.com\",}",
    ] {
        assert_every_json_endpoint_refuses(&app, body).await;
    }
}

async fn non_object_json_is_a_json_4xx_on_every_json_endpoint(app: TestApp) {
    for body in [
        r#"["ada@example.com", "correct horse battery staple"]"#,
        "[]",
        "null",
        "42",
        r#""ada@example.com""#,
        "{}",
    ] {
        assert_every_json_endpoint_refuses(&app, body).await;
    }
}

async fn wrong_types_are_a_json_4xx_on_every_json_endpoint(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let (email, password) = ("ada@example.com", PASSWORD);
    let cases: [(&str, Value); 9] = [
        (
            "/auth/signup",
            json!({"email": 5, "password": password, "name": "A"}),
        ),
        (
            "/auth/signup",
            json!({"email": "b@example.com", "password": 12345678, "name": "A"}),
        ),
        (
            "/auth/signup",
            json!({"email": "c@example.com", "password": password, "name": {"x": 1}}),
        ),
        ("/auth/login", json!({"email": 5, "password": password})),
        ("/auth/login", json!({"email": email, "password": ["x"]})),
        ("/login", json!({"username": 5, "password": password})),
        ("/login", json!({"email": true, "password": password})),
        ("/login", json!({"username": email, "password": 12345678})),
        (
            "/login",
            json!({"username": [email], "password": {"p": password}}),
        ),
    ];

    for (path, body) in cases {
        let reply = app.post_json(path, &body).await;

        assert!(
            !reply.status.is_server_error(),
            "POST {path} {body}: {reply:?}"
        );
        reply.assert_client_error_json();
    }
    app.signup(json!({"email": "b@example.com", "password": PASSWORD, "name": "B"}))
        .await
        .assert_status(201);
}

async fn a_one_mebibyte_body_is_a_json_4xx_on_every_json_endpoint(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let huge = "a".repeat(1024 * 1024);
    let bodies = [
        json!({"email": format!("{huge}@example.com"), "password": PASSWORD, "name": "A"}),
        json!({"email": "ada@example.com", "username": "ada@example.com", "password": huge, "name": "A"}),
        json!({"email": "big@example.com", "password": PASSWORD, "name": "A", "padding": huge}),
    ];

    for body in &bodies {
        for path in JSON_ENDPOINTS {
            if path == "/auth/signup" && body.get("padding").is_some() {
                continue; // unknown keys may be ignored, so a padded signup can succeed
            }
            let reply = app.post_json(path, body).await;
            assert!(
                !reply.status.is_server_error(),
                "POST {path}: {} {:.200}",
                reply.status,
                reply.text
            );
            reply.assert_client_error_json();
        }
    }
}

async fn json_without_a_json_content_type_is_a_json_4xx(app: TestApp) {
    let body = json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"}).to_string();

    for path in ["/auth/signup", "/auth/login"] {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let reply = app.post_raw(path, content_type, body.clone()).await;

            assert!(
                !reply.status.is_server_error(),
                "POST {path} as {content_type:?}: {reply:?}"
            );
            reply.assert_client_error_json();
        }
    }
}

async fn unknown_path_is_a_json_404(app: TestApp) {
    for path in [
        "/no-such-path",
        "/auth/nope",
        "/login/extra",
        "/%F0%9F%A6%80",
    ] {
        let reply = app.get(path).await;

        reply.assert_status(404);
        reply.assert_json_content_type();
        assert_eq!(reply.json()["status"], "failed", "{path}: {}", reply.text);
    }
}

async fn wrong_method_is_a_json_405(app: TestApp) {
    for (method, path) in [
        (Method::GET, "/login"),
        (Method::GET, "/validate"),
        (Method::GET, "/auth/signup"),
        (Method::PUT, "/auth/login"),
        (Method::DELETE, "/auth/logout"),
        (Method::POST, "/health"),
    ] {
        let reply = app
            .send(app.client.request(method.clone(), app.url(path)))
            .await;

        reply.assert_status(405);
        reply.assert_json_content_type();
        assert_eq!(
            reply.json()["status"],
            "failed",
            "{method} {path}: {}",
            reply.text
        );
    }
}

async fn non_ascii_authorization_header_is_a_json_401(app: TestApp) {
    let value = HeaderValue::from_bytes(b"Bearer \xff\xfe\xc3\x28token")
        .expect("obs-text is a valid header");
    let basic =
        HeaderValue::from_bytes(b"Basic \xe2\x82\xac\xff").expect("obs-text is a valid header");

    let validate = app
        .send(
            app.client
                .post(app.url("/validate"))
                .header("Authorization", value.clone()),
        )
        .await;
    let logout = app
        .send(
            app.client
                .post(app.url("/auth/logout"))
                .header("Authorization", value.clone()),
        )
        .await;
    let user = app
        .send(
            app.client
                .get(app.url("/auth/user"))
                .header("Authorization", value.clone()),
        )
        .await;
    let profile = app
        .send(
            app.client
                .get(app.url("/profile"))
                .header("Authorization", value),
        )
        .await;
    let login = app
        .send(
            app.client
                .post(app.url("/login"))
                .header("Authorization", basic),
        )
        .await;

    validate.assert_invalid_token();
    for reply in [logout, user, profile] {
        reply.assert_status(401);
        reply.assert_json_content_type();
        assert_eq!(reply.json()["status"], "failed", "{}", reply.text);
    }
    login.assert_status(401);
}

async fn basic_with_bad_base64_is_401(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    // Not base64; base64 without a colon; base64 of bytes that are not UTF-8.
    for value in [
        "Basic !!!not-base64!!!",
        "Basic YWRh",
        "Basic /w==",
        "Basic =====",
    ] {
        let reply = app
            .send(
                app.client
                    .post(app.url("/login"))
                    .header("Authorization", value),
            )
            .await;

        reply.assert_status(401);
        assert!(
            ["Missing credentials", "Invalid credentials"].contains(&reply.text.as_str()),
            "{value}: {:?}",
            reply.text
        );
    }
}
