//! Once only: a TOTP code is accepted once across replicas (real `gatehouse serve` processes
//! on one PostgreSQL), and of two simultaneous uses of one recovery code exactly one wins.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::*;

backend_tests!(
    of_two_simultaneous_uses_of_a_recovery_code_one_wins,
    of_two_simultaneous_uses_of_a_code_one_wins,
);

async fn of_two_simultaneous_uses_of_a_code_one_wins(app: TestApp) {
    let (secret, _, _) = user_with_totp(&app, "ada@example.com").await;
    for _ in 0..3 {
        let password = format!("{PASSWORD}{}", code_now(&app, &secret));
        let (a, b) = tokio::join!(
            app.basic_login("ada@example.com", &password),
            app.basic_login("ada@example.com", &password),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "{} / {}", a.text, b.text);
        next_step(&app);
    }
}

async fn of_two_simultaneous_uses_of_a_recovery_code_one_wins(app: TestApp) {
    let (_, codes, _) = user_with_totp(&app, "ada@example.com").await;
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    for code in &codes[..3] {
        let first = mfa_token_of(&app.auth_login(login.clone()).await);
        let second = mfa_token_of(&app.auth_login(login.clone()).await);
        let (a, b) = tokio::join!(
            login_mfa(&app, json!({"mfa_token": first, "recovery_code": code})),
            login_mfa(&app, json!({"mfa_token": second, "recovery_code": code})),
        );
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "{} / {}", a.text, b.text);
    }
}

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn basic_at(app: &TestApp, replica: &ServerProcess, password: &str) -> (u16, String) {
    let reply = app
        .client
        .post(format!("{}/login", replica.address))
        .basic_auth("ada@example.com", Some(password))
        .send()
        .await
        .expect("login");
    let status = reply.status().as_u16();
    (status, reply.text().await.expect("body"))
}

/// Two real replicas on one PostgreSQL: a code accepted by one is refused by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_accepted_by_one_replica_is_refused_by_another() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    // Enrolled on the in-process server, whose clock starts at the wall clock's time and is
    // not moved here: the replicas run on the wall clock.
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let enrolled = enrol(&app, &token).await;
    confirm(&app, &token, &code_now(&app, &enrolled.secret))
        .await
        .assert_status(200);
    let (a, b) = (
        ServerProcess::start(&app, &[]),
        ServerProcess::start(&app, &[]),
    );
    // The next step's code (one step of drift is accepted): later than the confirming one's.
    let code = code_at(&enrolled.secret, wall_clock() + 30);
    let password = format!("{PASSWORD}{code}");

    let (status, body) = basic_at(&app, &a, &password).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = basic_at(&app, &b, &password).await;
    assert_eq!((status, body.as_str()), (401, "Invalid credentials"));
    let (status, _) = basic_at(&app, &a, &password).await;
    assert_eq!(status, 401);

    // A two-step login begun on one replica completes on the other, once.
    let mfa_token = {
        let reply = app
            .client
            .post(format!("{}/auth/login", a.address))
            .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = reply.json().await.unwrap();
        body["mfa_token"].as_str().expect("mfa_token").to_owned()
    };
    let complete = |replica: &ServerProcess| {
        let request = app
            .client
            .post(format!("{}/auth/login/mfa", replica.address))
            .json(&json!({"mfa_token": mfa_token, "code": code}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // The code was used by the Basic login: refused here too, on either replica.
    assert_eq!(complete(&b).await, 401);
    assert_eq!(complete(&a).await, 401);
}
