//! `gatehouse keys …`: list the signing keys and their states, rotate, retire. Running servers
//! hear of each change through the revocation channel (and their poll), never a restart.

use clap::Subcommand;

use crate::app::open_store;
use crate::auth::keys::{lifecycles, retire, rotate};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::time_format::rfc3339;

#[derive(Debug, Subcommand)]
pub(super) enum KeysCommand {
    /// List every key: id, algorithm, state (next, current, retiring, retired) and dates.
    /// Never any private material.
    List,
    /// Add the next signing key (JWT_ALGORITHM's). It is published in the JWKS at once and
    /// signs JWKS_MAX_AGE_SECS + 30 s later, when every cached JWKS has it.
    Rotate {
        /// Sign with the new key at once (a leaked key): verifiers that cached the JWKS
        /// fetch it again for the unknown kid.
        #[arg(long)]
        now: bool,
    },
    /// Stop a key verifying: tokens it signed are refused from now on. The key that signs
    /// cannot be retired: rotate with --now first.
    Retire { kid: String },
}

pub(super) async fn keys_command(action: KeysCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let now = SystemClock.now();
    let ttl = config.access_token_ttl.as_secs() as i64;
    match action {
        KeysCommand::List => {
            let rows = store.signing_keys().await?;
            let states = lifecycles(&rows, now, ttl);
            let when = |at: Option<i64>| at.map_or_else(|| "-".to_owned(), rfc3339);
            println!("kid\talgorithm\tstate\tcreated\tsigns_from\tsigns_until\tverifies_until");
            for (row, lifecycle) in rows.iter().zip(states) {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    row.kid,
                    row.algorithm,
                    lifecycle.state.name(),
                    rfc3339(row.created_at),
                    rfc3339(row.activates_at),
                    when(lifecycle.signs_until),
                    when(lifecycle.verifies_until),
                );
            }
        }
        KeysCommand::Rotate { now: immediately } => {
            let row = rotate(&store, &config.keys, now, immediately).await?;
            println!(
                "added {} ({}): in the JWKS now, signing from {}",
                row.kid,
                row.algorithm,
                rfc3339(row.activates_at)
            );
        }
        KeysCommand::Retire { kid } => {
            retire(&store, &kid, now, ttl).await?;
            println!("retired {kid}: its tokens are refused from now on");
        }
    }
    store.close().await;
    Ok(())
}
