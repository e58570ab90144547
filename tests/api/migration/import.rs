//! `gatehouse import`: every fixture format from SQLite, seed 000's `auth_user` on PostgreSQL,
//! seed 004's `user` on MariaDB; idempotence, dry runs, and argument errors.

use reqwest::StatusCode;
use serde_json::json;

use super::sources::{text, LegacyDb, Value};
use super::*;

backend_tests!(
    every_fixture_format_imports_and_logs_in,
    case_variant_emails_are_all_rejected,
    migrated_admins_are_visible_and_can_be_removed,
);

/// SQLite legacy tables holding every reference hash, into each Gatehouse backend.
async fn every_fixture_format_imports_and_logs_in(app: TestApp) {
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, password TEXT, name TEXT, is_admin BOOLEAN)")
        .await;
    let vectors = vectors();
    let good: Vec<&Vector> = vectors
        .iter()
        .filter(|v| imports_automatically(v))
        .collect();
    let plain: Vec<&Vector> = vectors.iter().filter(|v| v.format == "plain").collect();
    assert!(
        good.len() >= 30 && plain.len() >= 2,
        "the fixtures are incomplete"
    );
    let mut rows = Vec::new();
    for (i, v) in good.iter().enumerate() {
        rows.push(vec![
            // Legacy emails in any case, with stray spaces: normalised on the way in.
            text(&format!(" User{i}@Example.COM")),
            text(&v.stored),
            text(&format!("User {i}")),
            Value::Bool(i == 0),
        ]);
    }
    for (i, v) in plain.iter().enumerate() {
        let email = format!("plain{i}@example.com");
        rows.push(vec![
            text(&email),
            text(&v.stored),
            Value::Null,
            Value::Null,
        ]);
    }
    let bcrypt = &good[0].stored;
    rows.push(vec![
        text("not-an-email"),
        text(bcrypt),
        Value::Null,
        Value::Null,
    ]);
    rows.push(vec![
        text("nopassword@example.com"),
        Value::Null,
        Value::Null,
        Value::Null,
    ]);
    rows.push(vec![
        text("existing@example.com"),
        text(bcrypt),
        Value::Null,
        Value::Null,
    ]);
    let columns = ["email", "password", "name", "is_admin"];
    legacy.insert("users", &columns, rows).await;
    app.signup_user("existing@example.com", PASSWORD, "Existing")
        .await;

    let args = [
        "--from",
        &legacy.url,
        "--table",
        "users",
        "--name-column",
        "name",
        "--admin-column",
        "is_admin",
    ];
    let first = import(&app, &args, 0).await;
    let summary = stdout(&first);
    assert_eq!(
        counts(&first),
        Counts {
            imported: good.len() as u64,
            skipped: 1,
            rejected: plain.len() as u64 + 2,
        },
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "  unrecognised hash format: {} (rows ",
            plain.len()
        )),
        "{summary}"
    );
    assert!(summary.contains("  invalid email: 1 (row "), "{summary}");
    assert!(summary.contains("  password is NULL: 1 (row "), "{summary}");
    assert!(
        summary.contains("--format plain"),
        "the summary hints at plain text: {summary}"
    );
    assert!(
        !summary.contains("not-an-email") && !summary.contains("plain0@"),
        "emails are not printed"
    );

    // Stored wrapped (the weak digest only under argon2id; upgraded at the first login), with
    // the row's name and admin flag.
    let first_user = stored_user(&app, "user0@example.com")
        .await
        .expect("imported");
    let stored = &first_user.password_hash;
    let old_hash = good[0].stored.trim();
    if old_hash.starts_with("$argon2") {
        assert_eq!(stored, old_hash);
    } else {
        assert!(stored.starts_with("$gatehouse-wrap$"), "{stored}");
        assert!(
            !stored.contains(&old_hash[old_hash.len() - 16..]),
            "{stored}"
        );
    }
    assert_eq!(
        (first_user.name.as_str(), first_user.admin),
        ("User 0", true)
    );
    assert!(
        !stored_user(&app, "user1@example.com")
            .await
            .expect("imported")
            .admin
    );

    let second = import(&app, &args, 0).await;
    assert_eq!(
        counts(&second),
        Counts {
            imported: 0,
            skipped: good.len() as u64 + 1,
            rejected: plain.len() as u64 + 2,
        }
    );
    assert!(
        stdout(&second).contains("nothing to import"),
        "{}",
        stdout(&second)
    );

    for (i, v) in good.iter().enumerate() {
        let email = format!("user{i}@example.com");
        log_in_both_ways(&app, &email, &v.password).await;
        let user = stored_user(&app, &email).await.expect("imported");
        assert_current_argon2id(&user);
    }
    // The user who was there first keeps their own password.
    log_in_both_ways(&app, "existing@example.com", PASSWORD).await;

    // Seed 003 with operator-changed settings: its own table, column and flags.
    let custom: Vec<&Vector> = vectors.iter().filter(|v| is_custom_seed_003(v)).collect();
    legacy
        .execute("CREATE TABLE seed003 (mail TEXT, pw TEXT)")
        .await;
    let rows = custom
        .iter()
        .enumerate()
        .map(|(i, v)| vec![text(&format!("s3-{i}@example.com")), text(&v.stored)])
        .collect();
    legacy.insert("seed003", &["mail", "pw"], rows).await;
    let output = import(
        &app,
        &[
            "--from",
            &legacy.url,
            "--table",
            "seed003",
            "--email-column",
            "mail",
            "--password-column",
            "pw",
            "--format",
            "pbkdf2-hex",
            "--pbkdf2-salt",
            "pepper-2019 ✓",
            "--pbkdf2-iterations",
            "5000",
        ],
        0,
    )
    .await;
    assert_eq!(counts(&output).imported, custom.len() as u64);
    for (i, v) in custom.iter().enumerate() {
        log_in_both_ways(&app, &format!("s3-{i}@example.com"), &v.password).await;
    }
}

