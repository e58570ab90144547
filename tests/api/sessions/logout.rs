//! `POST /auth/logout` with sessions: the current one (default) or `?scope=all`.

use super::*;

backend_tests!(
    logout_ends_only_the_current_session,
    logout_with_scope_current_ends_only_the_current_session,
    logout_all_ends_every_session_of_the_caller_only,
    logout_with_an_unknown_scope_is_400_and_ends_nothing,
    logouts_survive_a_restart,
    logout_all_ends_a_capped_session_whose_token_is_inside_the_leeway,
    a_logout_outlives_a_shorter_token_lifetime,
);

const LOGGED_OUT: &str = "Logout Successful";

async fn logout_ends_only_the_current_session(app: TestApp) {
    let current = signup(&app, "ada@example.com").await;
    let other_device = login(&app, "ada@example.com").await;
    let renewed = refresh_ok(&app, &current.refresh).await;

    let reply = app.logout(&current.access).await;

    reply.assert_success(200, LOGGED_OUT);
    assert_session_ended(&app, &current.access).await;
    assert_session_ended(&app, &renewed.access).await;
    assert_refresh_invalid(&refresh(&app, &renewed.refresh).await);
    assert_eq!(
        listed_ids(&app, &other_device.access).await,
        [other_device.sid.as_str()]
    );
    assert_session_alive(&app, &other_device).await;
}

async fn logout_with_scope_current_ends_only_the_current_session(app: TestApp) {
    let current = signup(&app, "ada@example.com").await;
    let other_device = login(&app, "ada@example.com").await;

    let reply = app.logout_scope(&current.access, "current").await;

    reply.assert_success(200, LOGGED_OUT);
    assert_session_ended(&app, &current.access).await;
    assert_refresh_invalid(&refresh(&app, &current.refresh).await);
    assert_session_alive(&app, &other_device).await;
}

async fn logout_all_ends_every_session_of_the_caller_only(app: TestApp) {
    let caller = signup(&app, "ada@example.com").await;
    let laptop = login(&app, "ada@example.com").await;
    let laptop_renewed = refresh_ok(&app, &laptop.refresh).await;
    let basic = app.basic_login("ada@example.com", PASSWORD).await;
    basic.assert_status(200);
    let other_user = signup(&app, "grace@example.com").await;
    let other_user_second = login(&app, "grace@example.com").await;

    let reply = app.logout_scope(&caller.access, "all").await;

    reply.assert_success(200, LOGGED_OUT);
    for token in [
        &caller.access,
        &laptop.access,
        &laptop_renewed.access,
        &basic.text,
    ] {
        assert_session_ended(&app, token).await;
    }
    for token in [&caller.refresh, &laptop_renewed.refresh] {
        assert_refresh_invalid(&refresh(&app, token).await);
    }
    assert_session_alive(&app, &other_user).await;
    assert_session_alive(&app, &other_user_second).await;
    let mut grace_ids = listed_ids(&app, &other_user.access).await;
    grace_ids.sort();
    let mut expected = vec![other_user.sid.clone(), other_user_second.sid.clone()];
    expected.sort();
    assert_eq!(grace_ids, expected);
    // A new login afterwards is a new, working session.
    let again = login(&app, "ada@example.com").await;
    assert_eq!(listed_ids(&app, &again.access).await, [again.sid.as_str()]);
}

async fn logout_with_an_unknown_scope_is_400_and_ends_nothing(app: TestApp) {
    let caller = signup(&app, "ada@example.com").await;
    let other_device = login(&app, "ada@example.com").await;

    for scope in ["bogus", "everything"] {
        let reply = app.logout_scope(&caller.access, scope).await;

        reply.assert_status(400);
        reply.assert_client_error_json();
    }
    assert_session_alive(&app, &caller).await;
    assert_session_alive(&app, &other_device).await;
}

