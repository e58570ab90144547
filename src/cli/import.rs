//! `gatehouse import`: the flags that describe a seed service's table, and the run.

use std::io::IsTerminal as _;

use anyhow::Context as _;

use super::UsageError;
use crate::app::open_store;
use crate::auth::legacy_hash::{LegacyFormat, Pbkdf2HexSettings};
use crate::auth::password::PasswordHasher;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db_url::{normalise_database_url, redact_url};
use crate::legacy::ident::{Ident, TableName};
use crate::legacy::import::Importer;
use crate::legacy::progress::Progress;
use crate::legacy::source::LegacySource;
use crate::legacy::{parse_format, LegacySettings, LegacyTable};

#[derive(Debug, clap::Args)]
pub(super) struct ImportArgs {
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

/// Runs `gatehouse import`: the summary goes to stdout, the progress line to stderr (on a
/// terminal only). Rejected rows do not fail the command; an unreadable source does.
pub(super) async fn import_command(args: ImportArgs, config: &Config) -> anyhow::Result<()> {
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
