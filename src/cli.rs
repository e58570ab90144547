//! The command line: `serve` (the default), `migrate`, user administration, and `import`.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::app::{open_store, App};
use crate::auth::legacy_hash::{LegacyFormat, Pbkdf2HexSettings};
use crate::auth::password::PasswordHasher;
use crate::clock::{Clock, SystemClock};
use crate::config::{normalise_database_url, Config};
use crate::http::rfc3339;
use crate::legacy::ident::{Ident, TableName};
use crate::legacy::import::Importer;
use crate::legacy::progress::Progress;
use crate::legacy::source::LegacySource;
use crate::legacy::{parse_format, LegacySettings, LegacyTable};
use crate::store::{redact_url, NewUser, StoreError};
use crate::validation::{check_password, check_username, normalise_email, normalise_name};

/// Exit code for configuration errors (usage errors from clap also exit with 2).
const CONFIG_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Drop-in authentication service for Flask JWT auth clients"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, then serve until SIGTERM/SIGINT (the default).
    Serve,
    /// Create or upgrade the schema, then exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Import users from a seed service's table (PostgreSQL, MySQL/MariaDB or SQLite) into
    /// Gatehouse's database. Users already present are skipped, so running it again is safe.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The legacy database: postgres://…, mysql://… (MariaDB too) or sqlite://PATH.
    #[arg(long = "from", value_name = "URL")]
    from: String,
    /// The user table, optionally schema.table.
    #[arg(long, default_value = "user", value_parser = TableName::parse)]
    table: TableName,
    #[arg(long, default_value = "email", value_parser = |v: &str| Ident::parse(v, "email column"))]
    email_column: Ident,
    #[arg(long, default_value = "password", value_parser = |v: &str| Ident::parse(v, "password column"))]
    password_column: Ident,
    /// The users' display names (none by default).
    #[arg(long, value_parser = |v: &str| Ident::parse(v, "name column"))]
    name_column: Option<Ident>,
    /// The users' usernames (none by default); seed 003's clients log in with them.
    #[arg(long, value_parser = |v: &str| Ident::parse(v, "username column"))]
    username_column: Option<Ident>,
    /// A boolean or 0/1 column marking admins (none by default).
    #[arg(long, value_parser = |v: &str| Ident::parse(v, "admin column"))]
    admin_column: Option<Ident>,
    /// Admin flag of users without an admin value (no admin column, or NULL in it).
    #[arg(long, value_name = "BOOL", default_value = "false", action = clap::ArgAction::Set)]
    admin_default: bool,
    /// How the password column is stored: auto (detect each hash; never plain text), plain,
    /// bcrypt, werkzeug, passlib, django, pbkdf2-hex or argon2.
    #[arg(long, default_value = "auto", value_parser = |v: &str| parse_format(v).map(FormatArg))]
    format: FormatArg,
    /// The fixed salt of seed 003's hex PBKDF2 (pbkdf2-hex).
    #[arg(long, default_value = "salt")]
    pbkdf2_salt: String,
    /// The iterations of seed 003's hex PBKDF2 (pbkdf2-hex).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pbkdf2_iterations: u32,
    /// Read and check everything, write no user (plain-text passwords are not hashed either;
    /// Gatehouse's own schema is still created or upgraded).
    #[arg(long)]
    dry_run: bool,
}

/// `--format`: `None` for auto.
#[derive(Debug, Clone, Copy)]
struct FormatArg(Option<LegacyFormat>);

/// A bad argument found after parsing: exits with 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

#[derive(Debug, Subcommand)]
enum UserCommand {
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
    /// List users (never their password hashes).
    List,
    /// Refuse the user's logins and every token they hold.
    Disable { email: String },
    /// Undo `disable`.
    Enable { email: String },
    /// Delete the user; tokens they hold are refused from then on.
    Delete { email: String },
}

/// Runs the parsed command line to completion.
pub fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    init_tracing(matches!(command, Command::Serve));
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gatehouse: configuration error: {e}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("gatehouse: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<UsageError>() => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::from(CONFIG_ERROR)
        }
        Err(e) => {
            eprintln!("gatehouse: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => App::build(config).await?.run_until_stopped().await,
        Command::Migrate => {
            let store = open_store(&config.database_url).await?;
            println!("{} schema is up to date", store.backend_name());
            Ok(())
        }
        Command::User { action } => user_command(action, &config).await,
        Command::Import(args) => import_command(args, &config).await,
    }
}