async fn logouts_survive_a_restart(mut app: TestApp) {
    let logged_out = signup(&app, "ada@example.com").await;
    let kept = login(&app, "ada@example.com").await;
    let grace = signup(&app, "grace@example.com").await;
    let grace_other = login(&app, "grace@example.com").await;
    let bystander = signup(&app, "alan@example.com").await;
    app.logout(&logged_out.access)
        .await
        .assert_success(200, LOGGED_OUT);
    app.logout_scope(&grace.access, "all")
        .await
        .assert_success(200, LOGGED_OUT);

    app.restart().await;

    for ended in [&logged_out, &grace, &grace_other] {
        assert_session_ended(&app, &ended.access).await;
        assert_refresh_invalid(&refresh(&app, &ended.refresh).await);
    }
    assert_session_alive(&app, &kept).await;
    assert_session_alive(&app, &bystander).await;
}

/// A logout is remembered until the tokens it ended expire by their own `exp`: lowering
/// `ACCESS_TOKEN_TTL` and restarting must not let them back in once the new, shorter lifetime
/// has passed (nor may the purge forget them then).
async fn a_logout_outlives_a_shorter_token_lifetime(mut app: TestApp) {
    let logged_out = signup(&app, "ada@example.com").await;
    let everywhere = signup(&app, "grace@example.com").await;
    app.logout(&logged_out.access)
        .await
        .assert_success(200, LOGGED_OUT);
    app.logout_scope(&everywhere.access, "all")
        .await
        .assert_success(200, LOGGED_OUT);

    app.restart_with("ACCESS_TOKEN_TTL", "60").await;
    app.clock.advance(600);
    // A poll or two runs meanwhile, with its purge.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.restart().await;

    assert_session_ended(&app, &logged_out.access).await;
    assert_session_ended(&app, &everywhere.access).await;
}

/// A session refreshed just before its 90-day cap holds an access token that outlives the
/// session row's expiry by up to `ACCESS_TOKEN_TTL`. "Log out everywhere" must still end it.
async fn logout_all_ends_a_capped_session_whose_token_is_inside_the_leeway(app: TestApp) {
    let mut capped = signup(&app, "ada@example.com").await;
    let cap = app.now() + 90 * DAY;
    for _ in 0..3 {
        app.clock.advance(29 * DAY);
        capped = refresh_ok(&app, &capped.refresh).await;
    }
    // Day 87 + 3 days - 60 s: the last refresh before the cap. Its token expires with the
    // session, not an hour later; 10 s past the cap it still passes, within the leeway.
    app.clock.advance(3 * DAY - 60);
    capped = refresh_ok(&app, &capped.refresh).await;
    assert_eq!(decode_claims(&capped.access, &app.secret)["exp"], cap);
    app.clock.advance(70);
    app.validate_token(&capped.access).await.assert_status(200);
    let fresh = login(&app, "ada@example.com").await;

    let reply = app.logout_scope(&fresh.access, "all").await;

    reply.assert_success(200, LOGGED_OUT);
    assert_session_ended(&app, &fresh.access).await;
    assert_session_ended(&app, &capped.access).await;
}

/// Anyone who can connect to PostgreSQL can `NOTIFY`: a notification is only a hint to re-read
/// the database, never applied for what it says (here: a session that was never ended, and a
/// token id "expiring" at the end of time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_notification_revokes_nothing() {
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    let ada = signup(&app, "ada@example.com").await;
    let pool = sqlx::PgPool::connect(&app.database_url)
        .await
        .expect("connect to PostgreSQL");

    for payload in [
        format!("sid {} 99999999999", ada.sid),
        format!("jti x {}", i64::MAX),
        "users".to_owned(),
        "garbage".to_owned(),
    ] {
        sqlx::query("SELECT pg_notify('gatehouse_revocations', $1)")
            .bind(payload)
            .execute(&pool)
            .await
            .expect("notify");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    assert_session_alive(&app, &ada).await;
    pool.close().await;
}
