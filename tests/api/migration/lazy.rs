//! Lazy migration: a login unknown to Gatehouse is checked against the legacy table, and the
//! user is created with an argon2id hash. No import is run in these tests.

use serde_json::json;

use super::sources::{text, LegacyDb, Value};
use super::*;

backend_tests!(
    first_login_creates_the_user_from_legacy_hashes,
    concurrent_first_logins_make_one_user,
    a_taken_legacy_username_still_lets_the_user_in,
    seed_003_users_log_in_by_username_at_their_first_login,
);

/// Points the app's server at `url`'s table (AUTH_TABLE first: alone it turns nothing on).
async fn enable_lazy_migration(app: &mut TestApp, url: &str, table: &str, extra: &[(&str, &str)]) {
    app.restart_with("AUTH_TABLE", table).await;
    for (name, value) in extra {
        app.restart_with(name, value).await;
    }
    app.restart_with("LEGACY_DATABASE_URL", url).await;
}

/// Cheap vectors of every hashed format (the expensive ones are covered by the import test).
fn cheap_hashes() -> Vec<Vector> {
    let all = vectors();
    let mut chosen: Vec<Vector> = [
        "$2b$04$",
        "pbkdf2:sha256:1000$",
        "scrypt:16384:8:1$",
        "$pbkdf2-sha256$1000$",
        "pbkdf2_sha256$1000$",
        "$argon2id$v=19$m=8192,t=2,p=1$",
    ]
    .iter()
    .filter_map(|prefix| all.iter().find(|v| v.stored.starts_with(prefix)).cloned())
    .collect();
    chosen.extend(
        all.iter()
            .find(|v| v.format == "pbkdf2-hex" && !is_custom_seed_003(v))
            .cloned(),
    );
    chosen
}

async fn first_login_creates_the_user_from_legacy_hashes(mut app: TestApp) {
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE user (id INTEGER PRIMARY KEY, email TEXT, password TEXT, full_name TEXT, admin INTEGER)")
        .await;
    let hashes = cheap_hashes();
    assert_eq!(hashes.len(), 7, "{hashes:?}");
    let rows = hashes
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vec![
                text(&format!("Lazy{i}@Example.com")),
                text(&v.stored),
                text(&format!("Lazy {i}")),
                Value::Bool(i == 1),
            ]
        })
        .collect();
    legacy
        .insert("user", &["email", "password", "full_name", "admin"], rows)
        .await;
    let extra = [
        ("LEGACY_NAME_COLUMN", "full_name"),
        ("LEGACY_ADMIN_COLUMN", "admin"),
    ];
    enable_lazy_migration(&mut app, &legacy.url, "user", &extra).await;

    // Wrong password: the answer of any wrong password, and no user is created.
    let wrong = app
        .auth_login(json!({"email": "lazy0@example.com", "password": "not it at all"}))
        .await;
    wrong.assert_status(401);
    let unknown = app
        .auth_login(json!({"email": "nobody@example.com", "password": "not it at all"}))
        .await;
    assert_eq!(
        (unknown.status, unknown.text.as_str()),
        (wrong.status, wrong.text.as_str())
    );
    let basic = app.basic_login("lazy0@example.com", "not it at all").await;
    assert_eq!(
        (basic.status.as_u16(), basic.text.as_str()),
        (401, "Invalid credentials")
    );
    assert!(stored_user(&app, "lazy0@example.com").await.is_none());
    assert_eq!(user_count(&app).await, 0);

    for (i, v) in hashes.iter().enumerate() {
        let email = format!("lazy{i}@example.com");
        // Each login surface migrates: /auth/login, Basic /login, JSON /login in turn.
        let token = match i % 3 {
            0 => {
                let reply = app
                    .auth_login(json!({"email": email.to_uppercase(), "password": v.password}))
                    .await;
                reply.assert_status(200);
                assert_eq!(reply.json()["message"], "User login successful.");
                reply.json()["jwt_token"].as_str().unwrap().to_owned()
            }
            1 => {
                let reply = app.basic_login(&email, &v.password).await;
                reply.assert_status(200);
                reply.text
            }
            _ => {
                let reply = app
                    .json_login(json!({"username": email, "password": v.password}))
                    .await;
                reply.assert_status(200);
                reply.json()["token"].as_str().unwrap().to_owned()
            }
        };
        let claims = decode_claims(&token, &app.secret);
        assert_eq!(claims["email"], email.as_str());
        assert_eq!(claims["admin"], i == 1, "{email}");
        let user = stored_user(&app, &email).await.expect("created at login");
        assert_current_argon2id(&user);
        assert_eq!(user.name, format!("Lazy {i}"));
        // From now on, Gatehouse answers alone.
        log_in_both_ways(&app, &email, &v.password).await;
    }
    assert_eq!(user_count(&app).await, hashes.len());
}

