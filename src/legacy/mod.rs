//! Moving users over from a seed service's table: bulk `import`, lazy migration at login, and
//! the old service's tokens while they live.
//!
//! - [`ident`]: table and column names, validated and quoted per dialect.
//! - [`source`]: reading the legacy table (PostgreSQL, MySQL/MariaDB, SQLite), streamed;
//!   [`decode`] reads each row whatever its column types.
//! - [`import`]: `gatehouse import`, with [`progress`] for its terminal line and summary.
//! - [`lazy`]: creating a user from the legacy table at their first login.
//! - [`tokens`]: accepting the old service's tokens (`ACCEPT_LEGACY_TOKENS`), whose claims
//!   [`token_claims`] reads.

pub mod decode;
pub mod ident;
pub mod import;
pub mod lazy;
pub mod progress;
pub mod source;
pub mod token_claims;
pub mod tokens;

use std::fmt;

use crate::auth::legacy_hash::{LegacyFormat, Pbkdf2HexSettings, UnknownFormat};
use crate::db_url::redact_url;
use ident::{Ident, TableName};

/// Where the legacy users are: a table and its columns (validated names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyTable {
    pub table: TableName,
    pub email: Ident,
    pub password: Ident,
    pub name: Option<Ident>,
    /// Seed 003 logs in by username as well as email.
    pub username: Option<Ident>,
    pub admin: Option<Ident>,
}

/// Everything needed to read and import legacy users, from `LEGACY_*` or `import`'s flags.
#[derive(Clone, PartialEq, Eq)]
pub struct LegacySettings {
    /// Normalised (`postgres://`, `mysql://`, `sqlite://`).
    pub url: String,
    pub table: LegacyTable,
    /// `None`: detect each value's format (never plain text).
    pub format: Option<LegacyFormat>,
    /// Admin flag of users whose row has no admin value (no admin column, or NULL).
    pub admin_default: bool,
    pub pbkdf2: Pbkdf2HexSettings,
}

impl LegacySettings {
    /// Whether `url` (normalised) names a backend a legacy table can be read from.
    pub fn supports_url(url: &str) -> bool {
        matches!(
            url.split_once(':').map(|(scheme, _)| scheme),
            Some("postgres" | "postgresql" | "mysql" | "sqlite")
        )
    }
}

/// The URL's password is never shown.
impl fmt::Debug for LegacySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacySettings")
            .field("url", &redact_url(&self.url))
            .field("table", &self.table)
            .field("format", &self.format)
            .field("admin_default", &self.admin_default)
            .field("pbkdf2_iterations", &self.pbkdf2.iterations)
            .finish_non_exhaustive()
    }
}

/// `auto` (detect per value) or one format's name.
pub fn parse_format(value: &str) -> Result<Option<LegacyFormat>, UnknownFormat> {
    if value.trim().eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    value.parse().map(Some)
}
