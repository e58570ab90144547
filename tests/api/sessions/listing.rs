//! `GET /auth/sessions` and `DELETE /auth/sessions/{id}`.

use super::*;

backend_tests!(
    sessions_lists_each_login_newest_first_with_the_current_one_marked,
    sessions_never_shows_refresh_tokens_or_their_hashes,
    refreshing_updates_last_used_and_expiry_but_keeps_the_session,
    sessions_requires_a_live_token,
    delete_ends_only_that_session,
    delete_of_the_current_session_ends_the_callers_own_tokens,
    delete_of_another_users_unknown_or_ended_session_is_404,
    a_deleted_session_stays_ended_after_a_restart,
);

const NOT_FOUND: &str = "Session not found";

async fn delete_session(app: &TestApp, token: &str, id: &str) -> Reply {
    let url = app.url(&format!("/auth/sessions/{id}"));
    app.send(app.client.delete(url).bearer_auth(token)).await
}

fn sha256_hex(text: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .expect("a valid time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

async fn sessions_lists_each_login_newest_first_with_the_current_one_marked(app: TestApp) {
    let start = app.now();
    let phone = signup(&app, "ada@example.com").await;
    app.clock.advance(5);
    let laptop = login_as(&app, "ada@example.com", "Laptop/2.0 (X11)").await;
    app.clock.advance(5);
    let tablet = login_as(&app, "ada@example.com", "Tablet/3.1").await;
    let other_user = signup(&app, "grace@example.com").await;

    let reply = list_sessions(&app, &laptop.access).await;

    let body = reply.assert_success(200, "Active sessions");
    let sessions = body["sessions"].as_array().expect("a sessions array");
    let ids: Vec<&str> = sessions.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [&tablet.sid, &laptop.sid, &phone.sid], "body: {body}");
    assert!(!reply.text.contains(&other_user.sid), "body: {body}");
    let current: Vec<bool> = sessions.iter().map(|s| s["current"] == true).collect();
    assert_eq!(current, [false, true, false], "body: {body}");
    let agents: Vec<&Value> = sessions.iter().map(|s| &s["user_agent"]).collect();
    assert_eq!(
        agents,
        [&json!("Tablet/3.1"), &json!("Laptop/2.0 (X11)"), &json!("")]
    );
    for (session, created) in sessions.iter().zip([start + 10, start + 5, start]) {
        let keys: Vec<&String> = session.as_object().expect("an object").keys().collect();
        assert_eq!(keys.len(), 7, "unexpected fields in {session}");
        assert_eq!(session["client_ip"], "127.0.0.1", "{session}");
        assert_eq!(session["created_at"], rfc3339(created), "{session}");
        assert_eq!(session["last_used_at"], rfc3339(created), "{session}");
        assert_eq!(
            session["expires_at"],
            rfc3339(created + 30 * DAY),
            "{session}"
        );
    }
    // Each session's own token marks that one as current.
    for (who, me) in [(&phone, 2), (&tablet, 0)] {
        let body = list_sessions(&app, &who.access)
            .await
            .assert_success(200, "Active sessions");
        let current: Vec<bool> = body["sessions"]
            .as_array()
            .expect("a sessions array")
            .iter()
            .map(|s| s["current"] == true)
            .collect();
        assert_eq!(current.iter().filter(|c| **c).count(), 1, "body: {body}");
        assert!(current[me], "body: {body}");
    }
    assert_eq!(
        listed_ids(&app, &other_user.access).await,
        [other_user.sid.as_str()]
    );
}

async fn sessions_never_shows_refresh_tokens_or_their_hashes(app: TestApp) {
    let first = signup(&app, "ada@example.com").await;
    let second = login(&app, "ada@example.com").await;
    let rotated = refresh_ok(&app, &second.refresh).await;

    let reply = list_sessions(&app, &first.access).await;

    reply.assert_success(200, "Active sessions");
    for token in [&first.refresh, &second.refresh, &rotated.refresh] {
        assert!(
            !reply.text.contains(token.as_str()),
            "token in {}",
            reply.text
        );
        let hash = sha256_hex(token);
        assert!(!reply.text.contains(&hash), "hash in {}", reply.text);
    }
    assert!(!reply.text.contains("refresh"), "body: {}", reply.text);
    assert!(!reply.text.contains("hash"), "body: {}", reply.text);
}

async fn refreshing_updates_last_used_and_expiry_but_keeps_the_session(app: TestApp) {
    let start = app.now();
    let session = signup(&app, "ada@example.com").await;
    app.clock.advance(100);

    let renewed = refresh_ok(&app, &session.refresh).await;

    for token in [&session.access, &renewed.access] {
        let body = list_sessions(&app, token)
            .await
            .assert_success(200, "Active sessions");
        let listed = &body["sessions"];
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "body: {body}");
        assert_eq!(listed[0]["id"], session.sid.as_str());
        assert_eq!(listed[0]["current"], true);
        assert_eq!(listed[0]["created_at"], rfc3339(start));
        assert_eq!(listed[0]["last_used_at"], rfc3339(start + 100));
        assert_eq!(listed[0]["expires_at"], rfc3339(start + 100 + 30 * DAY));
    }
}