/// Seed 000: PostgreSQL `auth_user` with plain-text passwords, and every token said admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_000_auth_user_on_postgres() {
    let Some(legacy) = LegacyDb::postgres().await else {
        return;
    };
    let Some(app) = spawn_app(Backend::Postgres).await else {
        return;
    };
    legacy
        .execute("CREATE TABLE auth_user (id SERIAL PRIMARY KEY, email VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL)")
        .await;
    let plain: Vec<Vector> = vectors()
        .into_iter()
        .filter(|v| v.format == "plain")
        .collect();
    let mut rows: Vec<Vec<Value>> = plain
        .iter()
        .enumerate()
        .map(|(i, v)| vec![text(&format!("Seed0-{i}@Example.com")), text(&v.password)])
        .collect();
    rows.push(vec![text("not an email"), text("whatever-password")]);
    legacy
        .insert("auth_user", &["email", "password"], rows)
        .await;
    let args = [
        "--from",
        &legacy.url,
        "--table",
        "auth_user",
        "--format",
        "plain",
        "--admin-default",
        "true",
    ];
    let output = import(&app, &args, 0).await;
    assert_eq!(
        counts(&output),
        Counts {
            imported: plain.len() as u64,
            skipped: 0,
            rejected: 1
        }
    );
    assert_eq!(counts(&import(&app, &args, 0).await).imported, 0);
    for (i, v) in plain.iter().enumerate() {
        let email = format!("seed0-{i}@example.com");
        // Plain text is never stored: argon2id from the start.
        assert_current_argon2id(&stored_user(&app, &email).await.expect("imported"));
        let token = log_in_both_ways(&app, &email, &v.password).await;
        assert_eq!(decode_claims(&token, &app.secret)["admin"], true);
    }

    // bytea passwords, a BOOLEAN admin column, and a table named with a reserved word.
    legacy
        .execute(r#"CREATE TABLE "user" (email TEXT, password BYTEA, admin BOOLEAN)"#)
        .await;
    let hashed: Vec<Vector> = vectors()
        .into_iter()
        .filter(|v| v.stored.starts_with("$2b$04$") || v.stored.starts_with("pbkdf2:sha256:1000$"))
        .collect();
    let rows = hashed
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vec![
                text(&format!("bytea{i}@example.com")),
                Value::Bytes(v.stored.as_bytes().to_vec()),
                Value::Bool(i == 0),
            ]
        })
        .collect();
    legacy
        .insert(r#""user""#, &["email", "password", "admin"], rows)
        .await;
    let output = import(&app, &["--from", &legacy.url, "--admin-column", "admin"], 0).await;
    assert_eq!(
        counts(&output).imported,
        hashed.len() as u64,
        "{}",
        stdout(&output)
    );
    for (i, v) in hashed.iter().enumerate() {
        let token = log_in_both_ways(&app, &format!("bytea{i}@example.com"), &v.password).await;
        assert_eq!(decode_claims(&token, &app.secret)["admin"], i == 0);
    }
}

