//! Logs and request ids: with `LOG_FORMAT=json` every line the real binary writes is one JSON
//! object, each request has an access line (request id, route, status, latency) and each login
//! a line of its outcome (a user id, never the email), and no line of a whole run, at debug,
//! holds a password, a hash, the secret or a whole token, nor a TOTP secret, code, recovery
//! code or mfa_token. Every answer carries `x-request-id`.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::helpers::{Reply, ServerProcess, TestApp, PASSWORD};

backend_tests!(
    json_logs_are_one_object_per_line_and_hold_no_secret,
    every_answer_carries_a_request_id,
    no_log_line_holds_a_totp_secret_a_code_or_an_mfa_token,
);

const EMAIL: &str = "ada.logs@example.com";
const NEW_PASSWORD: &str = "a brand new passphrase";

/// What was sent and answered: its route template and reply, to find its access line.
struct Sent {
    route: &'static str,
    reply: Reply,
}

impl Sent {
    fn request_id(&self) -> String {
        self.reply.header("x-request-id")
    }
}

fn parse_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| match serde_json::from_str(line) {
            Ok(object @ Value::Object(_)) => object,
            _ => panic!("not one JSON object: {line}"),
        })
        .collect()
}

async fn json_logs_are_one_object_per_line_and_hold_no_secret(mut app: TestApp) {
    // Arrange: the real binary writing JSON at debug, so every line the code can write is seen.
    let server = ServerProcess::start(&app, &[("LOG_FORMAT", "json"), ("RUST_LOG", "debug")]);
    app.address = server.address.clone();

    // Act: every credential path once.
    let signup_token = app.signup_user(EMAIL, PASSWORD, "Ada").await;
    let mut sent = Vec::new();
    let basic = app.basic_login(EMAIL, PASSWORD).await;
    sent.push(Sent {
        route: "/login",
        reply: basic,
    });
    let wrong = app.basic_login(EMAIL, "not the password at all").await;
    sent.push(Sent {
        route: "/login",
        reply: wrong,
    });
    let json_login = app
        .json_login(json!({"email": EMAIL, "password": PASSWORD}))
        .await;
    let refresh_token = json_login.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    sent.push(Sent {
        route: "/login",
        reply: json_login,
    });
    let auth_login = app
        .auth_login(json!({"email": EMAIL, "password": PASSWORD}))
        .await;
    let token = auth_login.json()["jwt_token"].as_str().unwrap().to_owned();
    sent.push(Sent {
        route: "/auth/login",
        reply: auth_login,
    });
    let refreshed = app
        .post_json(
            "/auth/token/refresh",
            &json!({"refresh_token": refresh_token}),
        )
        .await;
    sent.push(Sent {
        route: "/auth/token/refresh",
        reply: refreshed,
    });
    let validated = app.validate_token(&token).await;
    let user_id: i64 = validated.json()["sub"].as_str().unwrap().parse().unwrap();
    sent.push(Sent {
        route: "/validate",
        reply: validated,
    });
    let changed = app
        .change_password(
            Some(&token),
            &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    sent.push(Sent {
        route: "/auth/password",
        reply: changed,
    });
    let unknown = app.get("/no/such/path").await;
    let unknown_id = unknown.header("x-request-id");
    for reply in &sent {
        server.wait_for_access_line(&reply.request_id());
    }
    server.wait_for_access_line(&unknown_id);
    let lines = server.log.lock().unwrap().clone();
    drop(server);

    // Assert: every line is one JSON object with the fixed keys.
    let objects = parse_lines(&lines);
    assert!(
        objects.len() > 20,
        "a debug run writes many lines: {lines:?}"
    );
    for object in &objects {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(object.get(key).is_some(), "no {key}: {object:?}");
        }
    }
    // One access line per request, with its id, route template, status and latency.
    for request in &sent {
        let id = request.request_id();
        let access: Vec<_> = objects
            .iter()
            .filter(|o| o["target"] == "gatehouse::access" && o["request_id"] == id.as_str())
            .collect();
        assert_eq!(access.len(), 1, "{id}: {access:?}");
        assert_eq!(access[0]["route"], request.route, "{:?}", access[0]);
        assert_eq!(access[0]["status"], request.reply.status.as_u16());
        assert!(access[0]["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    }
    let unmatched = objects
        .iter()
        .find(|o| o["request_id"] == unknown_id.as_str() && o["target"] == "gatehouse::access")
        .unwrap();
    assert_eq!(unmatched["route"], Value::Null, "never the raw path");
    assert_eq!(unmatched["status"], 404);
    // One line per login outcome, in order, with the user id when the password was right.
    let logins: Vec<_> = objects
        .iter()
        .filter(|o| o["target"] == "gatehouse::login")
        .map(|o| {
            (
                o["contract"].clone(),
                o["result"].clone(),
                o.get("user_id").cloned(),
            )
        })
        .collect();
    let success = |contract: &str| (json!(contract), json!("success"), Some(json!(user_id)));
    assert_eq!(
        logins,
        [
            success("basic"),
            (json!("basic"), json!("invalid"), None),
            success("json"),
            success("auth_login"),
        ]
    );
    for login in objects.iter().filter(|o| o["target"] == "gatehouse::login") {
        assert!(
            login["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "{login:?}"
        );
    }
    // Nothing anyone could sign in or forge with, in any line.
    let basic_header =
        base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{PASSWORD}"));
    let mut forbidden = vec![
        PASSWORD.to_owned(),
        NEW_PASSWORD.to_owned(),
        "not the password at all".to_owned(),
        app.secret.clone(),
        basic_header,
        "$argon2".to_owned(),
        EMAIL.to_owned(),
        signup_token,
        token,
        refresh_token,
    ];
    for request in &sent {
        let body: Value = serde_json::from_str(&request.reply.text).unwrap_or(Value::Null);
        for key in ["jwt_token", "token", "refresh_token"] {
            if let Some(issued) = body[key].as_str() {
                forbidden.push(issued.to_owned());
            }
        }
        if request.route == "/login" && request.reply.status == 200 && body.is_null() {
            forbidden.push(request.reply.text.trim().to_owned());
        }
    }
    for line in &lines {
        for secret in &forbidden {
            assert!(
                !line.contains(secret.as_str()),
                "a log line holds {secret:.12}…: {line}"
            );
        }
    }
}

async fn every_answer_carries_a_request_id(app: TestApp) {
    // Arrange
    let with_id = |id: &str| app.client.get(app.url("/live")).header("x-request-id", id);

    // Act
    let kept = app.send(with_id("7f0c6b1e-trace.42")).await;
    let replaced = app.send(with_id("two words")).await;
    let (first, second) = (app.get("/live").await, app.get("/live").await);
    let error = app.validate(None).await;
    let not_found = app.get("/no/such/path").await;

    // Assert
    assert_eq!(kept.header("x-request-id"), "7f0c6b1e-trace.42");
    let made = replaced.header("x-request-id");
    assert!(!made.is_empty() && made != "two words", "{made:?}");
    assert_ne!(first.header("x-request-id"), second.header("x-request-id"));
    for reply in [&first, &second, &error, &not_found] {
        assert!(
            !reply.header("x-request-id").is_empty(),
            "{:?}",
            reply.headers
        );
    }
    assert_eq!(error.status, 401);
}

/// The second factor's paths, at debug, through the real binary (so on the wall clock):
/// enrolment, confirmation, a two-step login with a code and one with a recovery code.
async fn no_log_line_holds_a_totp_secret_a_code_or_an_mfa_token(mut app: TestApp) {
    use crate::mfa::{code_at, confirm, enrol, login_mfa, mfa_token_of};
    let server = ServerProcess::start(&app, &[("LOG_FORMAT", "json"), ("RUST_LOG", "debug")]);
    app.address = server.address.clone();
    let token = app.signup_user(EMAIL, PASSWORD, "Ada").await;
    let wall_clock = || {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since_epoch.unwrap().as_secs() as i64
    };

    let enrolled = enrol(&app, &token).await;
    let at = wall_clock();
    let first_code = code_at(&enrolled.secret, at);
    let confirmed = confirm(&app, &token, &first_code).await;
    confirmed.assert_status(200);
    let recovery_codes: Vec<String> = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    let ada = json!({"email": EMAIL, "password": PASSWORD});
    // The next time step's code: accepted as one step of drift, and after the first.
    let second_code = code_at(&enrolled.secret, at + 30);
    let with_code = mfa_token_of(&app.auth_login(ada.clone()).await);
    login_mfa(&app, json!({"mfa_token": with_code, "code": second_code}))
        .await
        .assert_status(200);
    let with_recovery = mfa_token_of(&app.auth_login(ada).await);
    let recovered = login_mfa(
        &app,
        json!({"mfa_token": with_recovery, "recovery_code": recovery_codes[0]}),
    )
    .await;
    recovered.assert_status(200);
    server.wait_for_access_line(&recovered.header("x-request-id"));
    let lines = server.log.lock().unwrap().clone();
    drop(server);

    let mut forbidden = vec![
        enrolled.secret.clone(),
        enrolled.otpauth_uri.clone(),
        with_code,
        with_recovery,
    ];
    forbidden.extend(recovery_codes);
    for line in &lines {
        for secret in &forbidden {
            assert!(
                !line.contains(secret.as_str()),
                "a log line holds {secret:.4}…: {line}"
            );
        }
    }
    // Six digits may turn up by chance inside a timestamp or a latency: the codes are looked
    // for in every other field, as text or as a number.
    let objects = parse_lines(&lines);
    assert!(objects.len() > 10, "{lines:?}");
    for object in &objects {
        let fields = object.as_object().unwrap().iter();
        for (key, value) in
            fields.filter(|(k, _)| !["timestamp", "latency_ms"].contains(&k.as_str()))
        {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            for code in [&first_code, &second_code] {
                assert!(
                    !text.contains(code.as_str()),
                    "{key} holds a code: {object}"
                );
            }
        }
    }
}
