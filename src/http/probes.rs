//! The orchestrator's probes: `GET /live` (the process serves) and `GET /ready` (it can do its
//! work: the database answers and the revocation list is fresh).
//!
//! `/live` touches nothing: a database outage must not get every replica restarted at once.
//! `/ready` takes a replica out of the load balancer while it cannot log anyone in, while
//! its in-memory revocation list may be missing revocations made elsewhere, or once it is
//! shutting down ([`ShutdownFlag`], raised by the accept loop at SIGTERM).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::health::DATABASE_DEADLINE;
use super::state::AppState;
use crate::auth::revocation::RevocationList;

/// How many missed sync intervals a replica tolerates before it stops taking traffic.
const MISSED_SYNCS: u32 = 3;

/// Raised once when shutdown begins; never lowered. While the server drains, `/ready` answers
/// 503 `shutting down` (so the orchestrator takes the replica out of its endpoints) and every
/// answer carries `Connection: close` (so keep-alive peers stop reusing their connections).
#[derive(Clone, Default)]
pub struct ShutdownFlag(Arc<AtomicBool>);

impl ShutdownFlag {
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What `/ready` needs beyond the store: the revocation list and how old it may be, and
/// whether shutdown has begun.
#[derive(Clone)]
pub struct Readiness {
    revocations: Arc<RevocationList>,
    shutdown: ShutdownFlag,
    /// The list is stale once its last successful sync is older than this, in seconds:
    /// `MISSED_SYNCS` × `REVOCATION_SYNC_INTERVAL_MS` plus the database deadline (a sync is a
    /// few queries, each of which may take that long on a slow database), rounded up.
    stale_after_secs: i64,
}

impl Readiness {
    pub fn new(revocations: Arc<RevocationList>, sync_interval: Duration) -> Self {
        let bound = sync_interval.saturating_mul(MISSED_SYNCS) + DATABASE_DEADLINE;
        let whole_secs = bound.as_secs() + u64::from(bound.subsec_nanos() > 0);
        Self {
            revocations,
            shutdown: ShutdownFlag::default(),
            stale_after_secs: i64::try_from(whole_secs).unwrap_or(i64::MAX),
        }
    }

    /// The flag that turns `/ready` to 503 once raised (the accept loop raises it).
    pub fn shutdown_flag(&self) -> ShutdownFlag {
        self.shutdown.clone()
    }

    /// How many seconds ago the list last synced, when that is beyond the bound.
    fn staleness(&self, now: i64) -> Option<i64> {
        let age = now.saturating_sub(self.revocations.last_sync());
        (age > self.stale_after_secs).then_some(age)
    }
}

#[derive(Serialize, ToSchema)]
pub struct Alive {
    /// Always `alive`.
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready` or `not ready`.
    pub status: &'static str,
    /// Why not: `shutting down`, `database unavailable`, or `revocation list stale (last
    /// synced N s ago)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[utoipa::path(get, path = "/live", tag = "health",
    responses(
        (status = 200, description = "The process serves requests (the database is not consulted)", body = Alive),
    ))]
pub async fn live() -> Json<Alive> {
    Json(Alive { status: "alive" })
}

#[utoipa::path(get, path = "/ready", tag = "health",
    responses(
        (status = 200, description = "The database answers and the revocation list synced within its bound", body = Ready),
        (status = 503, description = "Shutting down, the database did not answer within 2 s, or the revocation list is stale", body = Ready),
    ))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Ready>) {
    let reason = if state.readiness.shutdown.is_raised() {
        Some("shutting down".to_owned())
    } else {
        dependencies_failing(&state).await
    };
    match reason {
        None => (
            StatusCode::OK,
            Json(Ready {
                status: "ready",
                reason: None,
            }),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Ready {
                status: "not ready",
                reason: Some(reason),
            }),
        ),
    }
}

/// Why the database or the revocation list keeps this replica from its work, if either does.
async fn dependencies_failing(state: &AppState) -> Option<String> {
    let database = tokio::time::timeout(DATABASE_DEADLINE, state.store.ping()).await;
    match database {
        Ok(Ok(())) => state
            .readiness
            .staleness(state.clock.now())
            .map(|age| format!("revocation list stale (last synced {age} s ago)")),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: database error");
            Some("database unavailable".to_owned())
        }
        Err(_) => Some("database unavailable".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_three_intervals_plus_the_database_deadline_rounded_up() {
        let list = Arc::new(RevocationList::new());

        let default = Readiness::new(list.clone(), Duration::from_millis(5000));
        let short = Readiness::new(list, Duration::from_millis(100));

        assert_eq!(default.stale_after_secs, 17);
        assert_eq!(short.stale_after_secs, 3);
    }

    #[test]
    fn a_list_never_synced_is_stale() {
        let readiness = Readiness::new(Arc::new(RevocationList::new()), Duration::from_secs(5));

        assert_eq!(readiness.staleness(1_000), Some(1_000));
    }
}
