//! OAuth clients (`gatehouse client add`) and the endpoints they call: `/oauth/introspect`
//! and `/oauth/revoke`, each with HTTP Basic client credentials and a form body.

use super::{Reply, TestApp};

/// A client's id and secret, as `client add` printed them.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: String,
}

impl TestApp {
    /// Adds a client with `gatehouse client add NAME`; returns the id and secret it printed.
    pub async fn add_client(&self, name: &str) -> ClientCredentials {
        let output = self.cli(&["client", "add", name], None).await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "client add failed: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .map(|value| value.trim().to_owned())
                .unwrap_or_else(|| panic!("no {name} in {stdout:?}"))
        };
        ClientCredentials {
            id: field("client_id:"),
            secret: field("client_secret:"),
        }
    }

    /// `POST /oauth/introspect` with `token=…`, as `client` (Basic), on this app's server.
    pub async fn introspect(&self, client: &ClientCredentials, token: &str) -> Reply {
        self.introspect_at(&self.address, client, token).await
    }

    /// As `introspect`, on the server at `address` (a replica).
    pub async fn introspect_at(
        &self,
        address: &str,
        client: &ClientCredentials,
        token: &str,
    ) -> Reply {
        let request = self
            .client
            .post(format!("{address}/oauth/introspect"))
            .basic_auth(&client.id, Some(&client.secret))
            .form(&[("token", token)]);
        self.send(request).await
    }

    /// `POST /oauth/revoke` with `token=…`, as `client` (Basic), on this app's server.
    pub async fn revoke(&self, client: &ClientCredentials, token: &str) -> Reply {
        self.revoke_at(&self.address, client, token).await
    }

    /// As `revoke`, on the server at `address` (a replica).
    pub async fn revoke_at(&self, address: &str, client: &ClientCredentials, token: &str) -> Reply {
        let request = self
            .client
            .post(format!("{address}/oauth/revoke"))
            .basic_auth(&client.id, Some(&client.secret))
            .form(&[("token", token)]);
        self.send(request).await
    }
}
