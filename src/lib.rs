//! Gatehouse: a drop-in authentication service for the clients of small Flask JWT auth services.
//!
//! It speaks their contracts unchanged (`POST /login` with HTTP Basic, `POST /validate`, the
//! `/auth/*` signup/login/logout API, `/profile`, `/health`), stores users in SQLite,
//! PostgreSQL or MySQL/MariaDB, hashes passwords with argon2id, and validates tokens from memory
//! alone.
//!
//! # Layout
//! - [`app`]: start-up and shutdown (`App::build`, `App::run_until`) and the shared `AppState`.
//! - [`cli`]: the command line (`serve`, `migrate`, `user …`, `import`); `main.rs` only calls it.
//! - [`config`]: typed settings parsed once from the environment, with the seeds' names.
//! - [`http`]: one router per API surface, merged under one middleware stack, and extractors.
//! - [`auth`]: passwords (argon2id off the runtime), tokens (HS256 JWT), the revocation list.
//! - [`legacy`]: migrating from a seed service: `import`, lazy migration at login, old tokens.
//! - [`store`]: every SQL statement, per backend where dialects differ; migrations in `migrations/`.
//! - [`error`]: `AppError`, the one error type handlers return, and its HTTP mapping.
//! - [`validation`]: what an email, password, name or username may be.
//! - [`clock`]: time as a dependency, so expiry is testable.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod legacy;
pub mod store;
pub mod validation;

pub use app::{App, AppState};
