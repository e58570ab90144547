//! The credential check shared by every login surface, and the upgrade of outdated hashes.

use crate::auth::password::PasswordHasher;
use crate::error::AppError;
use crate::legacy::lazy::{migrate_on_login, LazyMigration};
use crate::store::{Store, User};

/// How the login names its user.
#[derive(Clone, Copy)]
pub enum LoginName<'a> {
    /// Seeds 000/002/004: the email.
    Email(&'a str),
    /// Seed 003: the username or the email.
    UsernameOrEmail(&'a str),
}

pub enum LoginOutcome {
    Success(User),
    /// Unknown user or wrong password: callers answer both the same way.
    InvalidCredentials,
    /// Correct password, but the account is disabled.
    Disabled,
}

/// Looks the user up and verifies the password. An unknown user is verified against a dummy
/// hash, so the answer takes as long as a wrong password would.
///
/// When the password is right, the account enabled, and the stored hash outdated (a legacy
/// format, argon2i, or argon2id with other parameters), the password is hashed again with the
/// current parameters and stored, with `now` as the update time. That upgrade is best effort:
/// if it fails, the failure is logged and the login still succeeds.
pub async fn check_credentials(
    store: &Store,
    hasher: &PasswordHasher,
    name: LoginName<'_>,
    password: String,
    now: i64,
    legacy: Option<&LazyMigration>,
) -> Result<LoginOutcome, AppError> {
    // Refused before the lookup: logins beyond the hashing queue cost no database query.
    // (Whether the queue is full says nothing about the user, so this leaks nothing.)
    hasher.wait_for_room().await?;
    // Boxed: a storm holds a thousand logins waiting above, so while they wait they should
    // hold no room for the lookup's and the verify's futures (about 1 KB).
    Box::pin(async move {
        let user = match name {
            LoginName::Email(email) => {
                store
                    .find_user_by_email(&email.trim().to_lowercase())
                    .await?
            }
            LoginName::UsernameOrEmail(login) => store.find_user_by_login(login).await?,
        };
        // Unknown here: perhaps in the legacy table (lazy migration). A miss stays `None`, so the
        // dummy-hash verify below still runs; a migrated user is verified like any other.
        let user = match (user, legacy) {
            // Boxed: the lazy migration's future is about 4 KB, and only the logins that reach it
            // should pay for it.
            (None, Some(_)) => {
                Box::pin(migrate_on_login(
                    legacy, store, hasher, name, &password, now,
                ))
                .await?
            }
            (found, _) => found,
        };
        let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
        let verification = hasher.verify(password.clone(), stored_hash).await?;
        Ok(match user {
            Some(user) if verification.matches && user.disabled => LoginOutcome::Disabled,
            Some(mut user) if verification.matches => {
                if verification.needs_rehash {
                    upgrade_hash(store, hasher, &mut user, password, now).await;
                }
                LoginOutcome::Success(user)
            }
            _ => LoginOutcome::InvalidCredentials,
        })
    })
    .await
}

/// Replaces the user's stored hash by a fresh argon2id one of `password`. Failures are logged
/// (with the user id and the error, never the password or a hash) and otherwise ignored.
async fn upgrade_hash(
    store: &Store,
    hasher: &PasswordHasher,
    user: &mut User,
    password: String,
    now: i64,
) {
    let new_hash = match hasher.hash(password).await {
        Ok(hash) => hash,
        Err(error) => {
            tracing::warn!(user_id = user.id, %error, "could not upgrade the password hash");
            return;
        }
    };
    match store
        .replace_password_hash(user.id, &user.password_hash, &new_hash, now)
        .await
    {
        Ok(true) => {
            tracing::info!(
                user_id = user.id,
                "upgraded the password hash to argon2id with the current parameters"
            );
            user.password_hash = new_hash;
        }
        // The password changed since it was verified: the newer hash stays.
        Ok(false) => {}
        Err(error) => {
            tracing::warn!(user_id = user.id, %error, "could not store the upgraded password hash");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        };
        store.insert_user(&user, 1_000).await.unwrap();
        store
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
        let login = |password: &str| {
            check_credentials(
                &store,
                &hasher,
                LoginName::Email("ada@example.com"),
                password.to_owned(),
                2_000,
                None,
            )
        };

        // A wrong password changes nothing.
        assert!(matches!(
            login("wrong horse").await.unwrap(),
            LoginOutcome::InvalidCredentials
        ));
        assert_eq!(stored_hash(&store, "ada@example.com").await, legacy);

        let LoginOutcome::Success(user) = login("correct horse").await.unwrap() else {
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
            LoginOutcome::Success(_)
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
        let outcome = check_credentials(
            &store,
            &hasher,
            LoginName::Email("ada@example.com"),
            "correct horse".into(),
            2_000,
            None,
        )
        .await
        .unwrap();
        assert!(matches!(outcome, LoginOutcome::Disabled));
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
        let login = check_credentials(
            &store,
            &hasher,
            LoginName::Email("ada@example.com"),
            "pw".into(),
            1,
            None,
        );
        let size = std::mem::size_of_val(&login);
        assert!(size <= 512, "the login future is {size} bytes");
    }
}
