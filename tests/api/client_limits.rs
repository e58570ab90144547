//! Limits per client address: the credential endpoints' token bucket, the pacing of an address
//! that fails many logins, and which address is the client's (`TRUSTED_PROXIES`).

use serde_json::json;

use crate::helpers::*;

backend_tests!(
    the_credential_endpoints_limit_each_address_and_nothing_else,
    x_forwarded_for_from_an_untrusted_peer_changes_nothing,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket,
    one_address_failing_on_many_accounts_is_paced,
);

const TOO_MANY: &str = "Too many requests from this address, try again later";
const PACED: &str = "Too many failed login attempts, try again later";

/// `POST /auth/login` with wrong credentials, from `forwarded_for` when given.
async fn wrong_login(app: &TestApp, email: &str, forwarded_for: Option<&str>) -> Reply {
    let mut request = app
        .client
        .post(app.url("/auth/login"))
        .json(&json!({"email": email, "password": "not the password"}));
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    app.send(request).await
}

fn assert_too_many(reply: &Reply) {
    reply.assert_failed(429, TOO_MANY);
    let wait: u64 = reply.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
}

async fn the_credential_endpoints_limit_each_address_and_nothing_else(mut app: TestApp) {
    app.set_env("RATE_LIMIT_PER_IP", "1");
    app.restart_with("RATE_LIMIT_BURST", "3").await;
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    for n in 0..2 {
        wrong_login(&app, &format!("u{n}@example.com"), None)
            .await
            .assert_status(401);
    }
    let refused = [
        wrong_login(&app, "u3@example.com", None).await,
        app.basic_login("ada@example.com", PASSWORD).await,
        app.post_json("/auth/token/refresh", &json!({"refresh_token": "x"}))
            .await,
    ];

    for reply in &refused {
        assert_too_many(reply);
    }
    for _ in 0..10 {
        app.validate_token(&token).await.assert_status(200);
        app.get("/health").await.assert_status(200);
    }
}

async fn x_forwarded_for_from_an_untrusted_peer_changes_nothing(mut app: TestApp) {
    app.set_env("RATE_LIMIT_PER_IP", "1");
    app.restart_with("RATE_LIMIT_BURST", "2").await;

    for n in 0..2 {
        let spoofed = format!("198.51.100.{n}");
        wrong_login(&app, "u@example.com", Some(&spoofed))
            .await
            .assert_status(401);
    }

    assert_too_many(&wrong_login(&app, "u@example.com", Some("198.51.100.77")).await);
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(mut app: TestApp) {
    app.set_env("TRUSTED_PROXIES", "127.0.0.1/32, ::1");
    app.set_env("RATE_LIMIT_PER_IP", "1");
    app.restart_with("RATE_LIMIT_BURST", "2").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let (first, second) = ("198.51.100.1", "198.51.100.2");

    // The first client's session records its address, not the proxy's.
    let login = app
        .client
        .post(app.url("/auth/login"))
        .header("X-Forwarded-For", first)
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    let token = app.send(login).await.json()["jwt_token"]
        .as_str()
        .unwrap()
        .to_owned();
    wrong_login(&app, "u@example.com", Some(first))
        .await
        .assert_status(401);
    // A client that writes its own X-Forwarded-For only adds to the left of what the proxy
    // appends: still the first client's bucket.
    let spoofed = format!("203.0.113.50, {first}");

    assert_too_many(&wrong_login(&app, "u@example.com", Some(&spoofed)).await);
    wrong_login(&app, "u@example.com", Some(second))
        .await
        .assert_status(401);
    let sessions = app
        .send(
            app.client
                .get(app.url("/auth/sessions"))
                .bearer_auth(&token),
        )
        .await
        .json();
    let current = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == true)
        .expect("the caller's session is listed");
    assert_eq!(current["client_ip"], first);
}

async fn one_address_failing_on_many_accounts_is_paced(mut app: TestApp) {
    app.set_env("TRUSTED_PROXIES", "127.0.0.1/32, ::1");
    app.restart_with("LOGIN_FAILURES_PER_IP_PER_MINUTE", "3")
        .await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let (stuffer, other) = ("198.51.100.1", "198.51.100.2");

    for n in 0..3 {
        wrong_login(&app, &format!("victim{n}@example.com"), Some(stuffer))
            .await
            .assert_failed(401, "Incorrect email or password");
    }
    // Paced: even a right password waits, on every login contract.
    let right = app
        .client
        .post(app.url("/auth/login"))
        .header("X-Forwarded-For", stuffer)
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}));
    let paced = app.send(right).await;
    paced.assert_failed(429, PACED);
    assert_eq!(paced.header("retry-after"), "20");
    let basic = app
        .client
        .post(app.url("/login"))
        .header("X-Forwarded-For", stuffer)
        .basic_auth("ada@example.com", Some(PASSWORD));
    app.send(basic).await.assert_text(429, PACED);

    // Another address is not paced, and the stuffer may try again once a place refills.
    wrong_login(&app, "victim9@example.com", Some(other))
        .await
        .assert_status(401);
    app.clock.advance(20);
    wrong_login(&app, "victim3@example.com", Some(stuffer))
        .await
        .assert_status(401);
    assert_eq!(
        wrong_login(&app, "victim4@example.com", Some(stuffer))
            .await
            .status,
        429
    );
}
