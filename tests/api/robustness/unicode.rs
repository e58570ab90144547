//! Unicode (emoji, right-to-left text, NUL) in credentials and profile fields.

use serde_json::json;

use crate::helpers::*;

backend_tests!(
    unicode_credentials_are_refused_cleanly_by_both_logins,
    unicode_signup_fields_never_cause_a_server_error,
    unicode_passwords_round_trip,
);

async fn unicode_credentials_are_refused_cleanly_by_both_logins(mut app: TestApp) {
    // Twenty wrong passwords for one account: without the lockout, so each is really checked.
    app.restart_with("LOGIN_MAX_FAILURES", "0").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let strange = [
        "🦀@example.com",
        "\u{202E}moc.elpmaxe@ada",
        "ada\u{0}@example.com",
        "\u{0}",
        "ada@example.com\u{0}",
    ];

    for value in strange {
        for body in [
            json!({"email": value, "password": PASSWORD}),
            json!({"email": "ada@example.com", "password": value}),
        ] {
            let reply = app.auth_login(body.clone()).await;
            reply.assert_failed(401, "Incorrect email or password");
            let reply = app.json_login(body).await;
            reply.assert_failed(401, "Invalid credentials");
        }
        let reply = app
            .json_login(json!({"username": value, "password": PASSWORD}))
            .await;
        reply.assert_failed(401, "Invalid credentials");
    }
}

async fn unicode_signup_fields_never_cause_a_server_error(app: TestApp) {
    let nul_email = app
        .signup(json!({"email": "ada\u{0}@example.com", "password": PASSWORD, "name": "A"}))
        .await;
    let names = ["Ada 🦀 \u{202E}لوفليس", "Ada\u{0}Lovelace"];
    let passwords = ["🦀🦀🦀🦀🦀🦀🦀🦀", "pass\u{0}word-with-nul"];

    nul_email.assert_status(400);
    nul_email.assert_json_content_type();
    for (i, name) in names.iter().enumerate() {
        let email = format!("name{i}@example.com");
        let reply = app
            .signup(json!({"email": email, "password": PASSWORD, "name": name}))
            .await;
        assert!(!reply.status.is_server_error(), "name {name:?}: {reply:?}");
        if reply.status.is_success() {
            let token = reply.json()["jwt_token"]
                .as_str()
                .expect("jwt_token")
                .to_owned();
            let details = app.auth_user(&token).await.json();
            assert_eq!(details["details"]["name"], *name, "the name round-trips");
        } else {
            reply.assert_client_error_json();
        }
    }
    for (i, password) in passwords.iter().enumerate() {
        let email = format!("password{i}@example.com");
        let reply = app
            .signup(json!({"email": email, "password": password, "name": "A"}))
            .await;
        assert!(
            !reply.status.is_server_error(),
            "password {password:?}: {reply:?}"
        );
        if reply.status.is_success() {
            app.auth_login(json!({"email": email, "password": password}))
                .await
                .assert_status(200);
        } else {
            reply.assert_client_error_json();
        }
    }
}

async fn unicode_passwords_round_trip(app: TestApp) {
    let password = "pässwörd 🦀 \u{202E}سر";
    app.signup_user("ada@example.com", password, "Ada").await;

    let json_login = app
        .auth_login(json!({"email": "ada@example.com", "password": password}))
        .await;
    let basic_login = app.basic_login("ada@example.com", password).await;
    let wrong = app
        .auth_login(json!({"email": "ada@example.com", "password": "passwörd 🦀 \u{202E}سر"}))
        .await;

    json_login.assert_success(200, "User login successful.");
    basic_login.assert_status(200);
    wrong.assert_failed(401, "Incorrect email or password");
}