async fn sessions_requires_a_live_token(app: TestApp) {
    let ended = signup(&app, "ada@example.com").await;
    app.logout(&ended.access).await.assert_status(200);

    let missing = app.send(app.client.get(app.url("/auth/sessions"))).await;
    let garbage = list_sessions(&app, "not-a-token").await;
    let revoked = list_sessions(&app, &ended.access).await;

    missing.assert_failed(401, "Auth token missing");
    garbage.assert_failed(401, "Invalid token signature");
    revoked.assert_failed(401, REVOKED);
}

async fn delete_ends_only_that_session(app: TestApp) {
    let kept = signup(&app, "ada@example.com").await;
    let lost = login(&app, "ada@example.com").await;
    let lost_renewed = refresh_ok(&app, &lost.refresh).await;

    let reply = delete_session(&app, &kept.access, &lost.sid).await;

    reply.assert_success(200, "Session ended");
    assert_session_ended(&app, &lost.access).await;
    assert_session_ended(&app, &lost_renewed.access).await;
    assert_refresh_invalid(&refresh(&app, &lost_renewed.refresh).await);
    assert_eq!(listed_ids(&app, &kept.access).await, [kept.sid.as_str()]);
    assert_session_alive(&app, &kept).await;
    let again = delete_session(&app, &kept.access, &lost.sid).await;
    again.assert_failed(404, NOT_FOUND);
}

async fn delete_of_the_current_session_ends_the_callers_own_tokens(app: TestApp) {
    let other = signup(&app, "ada@example.com").await;
    let me = login(&app, "ada@example.com").await;

    let reply = delete_session(&app, &me.access, &me.sid).await;

    reply.assert_success(200, "Session ended");
    assert_session_ended(&app, &me.access).await;
    assert_refresh_invalid(&refresh(&app, &me.refresh).await);
    assert_session_alive(&app, &other).await;
}

async fn delete_of_another_users_unknown_or_ended_session_is_404(app: TestApp) {
    let ada = signup(&app, "ada@example.com").await;
    let grace = signup(&app, "grace@example.com").await;
    let ended = login(&app, "ada@example.com").await;
    app.logout(&ended.access).await.assert_status(200);

    let others = delete_session(&app, &ada.access, &grace.sid).await;
    let unknown = delete_session(&app, &ada.access, &random_hex(16)).await;
    let already_ended = delete_session(&app, &ada.access, &ended.sid).await;
    let unauthenticated = app
        .send(
            app.client
                .delete(app.url(&format!("/auth/sessions/{}", grace.sid))),
        )
        .await;

    others.assert_failed(404, NOT_FOUND);
    unknown.assert_failed(404, NOT_FOUND);
    already_ended.assert_failed(404, NOT_FOUND);
    unauthenticated.assert_failed(401, "Auth token missing");
    assert_eq!(listed_ids(&app, &grace.access).await, [grace.sid.as_str()]);
    assert_session_alive(&app, &grace).await;
    assert_session_alive(&app, &ada).await;
}

async fn a_deleted_session_stays_ended_after_a_restart(mut app: TestApp) {
    let kept = signup(&app, "ada@example.com").await;
    let lost = login(&app, "ada@example.com").await;
    delete_session(&app, &kept.access, &lost.sid)
        .await
        .assert_success(200, "Session ended");

    app.restart().await;

    assert_session_ended(&app, &lost.access).await;
    assert_refresh_invalid(&refresh(&app, &lost.refresh).await);
    assert_eq!(listed_ids(&app, &kept.access).await, [kept.sid.as_str()]);
    assert_session_alive(&app, &kept).await;
}
