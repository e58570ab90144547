//! `POST /auth/token/refresh`: rotation, the reuse grace window, and reuse detection.

use serde_json::json;

use super::*;

backend_tests!(
    refresh_returns_a_new_pair_for_the_same_session,
    refresh_without_a_token_is_400,
    refresh_with_a_token_of_the_wrong_type_is_400,
    refresh_with_an_unknown_token_is_401,
    reuse_within_the_grace_window_returns_the_same_successor,
    reuse_after_the_grace_window_ends_the_session,
    reuse_detection_survives_a_restart,
    refreshing_in_a_loop_stores_nothing_per_token,
    a_refresh_token_from_before_generations_is_honoured_once,
    a_login_beyond_the_session_cap_ends_the_oldest,
    concurrent_refreshes_with_one_token_get_the_same_successor,
);

/// Seconds after which an already-rotated refresh token is treated as stolen.
const GRACE: i64 = 10;
const REUSE: &str = "Refresh token reuse detected; the session has been ended";

async fn refresh_returns_a_new_pair_for_the_same_session(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;
    app.clock.advance(60);

    let reply = refresh(&app, &session.refresh).await;

    let body = reply.assert_success(200, "Token refreshed");
    let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
    assert_eq!(
        keys.len(),
        5,
        "status, message, jwt_token, refresh_token, expires_in: {body}"
    );
    let renewed = Login::from_body(&app, &body, "jwt_token");
    assert_eq!(renewed.sid, session.sid);
    assert_ne!(renewed.refresh, session.refresh);
    assert_ne!(renewed.access, session.access);
    let claims = decode_claims(&renewed.access, &app.secret);
    assert_eq!(claims["iat"], app.now(), "claims: {claims}");
    assert_eq!(claims["email"], "ada@example.com");
    app.validate_token(&renewed.access).await.assert_status(200);
    // The successor rotates in turn, to a token neither of the earlier ones.
    let third = refresh_ok(&app, &renewed.refresh).await;
    assert_eq!(third.sid, session.sid);
    assert_ne!(third.refresh, renewed.refresh);
    assert_ne!(third.refresh, session.refresh);
}

async fn refresh_without_a_token_is_400(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;

    let missing = app.post_json("/auth/token/refresh", &json!({})).await;
    let null = app
        .post_json("/auth/token/refresh", &json!({"refresh_token": null}))
        .await;
    let other_key = app
        .post_json("/auth/token/refresh", &json!({"token": session.refresh}))
        .await;

    missing.assert_failed(400, "refresh_token is required");
    null.assert_failed(400, "refresh_token is required");
    other_key.assert_failed(400, "refresh_token is required");
    // None of that used up the token.
    refresh_ok(&app, &session.refresh).await;
}

async fn refresh_with_a_token_of_the_wrong_type_is_400(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;

    for value in [json!(42), json!(true), json!([session.refresh]), json!({})] {
        let reply = app
            .post_json("/auth/token/refresh", &json!({"refresh_token": value}))
            .await;

        reply.assert_status(400);
        reply.assert_client_error_json();
        let message = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains("refresh_token"), "{value}: {message:?}");
    }
    let array = app
        .post_json("/auth/token/refresh", &json!([session.refresh]))
        .await;
    array.assert_status(400);
    array.assert_client_error_json();
    let form = app
        .post_raw(
            "/auth/token/refresh",
            Some("text/plain"),
            session.refresh.clone(),
        )
        .await;
    form.assert_status(415);
    form.assert_client_error_json();
    refresh_ok(&app, &session.refresh).await;
}

async fn refresh_with_an_unknown_token_is_401(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;
    let mut altered = session.refresh.clone();
    let last = altered.pop().expect("a character");
    altered.push(if last == 'A' { 'B' } else { 'A' });

    let unknown = refresh(&app, &"A".repeat(43)).await;
    let one_char_off = refresh(&app, &altered).await;
    let access_token = refresh(&app, &session.access).await;

    assert_refresh_invalid(&unknown);
    assert_refresh_invalid(&one_char_off);
    assert_refresh_invalid(&access_token);
    assert_session_alive(&app, &session).await;
}

async fn reuse_within_the_grace_window_returns_the_same_successor(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;
    let first_tab = refresh_ok(&app, &session.refresh).await;
    app.clock.advance(GRACE);

    let second_tab = refresh(&app, &session.refresh).await;

    let body = second_tab.assert_success(200, "Token refreshed");
    let second_tab = Login::from_body(&app, &body, "jwt_token");
    assert_eq!(second_tab.refresh, first_tab.refresh);
    assert_eq!(second_tab.sid, session.sid);
    for token in [&session.access, &first_tab.access, &second_tab.access] {
        app.validate_token(token).await.assert_status(200);
    }
    // The session lives on: the shared successor rotates normally.
    let next = refresh_ok(&app, &first_tab.refresh).await;
    assert_eq!(next.sid, session.sid);
    assert_ne!(next.refresh, first_tab.refresh);
    app.validate_token(&next.access).await.assert_status(200);
}

