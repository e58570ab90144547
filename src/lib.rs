//! Gatehouse: a drop-in authentication service for the clients of small Flask JWT auth services.
//!
//! It speaks their contracts unchanged (`POST /login` with HTTP Basic, `POST /validate`, the
//! `/auth/*` signup/login/logout API, `/profile`, `/health`), stores users in SQLite,
//! PostgreSQL or MySQL/MariaDB, hashes passwords with argon2id, and validates tokens from memory
//! alone.
//!
//! # Layout
//! Layers, each importing only those below it (`../shared/tools/layers` checks this):
//!
//! ```text
//! wiring   cli, app, config        start-up, the command line, settings parsed once
//!   ↓
//! http     routes, extractors,     the route table, AppError (the one place domain errors
//!          AppError, OpenAPI       become statuses), AppState
//!   ↓
//! domain   legacy → accounts → auth    moving users over; creating and disabling users;
//!                                      passwords, logins, sessions, tokens, revocation
//!   ↓
//! store    all SQL on Gatehouse's tables; `store::dialect`: what differs between backends
//!   ↓
//! leaves   clock, secrets, db_url, validation, time_format, client_ip, metrics   (import
//!          nothing of the crate)
//! ```
//!
//! Where a lower layer needs something only an upper one has, it declares a trait the upper
//! one implements: `auth::login::UserFallback` and `accounts::ReservedEmails` (lazy migration,
//! in `legacy::lazy`), `auth::access::ForeignTokens` (the old service's tokens, in
//! `legacy::tokens`).
//!
//! - [`cli`]: the command line (`serve`, `migrate`, `user …`, `import`, `healthcheck`); `main.rs`
//!   only calls it.
//! - [`app`]: `App::build` wires the services together and binds; `App::run_until` serves.
//! - [`config`]: typed settings parsed once from the environment, with the seeds' names.
//! - [`http`]: the route table ([`http::routes`]), handlers, extractors, `AppError`, OpenAPI.
//! - [`legacy`]: migrating from a seed service: `import`, lazy migration at login, old tokens.
//! - [`accounts`]: the one place users are created, disabled, enabled and deleted.
//! - [`auth`]: passwords (argon2id off the runtime), the login service, the account lockout
//!   and the pacing of failing addresses, sessions, keys and tokens, the in-memory revocation
//!   list, the second factor (`auth::mfa`: TOTP and recovery codes) and what a token says of
//!   the sign-in (`auth::sign_in`: `auth_time`, `amr`, `acr`).
//! - [`store`]: every SQL statement on Gatehouse's tables; migrations in `migrations/`.
//! - Leaves: [`clock`] (time as a dependency), [`secrets`] (`Secret`, randomness, constant-time
//!   comparison), [`db_url`] (database URLs), [`validation`] (what an email, password, name or
//!   username may be), [`time_format`] (Flask's dates, RFC 3339), [`client_ip`] (who the
//!   client is behind `TRUSTED_PROXIES`), [`metrics`] (the Prometheus registry: atomics
//!   recorded on the request path, the text format; `app` serves it on `METRICS_ADDR`).
//!
//! # Glossary: the seed services
//! The code names the five Flask services whose clients Gatehouse serves unchanged (their
//! documents are in `../shared/seeds/`):
//! - **seed 000**: Flask + psycopg2, the gateway pattern. `POST /login` with HTTP Basic
//!   returns the token as text, `POST /validate` returns its claims (`username` is the email,
//!   `exp`, `iat`, `admin`); settings `DATABASE_HOST`/`DATABASE_NAME`/…, `AUTH_TABLE`,
//!   `JWT_SECRET`; its clients may send a bare token.
//! - **seed 001**: Flask + SQLAlchemy in a microservices platform, deployed with Docker and
//!   Kubernetes and scaled horizontally; `JWT_SECRET_KEY` (shared with the services that
//!   verify its tokens), `DATABASE_URI`, `PORT`.
//! - **seed 002**: Flask + MySQL, the `/auth/signup|login|logout|user` JSON API
//!   (`{"status", "message", …}` bodies, token error messages Gatehouse keeps word for word),
//!   bcrypt, logout by blocked tokens.
//! - **seed 003**: Flask + PostgreSQL, `/health`, `/test-db`, a JSON `/login` by username or
//!   email, `/profile`; passwords as hex PBKDF2 with a fixed salt; `DATABASE_URL`, `SECRET_KEY`.
//! - **seed 004**: the gateway contract of seed 000 on MySQL (`MYSQL_HOST`/`MYSQL_DB`/…),
//!   behind an API gateway that reads `admin` and `username` from `/validate`.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod db_url;
pub mod http;
pub mod legacy;
pub mod metrics;
pub mod secrets;
pub mod store;
pub mod time_format;
pub mod validation;

pub use app::App;
pub use http::AppState;
