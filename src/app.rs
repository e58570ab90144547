//! Start-up and shutdown: `App::build` connects, migrates, loads keys and revocations, and binds;
//! `App::run_until` serves until told to stop, then drains in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::auth::password::PasswordHasher;
use crate::auth::revocation::RevocationList;
use crate::auth::revocation_sync::{follow_notifications, poll_database};
use crate::auth::secret::random_token;
use crate::auth::session::{RefreshTokens, SessionPolicy};
use crate::auth::token::TokenKeys;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Secret};
use crate::http;
use crate::legacy::lazy::LazyMigration;
use crate::legacy::tokens::LegacyTokenUsers;
use crate::store::{redact_url, Store};

/// What every handler can reach. Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub hasher: PasswordHasher,
    pub tokens: Arc<TokenKeys>,
    pub revocations: Arc<RevocationList>,
    pub refresh: Arc<RefreshTokens>,
    pub sessions: SessionPolicy,
    pub clock: Arc<dyn Clock>,
    /// Lazy migration from a seed service's table, when `LEGACY_DATABASE_URL` is set.
    pub legacy: Option<Arc<LazyMigration>>,
    /// Present when `ACCEPT_LEGACY_TOKENS=true`: the old service's tokens are accepted.
    pub legacy_tokens: Option<Arc<LegacyTokenUsers>>,
}

/// A bound, ready-to-serve Gatehouse.
pub struct App {
    listener: TcpListener,
    state: AppState,
    config: Config,
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As `build`, with time supplied by `clock` (tests move it to expire tokens).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = open_store(&config.database_url).await?;
        let secret = signing_secret(&config, &store).await?;
        let tokens = Arc::new(TokenKeys::new(
            &secret,
            config.issuer.clone(),
            config.access_token_ttl.as_secs() as i64,
        ));
        let (workers, queue, patience) = (
            config.hash_workers,
            config.hash_queue_capacity,
            config.hash_queue_wait,
        );
        // Building the hasher computes one real hash: keep it off the async runtime too.
        let hasher = tokio::task::spawn_blocking(move || {
            PasswordHasher::new(workers, queue).map(|hasher| hasher.with_patience(patience))
        })
        .await??;

        let refresh = Arc::new(RefreshTokens::new(&secret));
        let revocations = Arc::new(RevocationList::new(tokens.ttl_secs()));
        revocations
            .sync(&store, clock.now())
            .await
            .context("loading revoked tokens and disabled users")?;

        let legacy = legacy_migration(&config)?;
        let address = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let state = AppState {
            store,
            hasher,
            tokens,
            revocations,
            refresh,
            sessions: SessionPolicy::from_config(&config),
            clock,
            legacy,
            legacy_tokens: config
                .accept_legacy_tokens
                .then(|| Arc::new(LegacyTokenUsers::default())),
        };
        Ok(Self {
            listener,
            state,
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::new(self.config.host, self.config.port))
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then finishes the requests already in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            config,
        } = self;
        let poller = tokio::spawn(poll_database(
            state.revocations.clone(),
            state.store.clone(),
            state.clock.clone(),
            config.revocation_sync_interval,
            state.tokens.ttl_secs(),
        ));
        let notifications = tokio::spawn(follow_notifications(
            state.revocations.clone(),
            state.store.clone(),
            state.clock.clone(),
        ));
        let store = state.store.clone();
        let router = http::router(state, config.request_timeout);
        tracing::info!(address = %listener.local_addr()?, backend = store.backend_name(), "gatehouse listening");
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        poller.abort();
        notifications.abort();
        store.close().await;
        tracing::info!("gatehouse stopped");
        served.context("serving HTTP")
    }
}

/// Connects and brings the schema up to date.
pub async fn open_store(database_url: &str) -> anyhow::Result<Store> {
    let store = Store::connect(database_url)
        .await
        .with_context(|| format!("connecting to {}", redact_url(database_url)))?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

/// The legacy table for lazy migration, if configured. Nothing connects yet: a background
/// check only warns if the table cannot be read, so a legacy database that is down delays no
/// start-up (logins that need it answer 503 until it is back).
fn legacy_migration(config: &Config) -> anyhow::Result<Option<Arc<LazyMigration>>> {
    let Some(settings) = &config.legacy else {
        return Ok(None);
    };
    let legacy = Arc::new(LazyMigration::new(settings.clone()).context("LEGACY_DATABASE_URL")?);
    tracing::info!(
        source = legacy.description(),
        "lazy migration from the legacy table is on"
    );
    let check = legacy.clone();
    tokio::spawn(async move {
        if let Err(error) = check.probe().await {
            tracing::warn!(source = check.description(), %error, "the legacy table cannot be read yet: logins of users not yet migrated will fail");
        }
    });
    Ok(Some(legacy))
}

/// The configured secret, or the one generated by the first start against this database.
async fn signing_secret(config: &Config, store: &Store) -> anyhow::Result<Secret> {
    if let Some(secret) = &config.jwt_secret {
        if config.secret_is_weak() {
            tracing::warn!(
                "the JWT secret is shorter than 32 bytes (accepted because ALLOW_WEAK_SECRET=true); rotate it when you can"
            );
        }
        return Ok(secret.clone());
    }
    tracing::warn!(
        "no JWT_SECRET set: using a random secret kept in the database; services that verify tokens \
         themselves need it, so set JWT_SECRET explicitly in production"
    );
    let stored = store
        .setting_or_insert("jwt_secret", &random_token(32))
        .await
        .context("storing the generated JWT secret")?;
    Ok(Secret::new(stored))
}

async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}
