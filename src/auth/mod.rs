//! Credentials and tokens: who may sign in (passwords, the login service, sessions), what a
//! token proves (keys, access tokens, the in-memory revocation list and its compact id sets),
//! and the OAuth clients that may introspect and revoke tokens.
//!
//! `auth` imports only `store` and the leaves. Where it needs something only an upper layer
//! has, it declares a trait that layer implements: `login::UserFallback` (lazy migration from
//! the old service's table) and `access::ForeignTokens` (the old service's tokens).

pub mod access;
pub mod clients;
pub mod introspection;
pub mod ip_failures;
pub mod keys;
pub mod legacy_hash;
pub mod lockout;
pub mod login;
pub mod mfa;
pub mod password;
pub mod refresh_token;
pub mod revocation;
pub mod revocation_sync;
mod revoked_ids;
pub mod session;
pub mod sign_in;
pub mod token;