/// Seed 004: MariaDB `user` (a reserved word there too) with plain-text passwords.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_user_on_mariadb() {
    let Some(legacy) = LegacyDb::mysql().await else {
        return;
    };
    let Some(app) = spawn_app(Backend::MySql).await else {
        return;
    };
    legacy
        .execute("CREATE TABLE `user` (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL, is_admin TINYINT(1))")
        .await;
    let rows = vec![
        vec![
            text("admin@example.com"),
            text("admin-password"),
            Value::Bool(true),
        ],
        vec![
            text("Ada@Example.com"),
            text("pässwörd ✓ 密码 🔑"),
            Value::Bool(false),
        ],
        vec![text("bob@example.com"), text("short"), Value::Null],
    ];
    legacy
        .insert("`user`", &["email", "password", "is_admin"], rows)
        .await;
    let args = [
        "--from",
        &legacy.url,
        "--format",
        "plain",
        "--admin-column",
        "is_admin",
    ];
    let output = import(&app, &args, 0).await;
    assert_eq!(
        counts(&output),
        Counts {
            imported: 3,
            skipped: 0,
            rejected: 0
        }
    );
    assert_eq!(counts(&import(&app, &args, 0).await).skipped, 3);
    for (email, password, admin) in [
        ("admin@example.com", "admin-password", true),
        ("ada@example.com", "pässwörd ✓ 密码 🔑", false),
        // The old service had no length rule: a short legacy password still logs in.
        ("bob@example.com", "short", false),
    ] {
        let token = log_in_both_ways(&app, email, password).await;
        assert_eq!(
            decode_claims(&token, &app.secret)["admin"],
            admin,
            "{email}"
        );
    }

    // BLOB passwords holding Django and passlib hashes.
    legacy
        .execute("CREATE TABLE hashes (email VARCHAR(255), password BLOB)")
        .await;
    let hashed: Vec<Vector> = vectors()
        .into_iter()
        .filter(|v| matches!(v.format.as_str(), "django" | "passlib") && v.note.contains(" 1000 "))
        .collect();
    assert!(!hashed.is_empty());
    let rows = hashed
        .iter()
        .enumerate()
        .map(|(i, v)| {
            vec![
                text(&format!("blob{i}@example.com")),
                Value::Bytes(v.stored.as_bytes().to_vec()),
            ]
        })
        .collect();
    legacy.insert("hashes", &["email", "password"], rows).await;
    let output = import(&app, &["--from", &legacy.url, "--table", "hashes"], 0).await;
    assert_eq!(
        counts(&output).imported,
        hashed.len() as u64,
        "{}",
        stdout(&output)
    );
    for (i, v) in hashed.iter().enumerate() {
        log_in_both_ways(&app, &format!("blob{i}@example.com"), &v.password).await;
    }
}

