//! `gatehouse user …`: add, list, disable, enable, delete and unlock users, set their
//! passwords, and remove a second factor a user lost, through `accounts` (which applies the password policy, `PASSWORD_MIN_LENGTH`
//! included) and the lockout (`unlock`, and the locks `list` shows).

use std::io::{BufRead as _, IsTerminal as _};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use clap::Subcommand;

use crate::accounts::{self, AccountError, Accounts, Profile};
use crate::app::open_store;
use crate::auth::lockout::Lockout;
use crate::auth::password::PasswordHasher;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::Store;
use crate::time_format::rfc3339;
use crate::validation::email_key;

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
    /// Add a user. The password is read from stdin (a hidden prompt on a terminal), never argv.
    Add {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        admin: bool,
    },
    /// List users (never their password hashes), with when each locked account unlocks.
    List,
    /// Lift the lockout of a login name (an email, or a seed-003 username) at once.
    Unlock { name: String },
    /// Refuse the user's logins and every token they hold.
    Disable { email: String },
    /// Undo `disable`.
    Enable { email: String },
    /// Delete the user; tokens they hold are refused from then on.
    Delete { email: String },
    /// Set the user's password (read from stdin, a hidden prompt on a terminal) and end every
    /// session they hold.
    SetPassword { email: String },
    /// Grant (true) or remove (false) admin. Removing it ends the user's sessions. Review
    /// admins after a migration: LEGACY_ADMIN_DEFAULT and --admin-default make every migrated
    /// user one.
    SetAdmin {
        email: String,
        #[arg(value_name = "BOOL", action = clap::ArgAction::Set)]
        admin: bool,
    },
    /// Remove the user's second factor (TOTP and recovery codes): for a user who lost both
    /// their authenticator and their codes. Their password alone signs in again until they
    /// enrol anew; check who is asking first.
    ResetMfa { email: String },
}

