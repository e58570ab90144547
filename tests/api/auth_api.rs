//! Seed 002: `/auth/ping`, `/auth/signup`, `/auth/login` and `/auth/user` (logout in `logout`).

use serde_json::{json, Value};

use crate::helpers::*;

mod logout;
mod password;
mod password_policy;

backend_tests!(
    ping_says_the_apis_are_up,
    signup_returns_201_and_a_working_token,
    signup_without_a_required_key_is_400,
    signup_with_a_null_value_is_400,
    signup_with_an_existing_email_is_409,
    signup_trims_and_lowercases_the_email,
    signup_rejects_an_invalid_email,
    signup_enforces_a_password_of_8_to_1024_characters,
    concurrent_signups_of_one_email_create_exactly_one_user,
    auth_login_returns_a_token,
    auth_login_without_email_or_password_is_401,
    auth_login_failures_are_identical,
    auth_user_returns_details_without_the_password,
);

fn signup_body() -> Value {
    json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada Lovelace"})
}

fn message_of(reply: &Reply) -> String {
    reply.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase()
}

async fn ping_says_the_apis_are_up(app: TestApp) {
    let reply = app.get("/auth/ping").await;

    reply.assert_success(200, "APIs are up and running");
}

async fn signup_returns_201_and_a_working_token(app: TestApp) {
    let reply = app.signup(signup_body()).await;

    let body = reply.assert_success(201, "User signed up successful.");
    let token = body["jwt_token"].as_str().expect("jwt_token is a string");
    let claims = decode_claims(token, &app.secret);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["admin"], false);
    app.validate_token(token).await.assert_status(200);
}

async fn signup_without_a_required_key_is_400(app: TestApp) {
    for key in ["email", "password", "name"] {
        let mut body = signup_body();
        body.as_object_mut().expect("an object").remove(key);

        let reply = app.signup(body).await;

        reply.assert_failed(400, "Required fields are missing.");
    }
    app.signup(json!({}))
        .await
        .assert_failed(400, "Required fields are missing.");
}

async fn signup_with_a_null_value_is_400(app: TestApp) {
    for key in ["email", "password", "name"] {
        let mut body = signup_body();
        body[key] = Value::Null;

        let reply = app.signup(body).await;

        reply.assert_failed(400, "One or more required fields are null");
    }
}

async fn signup_with_an_existing_email_is_409(app: TestApp) {
    app.signup(signup_body()).await.assert_status(201);

    let reply = app.signup(signup_body()).await;

    reply.assert_failed(409, "User already exists.");
}

async fn signup_trims_and_lowercases_the_email(app: TestApp) {
    let token = app.signup_user("  Ada@Example.COM ", PASSWORD, "Ada").await;

    let login = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;
    let again = app
        .signup(json!({"email": "ADA@example.com", "password": PASSWORD, "name": "Ada"}))
        .await;

    assert_eq!(
        decode_claims(&token, &app.secret)["email"],
        "ada@example.com"
    );
    login.assert_success(200, "User login successful.");
    again.assert_failed(409, "User already exists.");
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_status(200);
}

async fn signup_rejects_an_invalid_email(app: TestApp) {
    for email in [
        "not-an-email",
        "ada@",
        "@example.com",
        "ada lovelace@example.com",
        "",
    ] {
        let mut body = signup_body();
        body["email"] = json!(email);

        let reply = app.signup(body).await;

        reply.assert_status(400);
        assert_eq!(
            reply.json()["status"],
            "failed",
            "{email:?}: {}",
            reply.text
        );
        assert!(
            message_of(&reply).contains("email"),
            "{email:?}: {}",
            reply.text
        );
    }
}

async fn signup_enforces_a_password_of_8_to_1024_characters(app: TestApp) {
    let refused = [
        "1234567".to_owned(),
        "é".repeat(7),
        "p".repeat(1025),
        String::new(),
    ];
    // Eight characters that are not a commonly used password ("12345678" is one).
    let accepted = ["k7#qv!2z".to_owned(), "p".repeat(1024), "é".repeat(1024)];

    for password in &refused {
        let reply = app
            .signup(json!({"email": "ada@example.com", "password": password, "name": "A"}))
            .await;
        reply.assert_status(400);
        assert_eq!(reply.json()["status"], "failed");
        assert!(
            message_of(&reply).contains("password"),
            "{} chars: {}",
            password.chars().count(),
            reply.text
        );
    }
    for (i, password) in accepted.iter().enumerate() {
        let email = format!("user{i}@example.com");
        let reply = app
            .signup(json!({"email": email, "password": password, "name": "A"}))
            .await;
        reply.assert_status(201);
        app.basic_login(&email, password).await.assert_status(200);
    }
}

async fn concurrent_signups_of_one_email_create_exactly_one_user(app: TestApp) {
    let requests: Vec<_> = (0..10)
        .map(|_| {
            let request = app
                .client
                .post(app.url("/auth/signup"))
                .json(&signup_body());
            tokio::spawn(async move { Reply::read(request.send().await.expect("sent")).await })
        })
        .collect();

    let mut replies = Vec::new();
    for request in requests {
        replies.push(request.await.expect("the request task finished"));
    }

    let created: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .collect();
    assert_eq!(
        created.len(),
        1,
        "statuses: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in replies.iter().filter(|r| r.status.as_u16() != 201) {
        reply.assert_failed(409, "User already exists.");
    }
    app.auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await
        .assert_status(200);
}

async fn auth_login_returns_a_token(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let reply = app
        .auth_login(json!({"email": "ada@example.com", "password": PASSWORD}))
        .await;

    let body = reply.assert_success(200, "User login successful.");
    let token = body["jwt_token"].as_str().expect("jwt_token is a string");
    assert_eq!(
        decode_claims(token, &app.secret)["email"],
        "ada@example.com"
    );
    app.auth_user(token).await.assert_status(200);
}

async fn auth_login_without_email_or_password_is_401(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    for body in [
        json!({"email": "ada@example.com"}),
        json!({"password": PASSWORD}),
        json!({}),
    ] {
        let reply = app.auth_login(body).await;

        reply.assert_failed(401, "Email / Password missing");
    }
}

async fn auth_login_failures_are_identical(app: TestApp) {
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    let wrong_password = app
        .auth_login(json!({"email": "ada@example.com", "password": "wrong-password"}))
        .await;
    let unknown_email = app
        .auth_login(json!({"email": "nobody@example.com", "password": PASSWORD}))
        .await;

    wrong_password.assert_failed(401, "Incorrect email or password");
    unknown_email.assert_failed(401, "Incorrect email or password");
    assert_eq!(wrong_password.text, unknown_email.text);
}

async fn auth_user_returns_details_without_the_password(app: TestApp) {
    let token = app
        .signup_user("ada@example.com", PASSWORD, "Ada Lovelace")
        .await;

    let reply = app.auth_user(&token).await;

    let body = reply.assert_success(200, "Successfully fetched user details");
    let details = &body["details"];
    assert_eq!(details["email"], "ada@example.com");
    assert_eq!(details["name"], "Ada Lovelace");
    assert_eq!(details["admin"], false);
    assert!(
        details["registered_on"].is_string() || details["registered_on"].is_number(),
        "registered_on: {}",
        details["registered_on"]
    );
    assert!(
        !reply.text.to_lowercase().contains("password"),
        "{}",
        reply.text
    );
    assert!(!reply.text.contains("$argon2"), "{}", reply.text);
}
