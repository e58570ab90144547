//! Start-up and shutdown: `App::build` connects, migrates, loads keys and revocations, and binds;
//! `App::run_until` serves until told to stop, then drains: `SHUTDOWN_DRAIN_SECS` of serving
//! with `/ready` at 503, then the requests in flight (`serve`: the accept loop, with the limits
//! on slow and idle clients).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::accounts::{Accounts, ReservedEmails};
use crate::auth::access::{Authenticator, ForeignTokens};
use crate::auth::clients::ClientRegistry;
use crate::auth::introspection::TokenInspector;
use crate::auth::ip_failures::IpFailures;
use crate::auth::keys::KeySet;
use crate::auth::lockout::Lockout;
use crate::auth::login::{LoginService, UserFallback};
use crate::auth::password::PasswordHasher;
use crate::auth::refresh_token::RefreshTokens;
use crate::auth::revocation::RevocationList;
use crate::auth::revocation_sync::{follow_notifications, poll_database};
use crate::auth::session::{SessionPolicy, SessionService};
use crate::auth::token::AccessTokens;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db_url::redact_url;
use crate::http::probes::Readiness;
use crate::http::rate_limit::ClientRateLimit;
use crate::http::{self, AppState, Discovery, HttpSettings};
use crate::legacy::lazy::LazyMigration;
use crate::legacy::tokens::LegacyTokens;
use crate::store::Store;
use crate::validation::{PasswordPolicy, DEFAULT_MIN_PASSWORD_CHARS};
pub use signing_keys::signing_keys;
use signing_secret::signing_secret;

mod metrics;
mod serve;
mod signing_keys;
mod signing_secret;

/// How often old login-failure counters and idle per-address buckets are forgotten.
const HOUSEKEEPING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// A bound, ready-to-serve Gatehouse.
pub struct App {
    listener: TcpListener,
    /// `METRICS_ADDR`'s listener, for `GET /metrics` only.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// Kept in step with the database by the background tasks `run_until` starts.
    revocations: Arc<RevocationList>,
    lockout: Arc<Lockout>,
    ip_failures: Arc<IpFailures>,
    hasher: PasswordHasher,
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
        let keys = Arc::new(signing_keys(&config, &store, &secret, clock.now()).await?);
        let tokens = Arc::new(
            AccessTokens::new(
                keys.clone(),
                config.issuer.clone(),
                config.access_token_ttl.as_secs() as i64,
            )
            .with_admin_needing_second_factor(config.mfa_required_for_admin),
        );
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

        let revocations = Arc::new(RevocationList::new());
        revocations
            .sync(&store, clock.now())
            .await
            .context("loading revoked tokens and disabled users")?;

        let legacy = legacy_migration(&config, &store, &hasher)?;
        let legacy_tokens =
            legacy_tokens(&config, &keys, &store, &revocations, clock.now()).await?;
        let sessions = Arc::new(SessionService::new(
            store.clone(),
            tokens.clone(),
            RefreshTokens::new(&secret),
            revocations.clone(),
            session_policy(&config),
            clock.clone(),
        ));
        let fallback = legacy.clone().map(|l| l as Arc<dyn UserFallback>);
        let lockout = Lockout::new(store.clone(), config.lockout, clock.clone())
            .with_patience(config.hash_queue_wait);
        let lockout = Arc::new(lockout);
        let ip_failures = Arc::new(IpFailures::new(
            config.client_limits.failures_per_minute,
            clock.clone(),
        ));
        let login = LoginService::new(
            store.clone(),
            hasher.clone(),
            sessions.clone(),
            fallback,
            lockout.clone(),
            crate::auth::mfa::MfaKeys::new(config.keys.encryption.as_ref(), &secret),
            clock.clone(),
        )
        .with_ip_failures(ip_failures.clone());
        let reserved = legacy.map(|l| l as Arc<dyn ReservedEmails>);
        warn_if_weak(config.password_policy);
        let accounts = Accounts::new(
            store.clone(),
            hasher.clone(),
            reserved,
            clock.clone(),
            config.password_policy,
        )
        .with_sessions(sessions.clone())
        .with_lockout(lockout.clone());
        let access = Arc::new(Authenticator::new(
            tokens,
            revocations.clone(),
            clock.clone(),
            legacy_tokens,
        ));
        let inspector = Arc::new(TokenInspector::new(access.clone(), sessions.clone()));
        let clients = Arc::new(ClientRegistry::new(store.clone(), clock.clone()));

