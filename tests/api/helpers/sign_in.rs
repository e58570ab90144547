//! `POST /auth/reauth`: the step-up for changes that need a recent sign-in.

use serde_json::Value;

use super::{Reply, TestApp};

impl TestApp {
    /// `POST /auth/reauth` with `body` (`{password, code?}`), as the holder of `token`.
    pub async fn reauth(&self, token: &str, body: &Value) -> Reply {
        let request = self
            .client
            .post(self.url("/auth/reauth"))
            .bearer_auth(token)
            .json(body);
        self.send(request).await
    }
}
