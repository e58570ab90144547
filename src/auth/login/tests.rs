use super::*;
use crate::auth::keys::KeySet;
use crate::auth::lockout::LockoutPolicy;
use crate::auth::refresh_token::RefreshTokens;
use crate::auth::revocation::RevocationList;
use crate::auth::session::SessionPolicy;
use crate::auth::token::AccessTokens;
use crate::clock::ManualClock;
use crate::secrets::Secret;
use crate::store::NewUser;

async fn store_with(dir: &tempfile::TempDir, email: &str, password_hash: &str) -> Store {
    let url = format!("sqlite://{}", dir.path().join("login.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let user = NewUser {
        email: email.into(),
        username: None,
        name: "Ada".into(),
        password_hash: password_hash.into(),
        admin: false,
        legacy_name: None,
    };
    store.insert_user(&user, 1_000).await.unwrap();
    store
}

/// A login service on `store` at time 2,000, without a fallback.
fn service(store: &Store, hasher: &PasswordHasher) -> LoginService {
    let secret = Secret::new("s".repeat(32));
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(2_000));
    let tokens = Arc::new(AccessTokens::new(
        Arc::new(KeySet::hs256(&secret)),
        "gatehouse".into(),
        3600,
    ));
    let policy = SessionPolicy {
        refresh_ttl: 3600,
        refresh_max_ttl: 7200,
        reuse_grace: 10,
        max_per_user: 100,
    };
    let sessions = SessionService::new(
        store.clone(),
        tokens,
        RefreshTokens::new(&secret),
        Arc::new(RevocationList::new()),
        policy,
        clock.clone(),
    );
    LoginService::new(
        store.clone(),
        hasher.clone(),
        Arc::new(sessions),
        None,
        Arc::new(Lockout::new(
            store.clone(),
            LockoutPolicy::DEFAULT,
            clock.clone(),
        )),
        MfaKeys::new(None, &secret),
        clock,
    )
}

async fn stored_hash(store: &Store, email: &str) -> String {
    store
        .find_user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .password_hash
}

#[tokio::test]
async fn a_legacy_hash_is_upgraded_at_the_first_successful_login() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = bcrypt::hash("correct horse", 4).unwrap();
    let store = store_with(&dir, "ada@example.com", &legacy).await;
    let hasher = PasswordHasher::new(1, 8).unwrap();
    let logins = service(&store, &hasher);
    let login = |password: &str| {
        logins.check_credentials(
            LoginName::Email("ada@example.com"),
            password.to_owned(),
            "127.0.0.1",
        )
    };

    // A wrong password changes nothing.
    assert!(matches!(
        login("wrong horse").await.unwrap(),
        Checked::InvalidCredentials
    ));
    assert_eq!(stored_hash(&store, "ada@example.com").await, legacy);

    let Checked::Valid(user) = login("correct horse").await.unwrap() else {
        panic!("the legacy hash did not verify");
    };
    let upgraded = stored_hash(&store, "ada@example.com").await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    assert_eq!(
        user.password_hash, upgraded,
        "the outcome carries the new hash"
    );

    // The next login verifies the new hash and leaves it alone.
    assert!(matches!(
        login("correct horse").await.unwrap(),
        Checked::Valid(_)
    ));
    assert_eq!(stored_hash(&store, "ada@example.com").await, upgraded);
}

#[tokio::test]
async fn a_disabled_account_is_not_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = bcrypt::hash("correct horse", 4).unwrap();
    let store = store_with(&dir, "ada@example.com", &legacy).await;
    store
        .set_user_disabled("ada@example.com", true, 1_500)
        .await
        .unwrap();
    let hasher = PasswordHasher::new(1, 8).unwrap();
    let outcome = service(&store, &hasher)
        .check_credentials(
            LoginName::Email("ada@example.com"),
            "correct horse".into(),
            "127.0.0.1",
        )
        .await
        .unwrap();
    assert!(matches!(outcome, Checked::Disabled));
    assert_eq!(stored_hash(&store, "ada@example.com").await, legacy);
}

#[tokio::test]
async fn a_login_in_flight_stays_small() {
    // Every login in flight is one of these futures, and a storm holds a thousand of them
    // while they wait for the hashing queue. What comes after the wait is boxed, so that
    // only the logins that get that far pay for it.
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(&dir, "ada@example.com", "unused").await;
    let hasher = PasswordHasher::new(1, 8).unwrap();
    let logins = service(&store, &hasher);
    let client = ClientInfo::default();
    let login = logins.login(
        LoginName::Email("ada@example.com"),
        "pw".into(),
        &client,
        LoginContract::AuthLogin,
    );
    let size = std::mem::size_of_val(&login);
    assert!(size <= 512, "the login future is {size} bytes");
}