async fn concurrent_first_logins_make_one_user(mut app: TestApp) {
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE user (email TEXT, password TEXT)")
        .await;
    legacy
        .insert(
            "user",
            &["email", "password"],
            vec![vec![text("race@example.com"), text(PASSWORD)]],
        )
        .await;
    enable_lazy_migration(
        &mut app,
        &legacy.url,
        "user",
        &[("LEGACY_PASSWORD_FORMAT", "plain")],
    )
    .await;
    let body = json!({"email": "race@example.com", "password": PASSWORD});
    let (a, b, c, d) = tokio::join!(
        app.auth_login(body.clone()),
        app.auth_login(body.clone()),
        app.basic_login("race@example.com", PASSWORD),
        app.basic_login("race@example.com", PASSWORD),
    );
    for reply in [a, b, c, d] {
        reply.assert_status(200);
    }
    assert_eq!(user_count(&app).await, 1);
}

/// Seed 003 keeps usernames; one already used in Gatehouse must not lock its legacy owner out.
async fn a_taken_legacy_username_still_lets_the_user_in(mut app: TestApp) {
    let added = app
        .cli(
            &["user", "add", "owner@example.com", "--username", "grace"],
            Some(PASSWORD),
        )
        .await;
    assert!(added.status.success(), "{}", stderr(&added));
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE user (username TEXT, email TEXT, password TEXT)")
        .await;
    let row = vec![text("grace"), text("grace@example.com"), text(PASSWORD)];
    legacy
        .insert("user", &["username", "email", "password"], vec![row])
        .await;
    let settings = [
        ("LEGACY_PASSWORD_FORMAT", "plain"),
        ("LEGACY_USERNAME_COLUMN", "username"),
    ];
    enable_lazy_migration(&mut app, &legacy.url, "user", &settings).await;

    let reply = app.basic_login("grace@example.com", PASSWORD).await;

    reply.assert_status(200);
    let user = stored_user(&app, "grace@example.com")
        .await
        .expect("created");
    assert_eq!(user.username, None);
    assert_current_argon2id(&user);
}

