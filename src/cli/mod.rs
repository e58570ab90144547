//! The command line: `serve` (the default), `migrate`, user administration (`user.rs`), OAuth
//! clients (`client.rs`), signing keys (`keys.rs`), `import` (`import.rs`), and `healthcheck`
//! (`healthcheck.rs`). `main.rs` only calls [`run`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{open_store, App};
use crate::config::Config;
use client::{client_command, ClientCommand};
use healthcheck::{healthcheck_command, HealthcheckArgs};
use import::{import_command, ImportArgs};
use keys::{keys_command, KeysCommand};
use user::{user_command, UserCommand};

mod client;
mod healthcheck;
mod import;
mod keys;
mod logs;
mod user;

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
    /// Manage the OAuth clients that may introspect and revoke tokens.
    Client {
        #[command(subcommand)]
        action: ClientCommand,
    },
    /// Manage the signing keys (JWT_ALGORITHM EdDSA, ES256 or RS256).
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Import users from a seed service's table (PostgreSQL, MySQL/MariaDB or SQLite) into
    /// Gatehouse's database. Users already present are skipped, so running it again is safe.
    Import(ImportArgs),
    /// Ask a running server whether it is ready (`GET /ready`): exit 0 when it answers 200,
    /// 1 otherwise, saying why on stderr. For container health checks.
    Healthcheck(HealthcheckArgs),
}

/// A bad argument found after parsing: exits with 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

/// Runs the parsed command line to completion.
pub fn run(cli: Cli) -> ExitCode {
    let command = cli.command.unwrap_or(Command::Serve);
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("gatehouse: configuration error: {e}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    logs::init(matches!(command, Command::Serve), config.log_format);
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
        Command::Client { action } => client_command(action, &config).await,
        Command::Keys { action } => keys_command(action, &config).await,
        Command::Import(args) => import_command(args, &config).await,
        Command::Healthcheck(args) => healthcheck_command(args, &config).await,
    }
}
