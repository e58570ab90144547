//! The account lockout: failures counted per login name in the database, shared by replicas,
//! exact under concurrency, and silent about which names are accounts.

use std::sync::Arc;

use gatehouse::auth::lockout::{Lockout, LockoutPolicy};
use gatehouse::store::Store;
use serde_json::json;

use crate::helpers::*;
use crate::migration::stdout;

backend_tests!(
    five_failures_lock_every_login_contract_until_the_lockout_ends,
    a_locked_unknown_name_answers_exactly_like_a_locked_account,
    a_success_resets_the_count,
    failures_older_than_the_window_are_forgotten,
    repeated_lockouts_grow_up_to_the_cap,
    concurrent_wrong_passwords_run_at_most_the_limit_of_verifications,
    replicas_share_one_count,
    a_wrong_current_password_counts_and_a_locked_account_cannot_change_it,
    refreshing_is_not_a_login_and_works_while_locked,
    unlock_lifts_a_lockout_and_list_shows_it,
    old_counters_are_purged,
    max_failures_zero_turns_the_lockout_off,
);

const EMAIL: &str = "ada@example.com";
const WRONG: &str = "not the password";
const LOCKED: &str = "Too many failed login attempts, try again later";

async fn fail_basic_logins(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        app.basic_login(email, WRONG)
            .await
            .assert_text(401, "Invalid credentials");
    }
}

fn assert_locked_text(reply: &Reply, retry_after: i64) {
    reply.assert_text(429, LOCKED);
    assert_eq!(reply.header("retry-after"), retry_after.to_string());
}

fn assert_locked_json(reply: &Reply, retry_after: i64) {
    reply.assert_failed(429, LOCKED);
    assert_eq!(reply.header("retry-after"), retry_after.to_string());
}

async fn five_failures_lock_every_login_contract_until_the_lockout_ends(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;

    fail_basic_logins(&app, EMAIL, 5).await;
    app.clock.advance(100);

    // The right password is refused too, on every contract, for the rest of 900 s.
    assert_locked_text(&app.basic_login(EMAIL, PASSWORD).await, 800);
    let auth_login = app
        .auth_login(json!({"email": EMAIL, "password": PASSWORD}))
        .await;
    assert_locked_json(&auth_login, 800);
    let json_login = app
        .json_login(json!({"username": EMAIL, "password": PASSWORD}))
        .await;
    assert_locked_json(&json_login, 800);

    app.clock.advance(800);
    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
}

async fn a_locked_unknown_name_answers_exactly_like_a_locked_account(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;
    let unknown = "nobody@example.com";
    fail_basic_logins(&app, EMAIL, 5).await;
    fail_basic_logins(&app, unknown, 5).await;

    for password in [PASSWORD, WRONG] {
        let (real, ghost) = (
            app.basic_login(EMAIL, password).await,
            app.basic_login(unknown, password).await,
        );
        assert_locked_text(&real, 900);
        assert_eq!(
            (real.status, &real.text, real.headers.len()),
            (ghost.status, &ghost.text, ghost.headers.len())
        );
        for name in ["retry-after", "content-type", "www-authenticate"] {
            assert_eq!(real.header(name), ghost.header(name), "{name}");
        }
        let real = app
            .auth_login(json!({"email": EMAIL, "password": password}))
            .await;
        let ghost = app
            .auth_login(json!({"email": unknown, "password": password}))
            .await;
        assert_locked_json(&real, 900);
        assert_eq!((real.status, &real.text), (ghost.status, &ghost.text));
        assert_eq!(real.header("retry-after"), ghost.header("retry-after"));
    }
}

async fn a_success_resets_the_count(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;

    fail_basic_logins(&app, EMAIL, 4).await;
    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
    fail_basic_logins(&app, EMAIL, 4).await;

    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
}

async fn failures_older_than_the_window_are_forgotten(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;

    fail_basic_logins(&app, EMAIL, 4).await;
    app.clock.advance(901);
    fail_basic_logins(&app, EMAIL, 4).await;

    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
}

async fn repeated_lockouts_grow_up_to_the_cap(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;

    let mut lengths = Vec::new();
    for _ in 0..4 {
        fail_basic_logins(&app, EMAIL, 5).await;
        let reply = app.basic_login(EMAIL, WRONG).await;
        reply.assert_status(429);
        let seconds: i64 = reply.header("retry-after").parse().unwrap();
        lengths.push(seconds);
        app.clock.advance(seconds);
    }

    assert_eq!(lengths, [900, 1800, 3600, 3600]);
    // A success forgets the history: the next lockout is the first again.
    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
    fail_basic_logins(&app, EMAIL, 5).await;
    assert_locked_text(&app.basic_login(EMAIL, WRONG).await, 900);
}

async fn concurrent_wrong_passwords_run_at_most_the_limit_of_verifications(mut app: TestApp) {
    // Patience enough for all 200 to wait their turn (beyond it they would get 503, busy).
    app.restart_with("HASH_QUEUE_WAIT_MS", "30000").await;
    app.signup_user(EMAIL, PASSWORD, "Ada").await;
    let app = Arc::new(app);
    let before = app.password_jobs_run();

    let attempts: Vec<_> = (0..200)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.basic_login(EMAIL, WRONG).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap().status.as_u16());
    }

    let verifications = app.password_jobs_run() - before;
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    let wrong = statuses.iter().filter(|&&s| s == 401).count();
    assert_eq!((wrong, refused), (5, 195), "{statuses:?}");
    assert_eq!(verifications, 5);
}

