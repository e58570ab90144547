//! Keeps each process's `RevocationList` in step with the database and with other replicas.
//!
//! - PostgreSQL: every revoking write is followed by `NOTIFY gatehouse_revocations`; each replica
//!   `LISTEN`s and, told something changed, re-reads the changes from the database within
//!   milliseconds. A notification is only a hint: anyone who can connect to the database can
//!   send one, so its payload is never applied, and bursts of them are read as one (at most one
//!   re-read per `MIN_SYNC_GAP`). When the listening connection drops, the replica reconnects,
//!   re-`LISTEN`s, and only then catches up from the database, so nothing written in between is
//!   missed.
//! - Always (SQLite too): a poll every `REVOCATION_SYNC_INTERVAL_MS` re-reads recent changes and
//!   purges expired entries, bounding the damage of any lost notification.
//!
//! The signing keys ride on the same paths: a key added or retired by any process (`gatehouse
//! keys`, an automatic rotation) is announced on the same channel, and every re-read and poll
//! reloads them too (`KeySet::reload`, a no-op when nothing changed).

use std::sync::Arc;
use std::time::Duration;

use super::keys::KeySet;
use super::revocation::{RevocationEvent, RevocationList};
use crate::clock::Clock;
use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::store::Store;

/// Deleted-user tombstones outlive any token issued before the deletion by this much.
const MIN_TOMBSTONE_SECS: i64 = 86_400;
/// Wait between attempts to re-establish the notification connection.
const RELISTEN_BACKOFF: Duration = Duration::from_secs(1);
/// Notifications arriving closer together than this cause one re-read, not one each.
const MIN_SYNC_GAP: Duration = Duration::from_millis(50);

/// Tells the other replicas (and this one's list) about a revocation made at `now`. Failing
/// to notify is logged, not fatal: the periodic poll delivers the change a little later.
pub async fn publish(list: &RevocationList, store: &Store, event: RevocationEvent, now: i64) {
    if list.apply(event.clone()) {
        if let Err(e) = list.sync(store, now).await {
            tracing::warn!(error = %e, "re-reading revocations failed; the poll will retry");
        }
    }
    if let Err(e) = store.notify_revocation(&event.encode()).await {
        tracing::warn!(error = %e, "could not notify other replicas; they will catch up on their next poll");
    }
}

/// The periodic poll: catch up and purge, every `interval`.
pub async fn poll_database(
    list: Arc<RevocationList>,
    keys: Arc<KeySet>,
    store: Store,
    clock: Arc<dyn Clock>,
    interval: Duration,
    token_ttl_secs: i64,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let now = clock.now();
        if let Err(e) = list.sync(&store, now).await {
            tracing::warn!(error = %e, "revocation sync failed; keeping the last known list");
        }
        list.purge_expired(now);
        if let Err(e) = keys.maintain(&store, now).await {
            tracing::warn!(error = %e, "reloading or rotating the signing keys failed; keeping the last known keys");
        }
        let tombstone_age = token_ttl_secs
            .max(MIN_TOMBSTONE_SECS)
            .saturating_add(CLOCK_SKEW_LEEWAY_SECS);
        let purged = async {
            let tokens = store
                .purge_expired(
                    now - CLOCK_SKEW_LEEWAY_SECS,
                    now.saturating_sub(tombstone_age),
                )
                .await?;
            let sessions = store
                .purge_sessions(now, now - CLOCK_SKEW_LEEWAY_SECS)
                .await?;
            Ok::<_, crate::store::StoreError>(tokens + sessions)
        };
        match purged.await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, "purged expired revocations and sessions"),
            Err(e) => tracing::warn!(error = %e, "purging expired revocations failed"),
        }
    }
}

/// Applies other replicas' notifications as they arrive (PostgreSQL only; returns at once on
/// SQLite, where one process owns the database).
pub async fn follow_notifications(
    list: Arc<RevocationList>,
    keys: Arc<KeySet>,
    store: Store,
    clock: Arc<dyn Clock>,
) {
    loop {
        let mut listener = match store.revocation_listener().await {
            Ok(Some(listener)) => listener,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for revocations; retrying");
                tokio::time::sleep(RELISTEN_BACKOFF).await;
                continue;
            }
        };
        // Listening again: whatever was written while we were not is in the database.
        if let Err(e) = list.sync(&store, clock.now()).await {
            tracing::warn!(error = %e, "catch-up after (re)connecting failed; the poll will retry");
        }
        reload_keys(&keys, &store).await;
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => {
                    // Whatever it says, and however many came: read what changed, once.
                    while listener.next_buffered().is_some() {}
                    if let Err(e) = list.sync(&store, clock.now()).await {
                        tracing::warn!(error = %e, "re-reading revocations failed; the poll will retry");
                    }
                    reload_keys(&keys, &store).await;
                    tokio::time::sleep(MIN_SYNC_GAP).await;
                }
                Ok(None) => {
                    tracing::warn!(
                        "revocation notifications interrupted; reconnecting and catching up"
                    );
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "revocation listener failed; reconnecting");
                    tokio::time::sleep(RELISTEN_BACKOFF).await;
                    break;
                }
            }
        }
    }
}

async fn reload_keys(keys: &KeySet, store: &Store) {
    match keys.reload(store).await {
        Ok(true) => tracing::info!("signing keys changed; reloaded"),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(error = %e, "reloading the signing keys failed; the poll will retry")
        }
    }
}
