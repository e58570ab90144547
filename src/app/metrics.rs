//! `GET /metrics` on its own listener (`METRICS_ADDR`): what the request path recorded
//! ([`crate::metrics::Metrics`]) plus the gauges read when scraped (the hashing queue, the
//! revocation list, the database pool, the build).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::auth::password::PasswordHasher;
use crate::auth::revocation::RevocationList;
use crate::metrics::{header, sample, Metrics};
use crate::store::Store;

/// Everything a scrape reads.
#[derive(Clone)]
pub(super) struct Scrape {
    pub metrics: Arc<Metrics>,
    pub hasher: PasswordHasher,
    pub revocations: Arc<RevocationList>,
    pub store: Store,
}

/// Serves `/metrics` on `listener` until the task is aborted.
pub(super) async fn serve_metrics(listener: TcpListener, scrape: Scrape) {
    let router = Router::new()
        .route("/metrics", get(metrics))
        .with_state(scrape);
    if let Err(error) = axum::serve(listener, router).await {
        tracing::error!(%error, "the metrics listener stopped");
    }
}

async fn metrics(State(scrape): State<Scrape>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        render(&scrape),
    )
}

fn render(scrape: &Scrape) -> String {
    let mut out = String::with_capacity(16 * 1024);
    scrape.metrics.render(&mut out);

    let name = "gatehouse_password_hash_queue_depth";
    header(
        &mut out,
        name,
        "gauge",
        "Password hashes and verifications waiting for a worker.",
    );
    sample(&mut out, name, "", scrape.hasher.queue_depth());
    let name = "gatehouse_password_hash_duration_seconds";
    header(
        &mut out,
        name,
        "histogram",
        "Time one password hash or verification took on its worker.",
    );
    scrape.hasher.durations().render(&mut out, name, "");

    let name = "gatehouse_revocation_entries";
    header(
        &mut out,
        name,
        "gauge",
        "Entries in the in-memory revocation list, by kind.",
    );
    for (kind, count) in scrape.revocations.entry_counts() {
        sample(&mut out, name, &format!("kind=\"{kind}\""), count);
    }
    let name = "gatehouse_revocation_last_sync_timestamp_seconds";
    header(
        &mut out,
        name,
        "gauge",
        "When the last successful revocation sync with the database started (Unix time).",
    );
    sample(&mut out, name, "", scrape.revocations.last_sync());

    let (open, idle) = scrape.store.pool_connections();
    let name = "gatehouse_db_pool_connections";
    header(
        &mut out,
        name,
        "gauge",
        "Connections of the database pool, by state.",
    );
    sample(&mut out, name, "state=\"idle\"", idle);
    let in_use = (open as usize).saturating_sub(idle);
    sample(&mut out, name, "state=\"in_use\"", in_use);

    let name = "gatehouse_build_info";
    header(
        &mut out,
        name,
        "gauge",
        "Always 1; the running version in its label.",
    );
    let version = env!("CARGO_PKG_VERSION");
    sample(&mut out, name, &format!("version=\"{version}\""), 1);
    out
}