async fn replicas_share_one_count(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;
    // Three real `gatehouse serve` processes on the one database (on the wall clock).
    let replicas: Vec<ServerProcess> = (0..3).map(|_| ServerProcess::start(&app, &[])).collect();
    let basic_login_at = |replica: &ServerProcess, password: &str| {
        let request = app
            .client
            .post(format!("{}/login", replica.address))
            .basic_auth(EMAIL, Some(password));
        app.send(request)
    };

    for replica in replicas.iter().cycle().take(5) {
        basic_login_at(replica, WRONG)
            .await
            .assert_text(401, "Invalid credentials");
    }

    for replica in &replicas {
        let reply = basic_login_at(replica, PASSWORD).await;
        reply.assert_text(429, LOCKED);
        let retry_after: i64 = reply.header("retry-after").parse().unwrap();
        assert!((890..=900).contains(&retry_after), "{retry_after}");
    }
}

async fn change_password(app: &TestApp, token: &str, current: &str) -> Reply {
    let body = json!({"current_password": current, "new_password": "a new and better passphrase"});
    let request = app
        .client
        .post(app.url("/auth/password"))
        .bearer_auth(token)
        .json(&body);
    app.send(request).await
}

async fn a_wrong_current_password_counts_and_a_locked_account_cannot_change_it(app: TestApp) {
    let token = app.signup_user(EMAIL, PASSWORD, "Ada").await;

    for _ in 0..3 {
        change_password(&app, &token, WRONG)
            .await
            .assert_failed(401, "Incorrect password");
    }
    fail_basic_logins(&app, EMAIL, 2).await;

    assert_locked_json(&change_password(&app, &token, PASSWORD).await, 900);
    assert_locked_text(&app.basic_login(EMAIL, PASSWORD).await, 900);
    app.clock.advance(900);
    // The sign-in is now older than REAUTH_MAX_AGE_SECS (600 s): a step-up first.
    let stale = change_password(&app, &token, PASSWORD).await;
    assert_eq!(stale.json()["reauth_required"], true);
    let fresh = app.reauth(&token, &json!({"password": PASSWORD})).await;
    fresh.assert_status(200);
    let fresh = fresh.json()["jwt_token"].as_str().unwrap().to_owned();
    change_password(&app, &fresh, PASSWORD)
        .await
        .assert_status(200);
}

async fn refreshing_is_not_a_login_and_works_while_locked(app: TestApp) {
    let reply = app
        .signup(json!({"email": EMAIL, "password": PASSWORD, "name": "Ada"}))
        .await;
    let refresh_token = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    fail_basic_logins(&app, EMAIL, 5).await;

    let refreshed = app.refresh(&refresh_token).await;

    refreshed.assert_status(200);
    assert_locked_text(&app.basic_login(EMAIL, PASSWORD).await, 900);
}

async fn unlock_lifts_a_lockout_and_list_shows_it(app: TestApp) {
    app.signup_user(EMAIL, PASSWORD, "Ada").await;
    app.signup_user("grace@example.com", PASSWORD, "Grace")
        .await;
    fail_basic_logins(&app, EMAIL, 5).await;

    let listed = stdout(&app.cli(&["user", "list"], None).await);
    let line = |out: &str, email: &str| {
        out.lines()
            .find(|line| line.contains(email))
            .unwrap_or_else(|| panic!("{email} not listed: {out}"))
            .to_owned()
    };
    let locked_until = gatehouse::time_format::rfc3339(app.now() + 900);
    assert!(
        line(&listed, EMAIL).trim_end().ends_with(&locked_until),
        "{listed}"
    );
    assert!(
        line(&listed, "grace@").trim_end().ends_with(" -"),
        "{listed}"
    );

    let unlocked = app.cli(&["user", "unlock", "Ada@Example.com"], None).await;
    assert!(unlocked.status.success(), "{}", stdout(&unlocked));
    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
    let listed = stdout(&app.cli(&["user", "list"], None).await);
    assert!(line(&listed, EMAIL).trim_end().ends_with(" -"), "{listed}");
}

async fn old_counters_are_purged(app: TestApp) {
    for n in 0..20 {
        fail_basic_logins(&app, &format!("sprayed-{n}@example.com"), 1).await;
    }
    let count = "SELECT COUNT(*) FROM login_failures";
    assert_eq!(query_number(&app.database_url, count).await, 20);
    let store = Store::connect(&app.database_url).await.unwrap();
    let lockout = Lockout::new(store, LockoutPolicy::DEFAULT, app.clock.clone());

    let kept = lockout.purge().await.unwrap();
    app.clock
        .advance(LockoutPolicy::DEFAULT.retention_secs() + 1);
    let purged = lockout.purge().await.unwrap();

    assert_eq!((kept, purged), (0, 20));
    assert_eq!(query_number(&app.database_url, count).await, 0);
}

async fn max_failures_zero_turns_the_lockout_off(mut app: TestApp) {
    app.restart_with("LOGIN_MAX_FAILURES", "0").await;
    app.signup_user(EMAIL, PASSWORD, "Ada").await;

    fail_basic_logins(&app, EMAIL, 8).await;

    app.basic_login(EMAIL, PASSWORD).await.assert_status(200);
    let count = "SELECT COUNT(*) FROM login_failures";
    assert_eq!(query_number(&app.database_url, count).await, 0);
}
