//! Gatehouse integration tests: one binary, every test run against SQLite and PostgreSQL.
//!
//! PostgreSQL tests run only when `TEST_DATABASE_URL` is a postgres URL, for example
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test --test api`.

// A failed expectation in a test is a failed test: that is what `expect` is for here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod helpers;

mod auth_api;
mod cli;
mod faults;
mod gateway;
mod profile_health;
mod replicas;
mod robustness;
mod sessions;
