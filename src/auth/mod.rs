//! Credentials and tokens: password hashing, JWT issue/verify, and the in-memory revocation list.

pub mod legacy_hash;
pub mod login;
pub mod password;
pub mod revocation;
pub mod revocation_sync;
pub mod secret;
pub mod session;
pub mod token;

/// Tolerated clock difference between Gatehouse and whoever checks its tokens (30 s at most).
pub const CLOCK_SKEW_LEEWAY_SECS: i64 = 30;
