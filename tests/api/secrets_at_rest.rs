//! The signing secret is never kept in the database, and SQLite files are private: a reader
//! of the database (a backup, a replica, the old service) must not be able to forge tokens.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use gatehouse::store::Store;

use crate::helpers::*;
use crate::migration::stderr;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn sqlite_file(app: &TestApp) -> PathBuf {
    PathBuf::from(app.database_url.trim_start_matches("sqlite://"))
}

async fn stored_secret(app: &TestApp) -> Option<String> {
    let store = Store::connect(&app.database_url).await.unwrap();
    let value = store.setting("jwt_secret").await.unwrap();
    store.close().await;
    value
}

async fn store_secret_as_earlier_versions_did(app: &TestApp) {
    let store = Store::connect(&app.database_url).await.unwrap();
    store
        .setting_or_insert("jwt_secret", &app.secret)
        .await
        .unwrap();
    store.close().await;
}

/// No `JWT_SECRET` on SQLite: a generated secret in a 0600 file beside a 0600 database, the
/// same after a restart, and none in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_a_generated_secret_in_a_private_file() {
    let Some(mut app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    app.unset_env("JWT_SECRET");
    app.restart().await;
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;

    app.restart().await;

    app.validate_token(&token).await.assert_status(200);
    let database = sqlite_file(&app);
    let mut secret_file = database.clone().into_os_string();
    secret_file.push(".jwt-secret");
    let secret_file = PathBuf::from(secret_file);
    assert_eq!(mode(&secret_file), 0o600);
    assert_eq!(mode(&database), 0o600);
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    assert!(secret.len() >= 43, "256 bits");
    assert!(
        !std::fs::read(&database)
            .unwrap()
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "the secret is not in the database file"
    );
    assert_eq!(stored_secret(&app).await, None);
}

/// A secret an earlier version kept in the settings table moves to the file on SQLite, so
/// the tokens signed with it keep validating, and leaves the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_moves_an_earlier_stored_secret_out_of_the_database() {
    let Some(mut app) = spawn_app(Backend::Sqlite).await else {
        return;
    };
    let token = app.signup_user("ada@example.com", PASSWORD, "Ada").await;
    store_secret_as_earlier_versions_did(&app).await;

    app.unset_env("JWT_SECRET");
    app.restart().await;

    app.validate_token(&token).await.assert_status(200);
    assert_eq!(stored_secret(&app).await, None);
    let mut secret_file = sqlite_file(&app).into_os_string();
    secret_file.push(".jwt-secret");
    assert_eq!(std::fs::read_to_string(secret_file).unwrap(), app.secret);
}

/// PostgreSQL and MySQL replicas must share one secret: with none set, start-up is refused
/// (with how to carry over a secret an earlier version kept in the database); once it is set,
/// the old row is deleted.
async fn a_shared_database_needs_a_configured_secret(app: TestApp) {
    let no_secret = [("JWT_SECRET", ""), ("PORT", "0"), ("HOST", "127.0.0.1")];
    let refused = app.cli_with_env(&["serve"], None, &no_secret).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("no JWT secret: set JWT_SECRET"));

    store_secret_as_earlier_versions_did(&app).await;
    let refused = app.cli_with_env(&["serve"], None, &no_secret).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("settings table"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !stderr(&refused).contains(&app.secret),
        "the secret is never printed"
    );

    let mut app = app;
    app.restart().await;
    assert_eq!(stored_secret(&app).await, None);
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shared_database_needs_a_configured_secret() {
        if let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await {
            super::a_shared_database_needs_a_configured_secret(app).await;
        }
    }
}

mod mysql {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_shared_database_needs_a_configured_secret() {
        if let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::MySql).await {
            super::a_shared_database_needs_a_configured_secret(app).await;
        }
    }
}
