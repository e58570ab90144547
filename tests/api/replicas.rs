//! Three `gatehouse serve` processes on one PostgreSQL (or MySQL) database: a revocation through one is
//! honoured by the others within a second, survives their restarts, and is caught up after
//! their database connections are cut. Polling is slowed to a minute so that only
//! notifications and the reconnect catch-up can meet the deadlines.

use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;
use sqlx::{Connection, PgConnection};

use crate::helpers::{spawn_app, Backend, ServerProcess, TestApp, PASSWORD};

/// What the issue promises for a logout to reach every replica.
const PROPAGATION_DEADLINE: Duration = Duration::from_secs(1);
/// A replica whose connections were cut must reconnect and catch up within this.
const CATCH_UP_DEADLINE: Duration = Duration::from_secs(5);
const SLOW_POLL: [(&str, &str); 1] = [("REVOCATION_SYNC_INTERVAL_MS", "60000")];

async fn validate_status(client: &Client, replica: &ServerProcess, token: &str) -> u16 {
    client
        .post(format!("{}/validate", replica.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("validate")
        .status()
        .as_u16()
}

/// Polls until `replica` refuses `token`; fails after `deadline`.
async fn assert_refused_within(
    client: &Client,
    replica: &ServerProcess,
    token: &str,
    deadline: Duration,
) {
    let started = Instant::now();
    while validate_status(client, replica, token).await != 401 {
        assert!(
            started.elapsed() < deadline,
            "{} still accepted a revoked token after {deadline:?}",
            replica.address
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn login(client: &Client, replica: &ServerProcess) -> String {
    let reply = client
        .post(format!("{}/auth/login", replica.address))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.expect("login body");
    body["jwt_token"].as_str().expect("jwt_token").to_owned()
}

async fn logout(client: &Client, replica: &ServerProcess, token: &str) {
    let reply = client
        .post(format!("{}/auth/logout", replica.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("logout");
    assert_eq!(reply.status(), 200);
}

/// An admin connection to the PostgreSQL server the tests use.
async fn admin() -> PgConnection {
    let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    PgConnection::connect(&admin_url)
        .await
        .expect("admin connection")
}

/// Allows or refuses new connections to the app's database (existing ones are unaffected).
async fn set_allow_connections(app: &TestApp, allow: bool) {
    let database = app
        .database_url
        .rsplit('/')
        .next()
        .expect("a database name");
    let database = database.split('?').next().unwrap_or(database);
    let sql = format!(r#"ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {allow}"#);
    sqlx::query(&sql)
        .execute(&mut admin().await)
        .await
        .expect("ALTER DATABASE");
}

/// Terminates every PostgreSQL backend of one replica process; returns how many.
async fn cut_database_connections(replica: &ServerProcess) -> i64 {
    let name = format!("gatehouse {}", replica.child.id());
    sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_one(&mut admin().await)
    .await
    .expect("pg_terminate_backend")
}

async fn three_replicas() -> Option<(TestApp, [ServerProcess; 3])> {
    let app = spawn_app(Backend::Postgres).await?;
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let replicas = [(); 3].map(|_| ServerProcess::start(&app, &SLOW_POLL));
    Some((app, replicas))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_through_one_replica_reaches_the_others_within_a_second() {
    let Some((app, [a, mut b, c])) = three_replicas().await else {
        return;
    };
    let client = app.client.clone();

    // Arrange: a token from A that B and C accept.
    let token = login(&client, &a).await;
    assert_eq!(validate_status(&client, &b, &token).await, 200);
    assert_eq!(validate_status(&client, &c, &token).await, 200);

    // Act: log out through A.
    logout(&client, &a, &token).await;

    // Assert: B and C refuse it within a second; a restarted B refuses it at once.
    assert_refused_within(&client, &b, &token, PROPAGATION_DEADLINE).await;
    assert_refused_within(&client, &c, &token, PROPAGATION_DEADLINE).await;
    b.kill_9();
    let b = ServerProcess::start(&app, &SLOW_POLL);
    assert_eq!(validate_status(&client, &b, &token).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_whose_connections_were_cut_catches_up() {
    let Some((app, [a, b, _c])) = three_replicas().await else {
        return;
    };
    let client = app.client.clone();
    let token = login(&client, &a).await;
    assert_eq!(validate_status(&client, &b, &token).await, 200);

    // Act: cut every database connection of B (its LISTEN connection too) and keep it out
    // while A revokes, so B misses the notification; then let it back in.
    set_allow_connections(&app, false).await;
    assert!(
        cut_database_connections(&b).await >= 1,
        "B had no database connections to cut"
    );
    logout(&client, &a, &token).await;
    assert_eq!(
        validate_status(&client, &b, &token).await,
        200,
        "B cannot have heard yet"
    );
    set_allow_connections(&app, true).await;

    // Assert: B reconnects, catches up from the database and refuses the token.
    assert_refused_within(&client, &b, &token, CATCH_UP_DEADLINE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_a_user_reaches_every_replica_within_a_second() {
    let Some((app, [a, b, c])) = three_replicas().await else {
        return;
    };
    let client = app.client.clone();
    let token = login(&client, &a).await;
    assert_eq!(validate_status(&client, &c, &token).await, 200);

    let output = app.cli(&["user", "disable", "ada@example.com"], None).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    for replica in [&a, &b, &c] {
        assert_refused_within(&client, replica, &token, PROPAGATION_DEADLINE).await;
    }
}

/// MySQL has no notifications: replicas learn of revocations from the periodic poll, so the
/// staleness bound is `REVOCATION_SYNC_INTERVAL_MS` (here 200 ms) plus one query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mysql_replicas_learn_of_a_logout_within_the_poll_interval() {
    let Some(app) = spawn_app(Backend::MySql).await else {
        return;
    };
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    let fast_poll = [("REVOCATION_SYNC_INTERVAL_MS", "200")];
    let [a, b, c] = [(); 3].map(|_| ServerProcess::start(&app, &fast_poll));
    let client = app.client.clone();
    let token = login(&client, &a).await;
    assert_eq!(validate_status(&client, &b, &token).await, 200);
    assert_eq!(validate_status(&client, &c, &token).await, 200);

    logout(&client, &a, &token).await;

    assert_refused_within(&client, &b, &token, PROPAGATION_DEADLINE).await;
    assert_refused_within(&client, &c, &token, PROPAGATION_DEADLINE).await;
}
