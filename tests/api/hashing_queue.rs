//! The hashing queue under a burst of logins: `HASH_QUEUE_CAPACITY` places, and a login beyond
//! them waits up to `HASH_QUEUE_WAIT_MS` for one before its 503.

use crate::helpers::*;

backend_tests!(
    logins_beyond_the_queue_wait_for_a_place,
    logins_that_run_out_of_patience_get_503_json_with_retry_after,
);

/// How many logins the bursts send at once: far more than the workers (one per core but one) plus the
/// one waiting place the tests configure.
const BURST: usize = 12;

/// Sends `BURST` Basic logins for `email` at once and returns every reply.
async fn login_burst(app: &TestApp, email: &str) -> Vec<Reply> {
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..BURST {
        let request = app
            .client
            .post(app.url("/login"))
            .basic_auth(email, Some(PASSWORD));
        burst.spawn(async move { Reply::read(request.send().await.expect("sent")).await });
    }
    let mut replies = Vec::new();
    while let Some(reply) = burst.join_next().await {
        replies.push(reply.expect("the login task finished"));
    }
    replies
}

async fn logins_beyond_the_queue_wait_for_a_place(mut app: TestApp) {
    // Arrange: one waiting place, and a generous wait for it.
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    app.restart_with("HASH_QUEUE_CAPACITY", "1").await;
    app.restart_with("HASH_QUEUE_WAIT_MS", "60000").await;

    // Act
    let replies = login_burst(&app, "ada@example.com").await;

    // Assert: the logins that found the queue full waited, and every one got its token.
    for reply in &replies {
        reply.assert_status(200);
    }
}

async fn logins_that_run_out_of_patience_get_503_json_with_retry_after(mut app: TestApp) {
    // Arrange: one waiting place, and 1 ms of patience, far less than a hash takes.
    app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    app.restart_with("HASH_QUEUE_CAPACITY", "1").await;
    app.restart_with("HASH_QUEUE_WAIT_MS", "1").await;

    // Act
    let replies = login_burst(&app, "ada@example.com").await;

    // Assert: some got in, the rest were refused with a JSON 503 that says when to retry.
    let refused: Vec<_> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(
        !refused.is_empty() && refused.len() < BURST,
        "{} of {BURST} refused",
        refused.len()
    );
    for reply in &replies {
        assert!(
            reply.status == 200 || reply.status == 503,
            "{}",
            reply.status
        );
    }
    for reply in refused {
        reply.assert_failed(503, "Too many logins in progress, retry shortly");
        assert_eq!(reply.header("retry-after"), "1");
    }
    // Once the burst is over, a login goes through again.
    app.basic_login("ada@example.com", PASSWORD)
        .await
        .assert_status(200);
}
