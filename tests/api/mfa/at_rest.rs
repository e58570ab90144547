//! A database dump holds no TOTP secret, recovery code or mfa_token in any form a thief could
//! use: the secret is sealed, the codes and tokens are hashes.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;
use sqlx::{Connection as _, Executor as _, Row as _};

use super::*;

backend_tests!(
    a_database_dump_holds_no_secret_and_no_code,
    secrets_sealed_before_a_key_encryption_key_was_set_keep_working,
);

/// Every MFA row as text: the raw files on SQLite (database and write-ahead log), each row
/// cast to text on PostgreSQL and MySQL.
async fn dump(url: &str) -> String {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut bytes = std::fs::read(path).expect("the database file");
        bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let tables = ["mfa_totp", "mfa_recovery_codes", "mfa_challenges"];
    let mut out = String::new();
    if url.starts_with("mysql:") {
        let mut conn = sqlx::MySqlConnection::connect(url).await.unwrap();
        let queries = [
            "SELECT CONCAT_WS('|', user_id, secret_sealed, created_at) FROM mfa_totp",
            "SELECT CONCAT_WS('|', user_id, code_hash, created_at) FROM mfa_recovery_codes",
            "SELECT CONCAT_WS('|', token_hash, user_id, login_name, contract) FROM mfa_challenges",
        ];
        for sql in queries {
            for row in conn.fetch_all(sql).await.unwrap() {
                out.push_str(&row.get::<String, _>(0));
                out.push('\n');
            }
        }
        return out;
    }
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    for table in tables {
        let sql = format!("SELECT t::text FROM {table} t");
        for row in conn.fetch_all(sql.as_str()).await.unwrap() {
            out.push_str(&row.get::<String, _>(0));
            out.push('\n');
        }
    }
    out
}

async fn a_database_dump_holds_no_secret_and_no_code(app: TestApp) {
    let (secret, codes, _) = user_with_totp(&app, "ada@example.com").await;
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    let mfa_token = mfa_token_of(&app.auth_login(login).await);
    let dump = dump(&app.database_url).await;
    // The rows are there (the dump reads what it should)…
    assert!(
        dump.contains("k:") || dump.contains("s:aes256gcm:"),
        "sealed secret"
    );
    // …and hold none of these, in any encoding.
    let raw = base32_decode(&secret);
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut forbidden = vec![
        secret.clone(),
        secret.to_lowercase(),
        hex,
        STANDARD.encode(&raw),
        URL_SAFE_NO_PAD.encode(&raw),
        mfa_token.clone(),
    ];
    for code in &codes {
        forbidden.push(code.clone());
        forbidden.push(code.replace('-', ""));
    }
    for value in &forbidden {
        assert!(!dump.contains(value.as_str()), "the dump holds {value:?}");
    }
    if !app.database_url.starts_with("sqlite") {
        assert_eq!(dump.lines().count(), 1 + codes.len() + 1, "{dump}");
    }
}

async fn secrets_sealed_before_a_key_encryption_key_was_set_keep_working(mut app: TestApp) {
    let (secret, codes, _) = user_with_totp(&app, "ada@example.com").await;
    app.restart_with("KEY_ENCRYPTION_KEY", &"ab".repeat(32))
        .await;
    let with_code = format!("{PASSWORD}{}", code_now(&app, &secret));
    app.basic_login("ada@example.com", &with_code)
        .await
        .assert_status(200);
    let login = json!({"email": "ada@example.com", "password": PASSWORD});
    let mfa_token = mfa_token_of(&app.auth_login(login).await);
    login_mfa(
        &app,
        json!({"mfa_token": mfa_token, "recovery_code": codes[0]}),
    )
    .await
    .assert_status(200);

    // Enrolled under the key: sealed by it, and still nothing readable in the dump.
    let (bob_secret, bob_codes, _) = user_with_totp(&app, "bob@example.com").await;
    let dump = dump(&app.database_url).await;
    assert!(
        dump.contains("k:aes256gcm:"),
        "sealed under KEY_ENCRYPTION_KEY"
    );
    assert!(!dump.contains(&bob_secret));
    assert!(bob_codes.iter().all(|code| !dump.contains(code.as_str())));
    let with_code = format!("{PASSWORD}{}", code_now(&app, &bob_secret));
    app.basic_login("bob@example.com", &with_code)
        .await
        .assert_status(200);
}
