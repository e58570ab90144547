//! Revocation through `/oauth/revoke` on one `gatehouse serve` process, seen by another's
//! `/oauth/introspect` within the revocation bound: on PostgreSQL by notification (polling
//! slowed to a minute, so only the notification can meet the deadline), on MySQL by the poll.

use std::time::{Duration, Instant};

use super::*;

/// What the README promises for a revocation to reach every replica (notifications flowing;
/// on MySQL, a 200 ms poll).
const PROPAGATION_DEADLINE: Duration = Duration::from_secs(1);

async fn two_replicas(
    backend: Backend,
    poll_ms: &str,
) -> Option<(TestApp, [ServerProcess; 2], ClientCredentials)> {
    let app = spawn_app(backend).await?;
    let poll = [("REVOCATION_SYNC_INTERVAL_MS", poll_ms)];
    let replicas = [(); 2].map(|_| ServerProcess::start(&app, &poll));
    let client = app.add_client("billing").await;
    Some((app, replicas, client))
}

/// Polls `replica`'s introspection until `token` is inactive; fails after the deadline.
async fn assert_inactive_within(
    app: &TestApp,
    replica: &ServerProcess,
    client: &ClientCredentials,
    token: &str,
) {
    let started = Instant::now();
    loop {
        let reply = app.introspect_at(&replica.address, client, token).await;
        reply.assert_status(200);
        if reply.json() == json!({"active": false}) {
            return;
        }
        assert!(
            started.elapsed() < PROPAGATION_DEADLINE,
            "{} still reports a revoked token active after {PROPAGATION_DEADLINE:?}",
            replica.address
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn revoked_on_one_replica_inactive_on_the_other(backend: Backend, poll_ms: &str) {
    let Some((mut app, [a, b], client)) = two_replicas(backend, poll_ms).await else {
        return;
    };
    app.address = a.address.clone();
    let tokens = signup(&app, "ada@example.com").await;
    let active = app.introspect_at(&b.address, &client, &tokens.access).await;
    assert_eq!(active.json()["active"], true, "{}", active.text);

    let revoked = app.revoke_at(&a.address, &client, &tokens.access).await;
    assert_revoked_ok(&revoked);

    assert_inactive_within(&app, &b, &client, &tokens.access).await;
    let bearer = format!("Bearer {}", tokens.access);
    let validated = app.validate_at(&b.address, Some(&bearer)).await;
    validated.assert_invalid_token();

    // A refresh token revoked on A: B reads its session, so it is inactive at once.
    app.revoke_at(&a.address, &client, &tokens.refresh).await;
    let refresh = app
        .introspect_at(&b.address, &client, &tokens.refresh)
        .await;
    assert_eq!(refresh.json(), json!({"active": false}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_revocation_reaches_another_replica_within_a_second() {
    revoked_on_one_replica_inactive_on_the_other(Backend::Postgres, "60000").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_mysql_a_revocation_reaches_another_replica_within_the_poll_interval() {
    revoked_on_one_replica_inactive_on_the_other(Backend::MySql, "200").await;
}
