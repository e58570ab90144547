//! `gatehouse client …`: add, list and remove the OAuth clients that may call
//! `/oauth/introspect` and `/oauth/revoke`, through `auth::clients`.

use std::sync::Arc;

use anyhow::bail;
use clap::Subcommand;

use crate::app::open_store;
use crate::auth::clients::{ClientError, ClientRegistry};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::time_format::rfc3339;

#[derive(Debug, Subcommand)]
pub(super) enum ClientCommand {
    /// Add a client; its id and secret are printed once (only a digest of the secret is kept).
    Add { name: String },
    /// List clients: id, name, created (never a secret).
    List,
    /// Remove a client: its next request is refused.
    Remove { id: String },
}

pub(super) async fn client_command(action: ClientCommand, config: &Config) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let clients = ClientRegistry::new(store.clone(), Arc::new(SystemClock));
    match action {
        ClientCommand::Add { name } => match clients.add(&name).await {
            Ok(added) => {
                println!("added client {} ({})", added.client.id, added.client.name);
                println!("client_id:     {}", added.client.id);
                println!("client_secret: {}", added.secret.expose());
                println!("The secret is shown only now: keep it in the client's secret store.");
            }
            Err(ClientError::InvalidName(why)) => bail!("{why}"),
            Err(e) => return Err(e.into()),
        },
        ClientCommand::List => {
            println!("{:<24} {:<20} name", "id", "created");
            for client in clients.list().await? {
                println!(
                    "{:<24} {:<20} {}",
                    client.id,
                    rfc3339(client.created_at),
                    client.name
                );
            }
        }
        ClientCommand::Remove { id } => match clients.remove(&id).await {
            Ok(()) => println!("removed client {id}; its requests are refused from now on"),
            Err(ClientError::NotFound) => bail!("no client with id {id}"),
            Err(e) => return Err(e.into()),
        },
    }
    store.close().await;
    Ok(())
}
