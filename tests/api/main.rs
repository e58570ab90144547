//! Gatehouse integration tests: one binary, every test run against SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! PostgreSQL tests run only when `TEST_DATABASE_URL` is a postgres URL and MySQL tests only
//! when `TEST_MYSQL_URL` is a mysql URL (in CI both are required), for example
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
//!  TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test cargo test --test api`.

// A failed expectation in a test is a failed test: that is what `expect` is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod helpers;

mod auth_api;
mod cli;
mod client_limits;
mod docs;
mod faults;
mod gateway;
mod hashing_queue;
mod key_refusals;
mod key_rotation;
mod key_storage;
mod keys;
mod lockout;
mod logs;
mod metrics;
mod mfa;
mod migration;
mod oauth;
mod probes;
mod profile_health;
mod read_only;
mod replicas;
mod robustness;
mod secrets_at_rest;
mod sessions;
mod shutdown;
mod sign_in;
mod slow_clients;
mod weak_secret;
