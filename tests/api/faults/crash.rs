//! `kill -9` in the middle of a stream of signups: every signup that was answered 201 exists
//! after a restart, and every user row is whole (its password verifies).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{ServerProcess, TestApp, PASSWORD};

const SIGNUP_WORKERS: usize = 6;
/// Kill once this many signups were acknowledged, so the kill lands mid-stream.
const ACKNOWLEDGED_BEFORE_KILL: usize = 20;

async fn acknowledged_signups_survive_kill_9(app: TestApp) {
    // Arrange: a server process and a stream of signups against it.
    let mut server = ServerProcess::start(&app, &[]);
    let attempted = Arc::new(Mutex::new(Vec::new()));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..SIGNUP_WORKERS)
        .map(|worker| {
            let (client, url) = (
                app.client.clone(),
                format!("{}/auth/signup", server.address),
            );
            let (attempted, acknowledged) = (attempted.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let email = format!("w{worker}-{i}@example.com");
                    attempted.lock().unwrap().push(email.clone());
                    let body = json!({"email": email, "password": PASSWORD, "name": "Crash"});
                    match client.post(&url).json(&body).send().await {
                        Ok(reply) if reply.status() == 201 => {
                            acknowledged.lock().unwrap().push(email)
                        }
                        Ok(reply) => assert!(
                            reply.status().is_client_error(),
                            "signup answered {}",
                            reply.status()
                        ),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();

    // Act: kill -9 mid-stream, then start again on the same database.
    let started = Instant::now();
    while acknowledged.lock().unwrap().len() < ACKNOWLEDGED_BEFORE_KILL {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "signups are not being acknowledged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_9();
    for worker in workers {
        worker.await.expect("a signup worker panicked");
    }
    let restarted = ServerProcess::start(&app, &[]);

    // Assert: acknowledged users log in; any other attempt either fully exists or does not.
    let acknowledged = acknowledged.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    for email in &attempted {
        let reply = app
            .client
            .post(format!("{}/auth/login", restarted.address))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login after restart");
        let status = reply.status().as_u16();
        if acknowledged.contains(email) {
            assert_eq!(status, 200, "acknowledged signup {email} was lost");
        } else {
            assert!(
                status == 200 || status == 401,
                "{email}: half-written user? login answered {status}"
            );
        }
    }
}

backend_tests!(acknowledged_signups_survive_kill_9);