async fn reuse_after_the_grace_window_ends_the_session(app: TestApp) {
    let stolen = signup(&app, "ada@example.com").await;
    let other_device = login(&app, "ada@example.com").await;
    let other_user = signup(&app, "grace@example.com").await;
    let rotated = refresh_ok(&app, &stolen.refresh).await;
    app.clock.advance(GRACE + 1);

    let reply = refresh(&app, &stolen.refresh).await;

    reply.assert_failed(401, REUSE);
    assert_refresh_invalid(&refresh(&app, &rotated.refresh).await);
    assert_refresh_invalid(&refresh(&app, &stolen.refresh).await);
    assert_session_ended(&app, &stolen.access).await;
    assert_session_ended(&app, &rotated.access).await;
    assert_session_alive(&app, &other_device).await;
    assert_session_alive(&app, &other_user).await;
}

async fn reuse_detection_survives_a_restart(mut app: TestApp) {
    let stolen = signup(&app, "ada@example.com").await;
    let other_device = login(&app, "ada@example.com").await;
    let rotated = refresh_ok(&app, &stolen.refresh).await;
    app.clock.advance(GRACE + 1);
    refresh(&app, &stolen.refresh)
        .await
        .assert_failed(401, REUSE);

    app.restart().await;

    assert_session_ended(&app, &rotated.access).await;
    assert_session_ended(&app, &stolen.access).await;
    assert_refresh_invalid(&refresh(&app, &rotated.refresh).await);
    assert_refresh_invalid(&refresh(&app, &stolen.refresh).await);
    assert_session_alive(&app, &other_device).await;
}

async fn concurrent_refreshes_with_one_token_get_the_same_successor(app: TestApp) {
    let mut current = signup(&app, "ada@example.com").await;
    // Several rounds, so that both orders of the race get a chance to happen.
    for round in 0..5 {
        let (a, b) = tokio::join!(
            refresh(&app, &current.refresh),
            refresh(&app, &current.refresh)
        );

        let a = Login::from_body(&app, &a.assert_success(200, "Token refreshed"), "jwt_token");
        let b = Login::from_body(&app, &b.assert_success(200, "Token refreshed"), "jwt_token");
        assert_eq!(a.refresh, b.refresh, "round {round}: two successors");
        assert_ne!(a.refresh, current.refresh, "round {round}");
        assert_eq!(a.sid, current.sid, "round {round}");
        assert_eq!(b.sid, current.sid, "round {round}");
        app.validate_token(&a.access).await.assert_status(200);
        app.validate_token(&b.access).await.assert_status(200);
        current = a;
    }
    assert_session_alive(&app, &current).await;
}

/// One account refreshing in a loop must not grow a table: the session keeps only its
/// generation, and a token of any older generation is still recognised as reuse.
async fn refreshing_in_a_loop_stores_nothing_per_token(app: TestApp) {
    let first = signup(&app, "ada@example.com").await;
    let mut current = first.clone();
    let mut third = None;

    for round in 0..30 {
        current = refresh_ok(&app, &current.refresh).await;
        if round == 2 {
            third = Some(current.clone());
        }
    }

    assert_eq!(
        query_number(&app.database_url, "SELECT COUNT(*) FROM refresh_tokens").await,
        0
    );
    assert_eq!(
        query_number(&app.database_url, "SELECT COUNT(*) FROM sessions").await,
        1
    );
    app.clock.advance(GRACE + 1);
    let third = third.expect("a token from the third round");
    refresh(&app, &third.refresh)
        .await
        .assert_failed(401, REUSE);
    assert_session_ended(&app, &current.access).await;
    assert_refresh_invalid(&refresh(&app, &current.refresh).await);
    assert_refresh_invalid(&refresh(&app, &first.refresh).await);
}

/// A refresh token issued before generations (256 random bits, stored as SHA-256) still
/// refreshes once, into the new kind; presented again later, it is reuse.
async fn a_refresh_token_from_before_generations_is_honoured_once(app: TestApp) {
    let session = signup(&app, "ada@example.com").await;
    let old_token = "b".repeat(43);
    let hash = gatehouse::auth::refresh_token::hash_refresh_token(&old_token);
    let insert = format!(
        "INSERT INTO refresh_tokens (token_hash, session_id, issued_at) VALUES ('{hash}', '{}', {})",
        session.sid,
        app.now()
    );
    query_number(&app.database_url, &insert).await;

    let renewed = refresh_ok(&app, &old_token).await;

    assert_eq!(renewed.sid, session.sid);
    assert_refresh_token_shape(&renewed.refresh);
    let next = refresh_ok(&app, &renewed.refresh).await;
    app.clock.advance(GRACE + 1);
    refresh(&app, &old_token).await.assert_failed(401, REUSE);
    assert_session_ended(&app, &next.access).await;
}

/// `MAX_SESSIONS_PER_USER`: a login beyond the cap ends the user's oldest session, and only it.
async fn a_login_beyond_the_session_cap_ends_the_oldest(mut app: TestApp) {
    app.restart_with("MAX_SESSIONS_PER_USER", "3").await;
    let oldest = signup(&app, "ada@example.com").await;
    app.clock.advance(1);
    let mut newer = Vec::new();
    for _ in 0..2 {
        newer.push(login(&app, "ada@example.com").await);
        app.clock.advance(1);
    }
    let other_user = signup(&app, "grace@example.com").await;
    assert_session_alive(&app, &oldest).await;

    let newest = login(&app, "ada@example.com").await;

    assert_session_ended(&app, &oldest.access).await;
    assert_refresh_invalid(&refresh(&app, &oldest.refresh).await);
    for session in newer.iter().chain([&newest, &other_user]) {
        app.validate_token(&session.access).await.assert_status(200);
    }
    assert_eq!(listed_ids(&app, &newest.access).await.len(), 3);
}
