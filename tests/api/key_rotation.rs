//! `gatehouse keys` against running servers: a rotation or retirement made by the CLI reaches
//! servers without a restart, in-process on every backend and, on PostgreSQL, across replica
//! processes through notifications alone (their poll slowed to a minute); replicas starting
//! together agree on one key.

use std::process::Output;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::keys::login_token;

backend_tests!(
    keys_cli_rotates_lists_and_retires,
    keys_rotate_refuses_hs256
);

const EDDSA: [(&str, &str); 1] = [("JWT_ALGORITHM", "EdDSA")];
/// What a key change may take to reach every replica through notifications.
const PROPAGATION_DEADLINE: Duration = Duration::from_secs(1);

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn kid(token: &str) -> String {
    token_header(token)["kid"].as_str().unwrap().to_owned()
}

async fn keys_cli_rotates_lists_and_retires(mut app: TestApp) {
    app.restart_with("JWT_ALGORITHM", "EdDSA").await;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let old = login_token(&app).await;

    // Act: rotate at once with the CLI (which uses the wall clock; the server's clock is
    // moved past it, since the test's clock stood still while the CLI ran).
    let rotated = app
        .cli_with_env(&["keys", "rotate", "--now"], None, &EDDSA)
        .await;
    assert!(rotated.status.success(), "{}", text(&rotated));
    app.clock.advance(60);

    // Assert: the running server signs with the new key without a restart; old tokens verify.
    let started = Instant::now();
    let new = loop {
        let token = login_token(&app).await;
        if kid(&token) != kid(&old) {
            break token;
        }
        assert!(
            started.elapsed() < SYNC_DEADLINE,
            "still signing with the old key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    app.validate_token(&old).await.assert_status(200);
    let listed = app.cli_with_env(&["keys", "list"], None, &EDDSA).await;
    let listing = text(&listed);
    assert!(listed.status.success(), "{listing}");
    let line_of = |kid: String| {
        listing
            .lines()
            .find(|line| line.starts_with(&kid))
            .unwrap_or_else(|| panic!("{kid} not listed: {listing}"))
            .to_owned()
    };
    assert!(
        line_of(kid(&old)).contains("\tEdDSA\tretiring\t"),
        "{listing}"
    );
    assert!(
        line_of(kid(&new)).contains("\tEdDSA\tcurrent\t"),
        "{listing}"
    );
    assert!(!listing.contains("plain:") && !listing.contains("aes256gcm:"));

    // Act: retire the old key. Assert: its tokens are refused, the new ones are not.
    let retired = app
        .cli_with_env(&["keys", "retire", &kid(&old)], None, &EDDSA)
        .await;
    assert!(retired.status.success(), "{}", text(&retired));
    app.wait_for_validate_status(&old, StatusCode::UNAUTHORIZED)
        .await;
    app.validate_token(&new).await.assert_status(200);
    let again = app
        .cli_with_env(&["keys", "retire", &kid(&new)], None, &EDDSA)
        .await;
    assert!(!again.status.success(), "the signing key cannot be retired");
    assert!(text(&again).contains("rotate --now"), "{}", text(&again));
}

async fn keys_rotate_refuses_hs256(app: TestApp) {
    let output = app.cli(&["keys", "rotate"], None).await;

    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("JWT_SECRET"), "{}", text(&output));
}

async fn login_at(client: &Client, replica: &ServerProcess) -> String {
    let reply = client
        .post(format!("{}/auth/login", replica.address))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.unwrap();
    body["jwt_token"].as_str().unwrap().to_owned()
}

async fn validate_at(client: &Client, replica: &ServerProcess, token: &str) -> u16 {
    let reply = client
        .post(format!("{}/validate", replica.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    reply.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_agree_and_hear_of_rotations_without_a_restart() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let settings = [
        ("JWT_ALGORITHM", "EdDSA"),
        ("REVOCATION_SYNC_INTERVAL_MS", "60000"),
    ];
    // Arrange: two replicas switched to EdDSA at the same moment.
    let [a, b] = std::thread::scope(|scope| {
        let starts = [(); 2].map(|_| scope.spawn(|| ServerProcess::start(&app, &settings)));
        starts.map(|start| start.join().unwrap())
    });
    let client = app.client.clone();
    let first = login_at(&client, &a).await;
    assert_eq!(kid(&login_at(&client, &b).await), kid(&first), "one key");

    // Act: rotate at once through the CLI.
    let rotated = app
        .cli_with_env(&["keys", "rotate", "--now"], None, &EDDSA)
        .await;
    assert!(rotated.status.success(), "{}", text(&rotated));

    // Assert: B signs with the new key within the deadline, A accepts it, B still accepts
    // A's earlier token.
    let started = Instant::now();
    let second = loop {
        let token = login_at(&client, &b).await;
        if kid(&token) != kid(&first) {
            break token;
        }
        assert!(
            started.elapsed() < PROPAGATION_DEADLINE,
            "B did not hear of the rotation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(validate_at(&client, &a, &second).await, 200);
    assert_eq!(validate_at(&client, &b, &first).await, 200);

    // Act: retire the first key. Assert: both refuse its token within the deadline.
    let retired = app
        .cli_with_env(&["keys", "retire", &kid(&first)], None, &EDDSA)
        .await;
    assert!(retired.status.success(), "{}", text(&retired));
    for replica in [&a, &b] {
        let started = Instant::now();
        while validate_at(&client, replica, &first).await != 401 {
            assert!(started.elapsed() < PROPAGATION_DEADLINE, "still accepted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let store = gatehouse::store::Store::connect(&app.database_url)
        .await
        .unwrap();
    let eddsa_keys = store.signing_keys().await.unwrap();
    let eddsa_keys = eddsa_keys.iter().filter(|row| row.algorithm == "EdDSA");
    assert_eq!(eddsa_keys.count(), 2, "one key at the start, one rotation");
}