pub(super) async fn user_command(action: UserCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let now = SystemClock.now();
    match action {
        UserCommand::Add {
            email,
            name,
            username,
            admin,
        } => {
            // Checked before the password is asked for.
            let profile = Profile::new(
                &email,
                name.as_deref().unwrap_or(""),
                username.as_deref(),
                admin,
            )?;
            let password = read_password()?;
            let accounts = accounts(&store, config).await?;
            match accounts.add(profile, password).await {
                Ok(user) => println!(
                    "added user {} ({}){}",
                    user.id,
                    user.email,
                    if admin { " as admin" } else { "" }
                ),
                Err(AccountError::EmailTaken | AccountError::UsernameTaken) => {
                    bail!("a user with that email or username already exists")
                }
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List => list_users(&store, config, now).await?,
        UserCommand::Unlock { name } => {
            let lockout = Lockout::new(store.clone(), config.lockout, Arc::new(SystemClock));
            if lockout.unlock(&name).await? {
                println!("unlocked {}: its failed logins are forgotten", name.trim());
            } else {
                println!("{} has no failed logins to forget", name.trim());
            }
        }
        UserCommand::SetPassword { email } => {
            let email = email_key(&email);
            let password = read_password()?;
            let accounts = accounts(&store, config).await?;
            match accounts.set_password(&email, password).await {
                Ok(user) => println!(
                    "set the password of user {} ({}); their sessions are ended",
                    user.id, user.email
                ),
                Err(AccountError::NotFound) => bail!("no user with email {email}"),
                Err(e) => return Err(e.into()),
            }
            announce(&store).await;
        }
        UserCommand::SetAdmin { email, admin } => {
            let email = email_key(&email);
            match accounts::set_admin(&store, &email, admin, now).await {
                Ok(user) if admin => println!("user {} ({}) is an admin", user.id, user.email),
                Ok(user) => println!(
                    "user {} ({}) is no longer an admin; their sessions are ended",
                    user.id, user.email
                ),
                Err(AccountError::NotFound) => bail!("no user with email {email}"),
                Err(e) => return Err(e.into()),
            }
            announce(&store).await;
        }
        UserCommand::ResetMfa { email } => {
            let email = email_key(&email);
            let Some(user) = store.find_user_by_email(&email).await? else {
                bail!("no user with email {email}");
            };
            if store.delete_totp(user.id).await? {
                tracing::info!(
                    user_id = user.id,
                    "second factor removed by `user reset-mfa`"
                );
                println!("removed the second factor of user {} ({email})", user.id);
            } else {
                println!("user {} ({email}) has no second factor", user.id);
            }
        }
        UserCommand::Disable { email } => set_disabled(&store, &email, true, now).await?,
        UserCommand::Enable { email } => set_disabled(&store, &email, false, now).await?,
        UserCommand::Delete { email } => {
            let email = email_key(&email);
            match accounts::delete(&store, &email, now).await {
                Ok(id) => {
                    println!("deleted user {id} ({email}); their tokens are refused from now on")
                }
                Err(AccountError::NotFound) => bail!("no user with email {email}"),
                Err(e) => return Err(e.into()),
            }
            announce(&store).await;
        }
    }
    store.close().await;
    Ok(())
}

async fn list_users(store: &Store, config: &Config, now: i64) -> anyhow::Result<()> {
    let users = store.list_users().await?;
    // A user is locked when their email is, or (seed 003) their username.
    let lockout = Lockout::new(store.clone(), config.lockout, Arc::new(SystemClock));
    let names: Vec<(usize, &str)> = users
        .iter()
        .enumerate()
        .flat_map(|(index, u)| {
            let username = u.username.as_deref().map(|name| (index, name));
            std::iter::once((index, u.email.as_str())).chain(username)
        })
        .collect();
    let just_names: Vec<&str> = names.iter().map(|(_, name)| *name).collect();
    let mut locked_until = vec![0_i64; users.len()];
    for (index, until) in lockout.locked(&just_names).await? {
        let user = names[index].0;
        locked_until[user] = locked_until[user].max(until);
    }
    println!(
        "{:>6}  {:<32} {:<16} {:<20} {:<5} {:<8} {:<9} {:<20} locked until",
        "id", "email", "username", "name", "admin", "disabled", "origin", "created"
    );
    for (u, until) in users.iter().zip(locked_until) {
        println!(
            "{:>6}  {:<32} {:<16} {:<20} {:<5} {:<8} {:<9} {:<20} {}",
            u.id,
            u.email,
            u.username.as_deref().unwrap_or("-"),
            u.name,
            u.admin,
            u.disabled,
            // Migrated users may be admins only because their seed made everyone one.
            if u.legacy_name.is_some() {
                "migrated"
            } else {
                "gatehouse"
            },
            rfc3339(u.created_at),
            if until > now {
                rfc3339(until)
            } else {
                "-".to_owned()
            }
        );
    }
    Ok(())
}

/// Accounts with one hashing worker: the CLI hashes one password.
async fn accounts(store: &Store, config: &Config) -> anyhow::Result<Accounts> {
    let hasher = tokio::task::spawn_blocking(|| PasswordHasher::new(1, 1)).await??;
    let clock = Arc::new(SystemClock);
    Ok(Accounts::new(
        store.clone(),
        hasher,
        None,
        clock,
        config.password_policy,
    ))
}

async fn set_disabled(store: &Store, email: &str, disabled: bool, now: i64) -> anyhow::Result<()> {
    let email = email_key(email);
    match accounts::set_disabled(store, &email, disabled, now).await {
        Ok(user) if disabled => println!(
            "disabled user {} ({}); running servers refuse their tokens within the sync interval",
            user.id, user.email
        ),
        Ok(user) => println!("enabled user {} ({})", user.id, user.email),
        Err(AccountError::NotFound) => bail!("no user with email {email}"),
        Err(e) => return Err(e.into()),
    }
    announce(store).await;
    Ok(())
}

/// Running replicas on PostgreSQL reload their blocked users at once; on SQLite (and if the
/// notification is lost) they pick the change up on their next poll.
async fn announce(store: &Store) {
    if let Err(e) = accounts::announce_users_changed(store).await {
        eprintln!("gatehouse: warning: could not notify running servers ({e}); they will catch up on their next poll");
    }
}

/// A hidden prompt on a terminal; otherwise the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password (again): ")?;
        if first != again {
            bail!("the passwords do not match");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