        let address = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let metrics_listener = match config.metrics_addr {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding METRICS_ADDR {address}"))?,
            ),
            None => None,
        };
        let state = AppState {
            store,
            clock,
            access,
            mfa: login.mfa().clone(),
            login: Arc::new(login),
            sessions,
            clients,
            inspector,
            accounts: Arc::new(accounts),
            trusted_proxies: Arc::new(config.client_limits.trusted_proxies.clone()),
            readiness: Readiness::new(revocations.clone(), config.revocation_sync_interval),
            metrics: None,
            keys,
            discovery: Arc::new(Discovery {
                issuer: config.issuer.clone(),
                public_url: config.public_url.clone(),
                jwks_max_age_secs: config.keys.jwks_max_age_secs,
            }),
            reauth_max_age_secs: config.reauth_max_age.as_secs() as i64,
        };
        Ok(Self {
            listener,
            metrics_listener,
            state,
            revocations,
            lockout,
            ip_failures,
            hasher,
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::new(self.config.host, self.config.port))
    }

    /// Where `GET /metrics` is served (`METRICS_ADDR`), if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// How many password hashes and verifications this server has run (see
    /// `PasswordHasher::jobs_run`); keeps counting while the server runs.
    pub fn password_jobs(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let hasher = self.hasher.clone();
        move || hasher.jobs_run()
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then drains: `/ready` answers 503 and answers say
    /// `Connection: close` for `SHUTDOWN_DRAIN_SECS` while serving goes on, then the listener
    /// closes and the requests already in flight finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            metrics_listener,
            state,
            revocations,
            lockout,
            ip_failures,
            hasher,
            config,
        } = self;
        let revocations_seen = revocations.clone();
        let poller = tokio::spawn(poll_database(
            revocations.clone(),
            state.keys.clone(),
            state.store.clone(),
            state.clock.clone(),
            config.revocation_sync_interval,
            config.access_token_ttl.as_secs() as i64,
        ));
        let notifications = tokio::spawn(follow_notifications(
            revocations,
            state.keys.clone(),
            state.store.clone(),
            state.clock.clone(),
        ));
        let store = state.store.clone();
        let shutdown_flag = state.readiness.shutdown_flag();
        let limits = &config.client_limits;
        let rate_limit = Arc::new(ClientRateLimit::new(
            limits.requests_per_minute,
            limits.burst,
            state.trusted_proxies.clone(),
        ));
        let housekeeping =
            tokio::spawn(forget_old_counts(lockout, ip_failures, rate_limit.clone()));
        let settings = HttpSettings {
            request_timeout: config.request_timeout,
            rate_limit,
        };
        let (router, metrics_server) = match metrics_listener {
            None => (http::router(state, settings), None),
            Some(metrics_listener) => {
                let (router, metrics) = http::router_with_metrics(state, settings);
                let scrape = metrics::Scrape {
                    metrics,
                    hasher,
                    revocations: revocations_seen,
                    store: store.clone(),
                };
                tracing::info!(address = %metrics_listener.local_addr()?, "metrics served at /metrics");
                let server = tokio::spawn(metrics::serve_metrics(metrics_listener, scrape));
                (router, Some(server))
            }
        };
        tracing::info!(address = %listener.local_addr()?, backend = store.backend_name(), "gatehouse listening");
        let drain = serve::Drain {
            delay: config.shutdown_drain,
            flag: shutdown_flag,
        };
        serve::serve(listener, router, config.connections, drain, shutdown).await;
        poller.abort();
        notifications.abort();
        housekeeping.abort();
        if let Some(server) = metrics_server {
            server.abort();
        }
        store.close().await;
        tracing::info!("gatehouse stopped");
        Ok(())
    }
}

/// Forgets what the brute-force limits no longer need, every `HOUSEKEEPING_INTERVAL`: old
/// lockout rows (shared; every replica purging is harmless) and idle addresses (per replica).
async fn forget_old_counts(
    lockout: Arc<Lockout>,
    ip_failures: Arc<IpFailures>,
    rate_limit: Arc<ClientRateLimit>,
) {
    let mut ticker = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match lockout.purge().await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, "purged old login failure counters"),
            Err(error) => tracing::warn!(%error, "purging login failure counters failed"),
        }
        ip_failures.purge();
        rate_limit.forget_idle();
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

/// The old service's tokens, when `ACCEPT_LEGACY_TOKENS=true` and its sunset has not passed.
async fn legacy_tokens(
    config: &Config,
    keys: &Arc<KeySet>,
    store: &Store,
    revocations: &Arc<RevocationList>,
    now: i64,
) -> anyhow::Result<Option<Arc<dyn ForeignTokens>>> {
    let Some(settings) = &config.legacy_tokens else {
        return Ok(None);
    };
    let policy = settings
        .resolve(store, now)
        .await
        .context("reading when ACCEPT_LEGACY_TOKENS was first turned on")?;
    if now > policy.until {
        tracing::warn!(
            "ACCEPT_LEGACY_TOKENS=true has no effect any more: {}; remove the setting",
            policy.describe()
        );
        return Ok(None);
    }
    tracing::info!("ACCEPT_LEGACY_TOKENS: {}", policy.describe());
    let tokens = LegacyTokens::new(keys.clone(), store.clone(), revocations.clone(), policy);
    Ok(Some(Arc::new(tokens)))
}

/// A minimum below NIST's 8 characters is allowed, for clients that sign up with shorter
/// passwords (seed 002's use 6), but never silently.
fn warn_if_weak(policy: PasswordPolicy) {
    if policy.min_chars() < DEFAULT_MIN_PASSWORD_CHARS {
        tracing::warn!(
            min_length = policy.min_chars(),
            "PASSWORD_MIN_LENGTH is below {DEFAULT_MIN_PASSWORD_CHARS}: new passwords that short are easy to guess"
        );
    }
}

/// Lifetimes of sessions and refresh tokens, from the settings.
fn session_policy(config: &Config) -> SessionPolicy {
    SessionPolicy {
        refresh_ttl: config.refresh_token_ttl.as_secs() as i64,
        refresh_max_ttl: config.refresh_token_max_ttl.as_secs() as i64,
        reuse_grace: config.refresh_reuse_grace.as_secs() as i64,
        max_per_user: config.max_sessions_per_user,
    }
}

/// The legacy table for lazy migration, if configured. Nothing connects yet: a background
/// check only warns if the table cannot be read, so a legacy database that is down delays no
/// start-up (logins that need it answer 503 until it is back).
fn legacy_migration(
    config: &Config,
    store: &Store,
    hasher: &PasswordHasher,
) -> anyhow::Result<Option<Arc<LazyMigration>>> {
    let Some(settings) = &config.legacy else {
        return Ok(None);
    };
    let legacy = LazyMigration::new(settings.clone(), store.clone(), hasher.clone())
        .context("LEGACY_DATABASE_URL")?;
    let legacy = Arc::new(legacy);
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
    tracing::info!("shutdown signal received");
}