/// Seed 003: hex PBKDF2 with a fixed salt, and clients that log in by username.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_003_users_log_in_by_username_after_import() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let vector = vectors()
        .into_iter()
        .find(|v| v.format == "pbkdf2-hex" && !is_custom_seed_003(v))
        .expect("a seed 003 vector with the default settings");
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE user (username TEXT, email TEXT, password_hash TEXT)")
        .await;
    let rows = vec![
        vec![
            text("grace"),
            text("grace@example.com"),
            text(&vector.stored),
        ],
        vec![
            text("has space"),
            text("bad@example.com"),
            text(&vector.stored),
        ],
        vec![text("taken"), text("new@example.com"), text(&vector.stored)],
    ];
    let added = app
        .cli(
            &["user", "add", "owner@example.com", "--username", "taken"],
            Some(PASSWORD),
        )
        .await;
    assert!(added.status.success(), "{}", stderr(&added));
    let columns = ["username", "email", "password_hash"];
    legacy.insert("user", &columns, rows).await;

    let args = [
        "--from",
        &legacy.url,
        "--password-column",
        "password_hash",
        "--username-column",
        "username",
        "--format",
        "pbkdf2-hex",
    ];
    let output = import(&app, &args, 0).await;

    assert_eq!(
        counts(&output),
        Counts {
            imported: 1,
            skipped: 0,
            rejected: 2
        },
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("username taken: 1 (row 3)"),
        "{}",
        stdout(&output)
    );
    assert!(stored_user(&app, "new@example.com").await.is_none());
    assert!(
        stdout(&output).contains("invalid username"),
        "{}",
        stdout(&output)
    );
    let reply = app
        .json_login(json!({"username": "grace", "password": vector.password}))
        .await;
    reply.assert_status(200);
    let user = stored_user(&app, "grace@example.com")
        .await
        .expect("imported");
    assert_eq!(user.username.as_deref(), Some("grace"));
    assert_current_argon2id(&user);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE user (email TEXT, password TEXT)")
        .await;
    let rows = (0..5)
        .map(|i| vec![text(&format!("dry{i}@example.com")), text(PASSWORD)])
        .collect();
    legacy.insert("user", &["email", "password"], rows).await;
    let args = ["--from", &legacy.url, "--format", "plain", "--dry-run"];
    let output = import(&app, &args, 0).await;
    assert_eq!(
        counts(&output),
        Counts {
            imported: 5,
            skipped: 0,
            rejected: 0
        }
    );
    assert!(stdout(&output).contains("would import: 5"));
    assert!(stdout(&output).contains("dry run: nothing was written"));
    assert_eq!(user_count(&app).await, 0);
    let reply = app.basic_login("dry0@example.com", PASSWORD).await;
    reply.assert_status(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_arguments_exit_2_and_unreadable_sources_exit_1() {
    let Some(app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE user (email TEXT, password TEXT)")
        .await;
    let from = legacy.url.as_str();
    for (args, message) in [
        (
            vec!["--table", "user;drop table users"],
            "is not a valid table name",
        ),
        (vec!["--table", "a.b.c"], "is not a valid table name"),
        (
            vec!["--email-column", "e mail"],
            "is not a valid email column",
        ),
        (
            vec!["--password-column", "pass`word"],
            "is not a valid password column",
        ),
        (
            vec!["--admin-column", "1admin"],
            "is not a valid admin column",
        ),
        (vec!["--format", "md5"], "unknown password format"),
        (vec!["--pbkdf2-iterations", "0"], "pbkdf2-iterations"),
        (vec!["--admin-default", "maybe"], "admin-default"),
    ] {
        let mut all = vec!["--from", from];
        all.extend(args.iter().copied());
        let output = import(&app, &all, 2).await;
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = import(&app, &["--from", "http://root:hunter2@db/auth"], 2).await;
    let err = stderr(&output);
    assert!(
        err.contains("expected a postgres://, mysql:// or sqlite:// URL"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");

    // Readable arguments, unreadable source: exit 1, nothing imported.
    let output = import(&app, &["--from", from, "--table", "missing"], 1).await;
    assert!(
        stderr(&output).contains("cannot read table missing"),
        "{}",
        stderr(&output)
    );
    let output = import(&app, &["--from", from, "--email-column", "mail"], 1).await;
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
    import(&app, &["--from", "sqlite:///nonexistent/dir/legacy.db"], 1).await;
    let output = import(
        &app,
        &["--from", "postgres://gatehouse:hunter2@127.0.0.1:1/gone"],
        1,
    )
    .await;
    assert!(!stderr(&output).contains("hunter2"), "{}", stderr(&output));

    // The same names from the environment are checked when the server starts.
    let output = app
        .cli_with_env(
            &["migrate"],
            None,
            &[
                ("LEGACY_DATABASE_URL", from),
                ("AUTH_TABLE", "user where 1=1"),
            ],
        )
        .await;
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.starts_with("gatehouse: configuration error: AUTH_TABLE: \"user where 1=1\" is not a valid table name"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let reply = app
        .auth_login(json!({"email": "x@example.com", "password": "x"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// Someone who registered `VICTIM@x.com` in the old service must not get `victim@x.com`'s
/// account: rows whose emails are equal once normalised are all refused, whichever comes first.
async fn case_variant_emails_are_all_rejected(app: TestApp) {
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE users (email TEXT, password TEXT)")
        .await;
    let rows = vec![
        vec![text("VICTIM@example.com"), text("attacker-password")],
        vec![text("victim@example.com"), text("victim-password")],
        vec![text(" Victim@Example.com "), text("third-password")],
        vec![text("bystander@example.com"), text("bystander-password")],
    ];
    legacy.insert("users", &["email", "password"], rows).await;
    let args = [
        "--from",
        &legacy.url,
        "--table",
        "users",
        "--format",
        "plain",
    ];

    let output = import(&app, &args, 0).await;

    let summary = stdout(&output);
    assert_eq!(
        counts(&output),
        Counts {
            imported: 1,
            skipped: 0,
            rejected: 3
        },
        "{summary}"
    );
    assert!(
        summary.contains("  ambiguous email: 3 (rows 1, 2, 3)"),
        "{summary}"
    );
    assert!(summary.contains("merge or delete"), "{summary}");
    assert!(stored_user(&app, "victim@example.com").await.is_none());
    for password in ["attacker-password", "victim-password", "third-password"] {
        app.basic_login("victim@example.com", password)
            .await
            .assert_text(401, "Invalid credentials");
    }
    log_in_both_ways(&app, "bystander@example.com", "bystander-password").await;
}

/// Seed 000 made every user an admin (`--admin-default true`, `LEGACY_ADMIN_DEFAULT`): the
/// list shows who is an admin and who was migrated, and `set-admin … false` removes it, ending
/// the sessions whose tokens still say admin.
async fn migrated_admins_are_visible_and_can_be_removed(app: TestApp) {
    let legacy = LegacyDb::sqlite().await;
    legacy
        .execute("CREATE TABLE auth_user (email TEXT, password TEXT)")
        .await;
    let rows = vec![vec![text("ada@example.com"), text(PASSWORD)]];
    legacy
        .insert("auth_user", &["email", "password"], rows)
        .await;
    let args = [
        "--from",
        &legacy.url,
        "--table",
        "auth_user",
        "--format",
        "plain",
        "--admin-default",
        "true",
    ];
    import(&app, &args, 0).await;
    app.signup_user("nat@example.com", PASSWORD, "Nat").await;
    let token = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(decode_claims(&token, &app.secret)["admin"], true);
    let listed = |output: &std::process::Output, email: &str| -> Vec<String> {
        let out = stdout(output);
        let line = out
            .lines()
            .find(|line| line.contains(email))
            .unwrap_or_else(|| panic!("{email} not listed: {out}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    let list = app.cli(&["user", "list"], None).await;
    let ada = listed(&list, "ada@example.com");
    assert!(
        ada.contains(&"true".to_owned()) && ada.contains(&"migrated".to_owned()),
        "{ada:?}"
    );
    assert!(listed(&list, "nat@example.com").contains(&"gatehouse".to_owned()));

    let removed = app
        .cli(&["user", "set-admin", "ada@example.com", "false"], None)
        .await;

    assert!(removed.status.success(), "{}", stderr(&removed));
    app.wait_for_validate_status(&token, StatusCode::UNAUTHORIZED)
        .await;
    let fresh = log_in_both_ways(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(decode_claims(&fresh, &app.secret)["admin"], false);
    let list = app.cli(&["user", "list"], None).await;
    assert!(!listed(&list, "ada@example.com").contains(&"true".to_owned()));
    let unknown = app
        .cli(&["user", "set-admin", "nobody@example.com", "true"], None)
        .await;
    assert_eq!(unknown.status.code(), Some(1));
}