async fn seed_003_users_log_in_by_username_at_their_first_login(app: TestApp) {
    seed_003_username_login(app, LegacyDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_username_lookup_in_a_postgres_legacy_table() {
    let Some(legacy) = LegacyDb::postgres().await else {
        return;
    };
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    seed_003_username_login(app, legacy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_username_lookup_in_a_mariadb_legacy_table() {
    let Some(legacy) = LegacyDb::mysql().await else {
        return;
    };
    let Some(app) = spawn_app(Backend::MySql).await else {
        return;
    };
    seed_003_username_login(app, legacy).await;
}

/// Seed 003 logs in with `{"username", "password"}` on `POST /login`: the legacy row is found by
/// its username, and the user is created with that row's email and username.
async fn seed_003_username_login(mut app: TestApp, legacy: LegacyDb) {
    // Arrange: seed 003's table, with its default hex PBKDF2.
    let hex = cheap_hashes()
        .into_iter()
        .find(|v| v.format == "pbkdf2-hex")
        .expect("a pbkdf2-hex vector");
    legacy
        .execute("CREATE TABLE users (username VARCHAR(64), email VARCHAR(255), password_hash VARCHAR(255))")
        .await;
    let rows = vec![
        vec![text("grace"), text("Grace@Example.com"), text(&hex.stored)],
        vec![text("linus"), text("not an email"), text(&hex.stored)],
    ];
    legacy
        .insert("users", &["username", "email", "password_hash"], rows)
        .await;
    let settings = [
        ("LEGACY_PASSWORD_COLUMN", "password_hash"),
        ("LEGACY_USERNAME_COLUMN", "username"),
    ];
    enable_lazy_migration(&mut app, &legacy.url, "users", &settings).await;

    // Act and assert: a wrong password creates nobody, and answers like any wrong password.
    app.json_login(json!({"username": "grace", "password": "not it at all"}))
        .await
        .assert_status(401);
    assert!(stored_user(&app, "grace@example.com").await.is_none());
    // Usernames match exactly, as Gatehouse's own do.
    app.json_login(json!({"username": "Grace", "password": hex.password}))
        .await
        .assert_status(401);
    // A name no database can hold (PostgreSQL refuses NUL outright) is a failed login, not a 500.
    for unstorable in ["grace\u{0}", "\u{0}"] {
        app.json_login(json!({"username": unstorable, "password": hex.password}))
            .await
            .assert_status(401);
    }

    let reply = app
        .json_login(json!({"username": "grace", "password": hex.password}))
        .await;

    reply.assert_status(200);
    let user = stored_user(&app, "grace@example.com")
        .await
        .expect("created with the row's email");
    assert_eq!(user.username.as_deref(), Some("grace"));
    assert_current_argon2id(&user);
    // From now on the user is Gatehouse's own, by username or by email.
    app.json_login(json!({"username": "grace", "password": hex.password}))
        .await
        .assert_status(200);
    app.basic_login("grace@example.com", &hex.password)
        .await
        .assert_status(200);
    // A row whose email is not valid cannot become a user.
    app.json_login(json!({"username": "linus", "password": hex.password}))
        .await
        .assert_status(401);
}

/// Seed 000: PostgreSQL `auth_user`, plain text, every old token said admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_first_login_from_postgres_auth_user() {
    let Some(legacy) = LegacyDb::postgres().await else {
        return;
    };
    let Some(mut app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    legacy
        .execute(
            "CREATE TABLE auth_user (email VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL)",
        )
        .await;
    let rows = vec![
        vec![text("Ada@Example.com"), text(PASSWORD)],
        vec![text("bob@example.com"), text("pässwörd ✓ 密码 🔑")],
    ];
    legacy
        .insert("auth_user", &["email", "password"], rows)
        .await;
    let settings = [
        ("LEGACY_PASSWORD_FORMAT", "plain"),
        ("LEGACY_ADMIN_DEFAULT", "true"),
    ];
    enable_lazy_migration(&mut app, &legacy.url, "auth_user", &settings).await;

    app.basic_login("ada@example.com", "wrong password")
        .await
        .assert_status(401);
    assert_eq!(user_count(&app).await, 0);
    // Case and spaces do not matter, on either side.
    let reply = app.basic_login(" ADA@example.com", PASSWORD).await;
    reply.assert_status(200);
    assert_eq!(decode_claims(&reply.text, &app.secret)["admin"], true);
    assert_current_argon2id(&stored_user(&app, "ada@example.com").await.expect("created"));
    log_in_both_ways(&app, "bob@example.com", "pässwörd ✓ 密码 🔑").await;
    app.basic_login("carol@example.com", PASSWORD)
        .await
        .assert_status(401);
    assert_eq!(user_count(&app).await, 2);
    // Nobody can sign up as a legacy user who has not logged in yet.
    legacy
        .insert(
            "auth_user",
            &["email", "password"],
            vec![vec![text("Dana@Example.com"), text(PASSWORD)]],
        )
        .await;
    let taken = app
        .signup(json!({"email": "dana@example.com", "password": "attacker's password", "name": "Mallory"}))
        .await;
    taken.assert_status(409);
    assert_eq!(taken.json()["message"], "User already exists.");
    app.basic_login("dana@example.com", PASSWORD)
        .await
        .assert_status(200);
    app.signup_user("erin@example.com", PASSWORD, "Erin").await;
}

/// Seed 004: MariaDB `user` with a TINYINT admin column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_first_login_from_mariadb_user() {
    let Some(legacy) = LegacyDb::mysql().await else {
        return;
    };
    let Some(mut app) = spawn_app(Backend::MySql).await else {
        return;
    };
    legacy
        .execute("CREATE TABLE `user` (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL, is_admin TINYINT(1) NOT NULL DEFAULT 0)")
        .await;
    let rows = vec![
        vec![
            text("root@example.com"),
            text("root-password"),
            Value::Bool(true),
        ],
        vec![text("ada@example.com"), text(PASSWORD), Value::Bool(false)],
    ];
    legacy
        .insert("`user`", &["email", "password", "is_admin"], rows)
        .await;
    let settings = [
        ("LEGACY_PASSWORD_FORMAT", "plain"),
        ("LEGACY_ADMIN_COLUMN", "is_admin"),
    ];
    enable_lazy_migration(&mut app, &legacy.url, "user", &settings).await;

    app.basic_login("ada@example.com", "wrong password")
        .await
        .assert_status(401);
    for (email, password, admin) in [
        ("root@example.com", "root-password", true),
        ("ada@example.com", PASSWORD, false),
    ] {
        let reply = app.basic_login(email, password).await;
        reply.assert_status(200);
        assert_eq!(decode_claims(&reply.text, &app.secret)["admin"], admin);
        assert_current_argon2id(&stored_user(&app, email).await.expect("created"));
    }
    assert_eq!(user_count(&app).await, 2);
}

/// A legacy database that does not answer: a login that needs it is answered exactly like a
/// wrong password (a 503 for those emails alone would tell which ones are not migrated yet);
/// signup, which must check it, answers 503; users Gatehouse knows are unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_database_that_is_down_answers_like_a_wrong_password() {
    let Some(mut app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    app.signup_user("known@example.com", PASSWORD, "Known")
        .await;
    enable_lazy_migration(
        &mut app,
        "postgres://gatehouse@127.0.0.1:1/gone",
        "auth_user",
        &[],
    )
    .await;
    let unknown = app
        .auth_login(json!({"email": "unknown@example.com", "password": PASSWORD}))
        .await;
    let wrong = app
        .auth_login(json!({"email": "known@example.com", "password": "wrong password"}))
        .await;
    assert_eq!((unknown.status, &unknown.text), (wrong.status, &wrong.text));
    unknown.assert_status(401);
    let unknown = app.basic_login("unknown@example.com", PASSWORD).await;
    let wrong = app.basic_login("known@example.com", "wrong password").await;
    assert_eq!((unknown.status, &unknown.text), (wrong.status, &wrong.text));
    let signup = app
        .signup(json!({"email": "new@example.com", "password": PASSWORD, "name": "New"}))
        .await;
    signup.assert_status(503);
    assert_eq!(signup.header("retry-after"), "1");
    log_in_both_ways(&app, "known@example.com", PASSWORD).await;
}