/// Runs `gatehouse import`: the summary goes to stdout, the progress line to stderr (on a
/// terminal only). Rejected rows do not fail the command; an unreadable source does.
async fn import_command(args: ImportArgs, config: &Config) -> anyhow::Result<()> {
    let url = normalise_database_url(args.from.trim());
    if !LegacySettings::supports_url(&url) {
        return Err(UsageError(format!(
            "--from {}: expected a postgres://, mysql:// or sqlite:// URL",
            redact_url(&url)
        ))
        .into());
    }
    let settings = LegacySettings {
        url,
        table: LegacyTable {
            table: args.table,
            email: args.email_column,
            password: args.password_column,
            name: args.name_column,
            username: args.username_column,
            admin: args.admin_column,
        },
        format: args.format.0,
        admin_default: args.admin_default,
        pbkdf2: Pbkdf2HexSettings {
            salt: args.pbkdf2_salt.into_bytes(),
            iterations: args.pbkdf2_iterations,
        },
    };
    let source = LegacySource::open(&settings.url, &settings.table)
        .map_err(|e| UsageError(e.to_string()))?;
    source
        .probe()
        .await
        .with_context(|| format!("cannot read {}", source.description()))?;
    let store = open_store(&config.database_url).await?;
    let workers = config.hash_workers;
    let hasher =
        tokio::task::spawn_blocking(move || PasswordHasher::new(workers, workers * 2)).await??;
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let importer = Importer {
        source: &source,
        settings: &settings,
        store: &store,
        hasher: &hasher,
        workers,
        dry_run: args.dry_run,
        now: SystemClock.now(),
    };
    let outcome = importer.run(&mut progress).await;
    print!(
        "{}",
        progress.summary(source.description(), args.dry_run, outcome.is_ok())
    );
    source.close().await;
    store.close().await;
    outcome.with_context(|| format!("importing from {}", source.description()))
}

async fn user_command(action: UserCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let now = SystemClock.now();
    match action {
        UserCommand::Add {
            email,
            name,
            username,
            admin,
        } => {
            let email = normalise_email(&email).map_err(anyhow::Error::msg)?;
            let name = normalise_name(name.as_deref().unwrap_or("")).map_err(anyhow::Error::msg)?;
            if let Some(username) = &username {
                check_username(username).map_err(anyhow::Error::msg)?;
            }
            let password = read_password()?;
            check_password(&password).map_err(anyhow::Error::msg)?;
            let hasher = tokio::task::spawn_blocking(|| PasswordHasher::new(1, 1)).await??;
            let password_hash = hasher.hash(password).await?;
            let user = NewUser {
                email,
                username,
                name,
                password_hash,
                admin,
            };
            match store.insert_user(&user, now).await {
                Ok(user) => println!(
                    "added user {} ({}){}",
                    user.id,
                    user.email,
                    if admin { " as admin" } else { "" }
                ),
                Err(StoreError::Conflict) => {
                    bail!("a user with that email or username already exists")
                }
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::List => {
            println!(
                "{:>6}  {:<32} {:<16} {:<20} {:<5} {:<8} created",
                "id", "email", "username", "name", "admin", "disabled"
            );
            for u in store.list_users().await? {
                println!(
                    "{:>6}  {:<32} {:<16} {:<20} {:<5} {:<8} {}",
                    u.id,
                    u.email,
                    u.username.as_deref().unwrap_or("-"),
                    u.name,
                    u.admin,
                    u.disabled,
                    rfc3339(u.created_at)
                );
            }
        }
        UserCommand::Disable { email } => set_disabled(&store, &email, true, now).await?,
        UserCommand::Enable { email } => set_disabled(&store, &email, false, now).await?,
        UserCommand::Delete { email } => {
            let email = email.trim().to_lowercase();
            match store.delete_user(&email, now).await? {
                Some(id) => {
                    println!("deleted user {id} ({email}); their tokens are refused from now on")
                }
                None => bail!("no user with email {email}"),
            }
            notify_users_changed(&store).await;
        }
    }
    store.close().await;
    Ok(())
}

async fn set_disabled(
    store: &crate::store::Store,
    email: &str,
    disabled: bool,
    now: i64,
) -> anyhow::Result<()> {
    let email = email.trim().to_lowercase();
    match store.set_user_disabled(&email, disabled, now).await? {
        Some(user) if disabled => println!(
            "disabled user {} ({}); running servers refuse their tokens within the sync interval",
            user.id, user.email
        ),
        Some(user) => println!("enabled user {} ({})", user.id, user.email),
        None => bail!("no user with email {email}"),
    }
    notify_users_changed(store).await;
    Ok(())
}

/// Running replicas on PostgreSQL reload their blocked users at once; on SQLite (and if the
/// notification is lost) they pick the change up on their next poll.
async fn notify_users_changed(store: &crate::store::Store) {
    let event = crate::auth::revocation::RevocationEvent::Users.encode();
    if let Err(e) = store.notify_revocation(&event).await {
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

/// Logs go to stderr; `RUST_LOG` overrides the level (info when serving, warnings otherwise).
fn init_tracing(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
