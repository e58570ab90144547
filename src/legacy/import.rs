//! `gatehouse import`: copies a seed service's users into Gatehouse's store.
//!
//! - Streaming: rows are read one at a time and at most `2 × workers` are in flight, so a
//!   million rows take bounded memory.
//! - Idempotent: an email Gatehouse already has is skipped, so a second run imports nothing
//!   (and an interrupted run can simply be run again).
//! - Hashes in a known format are stored wrapped: their digest under argon2id, with the legacy
//!   salt and parameters beside it (`auth::legacy_hash::wrap`), and replaced by a plain argon2id
//!   hash at the user's first login. Plain-text passwords are hashed with argon2id. Both run on
//!   the hashing workers, several at once, so each row costs one argon2id hash. A row that cannot be imported is counted under its reason, never fatal.
//! - Rows whose emails are equal once normalised (`Ada@x.com` and `ada@x.com `) are all
//!   rejected as `ambiguous email`: which of them is the user's cannot be told, and importing
//!   either could hand one person's account to another. A first pass over the table finds
//!   them, holding 16 bytes per distinct email (about 32 MB for a million rows).

use std::collections::HashSet;

use ring::digest;
use tokio::task::JoinSet;

use super::progress::{Progress, AMBIGUOUS_EMAIL};
use super::source::{LegacyRow, LegacySource, SourceError};
use super::LegacySettings;
use crate::accounts::{self, AccountError};
use crate::auth::legacy_hash::{self, Imported};
use crate::auth::password::{HashError, PasswordHasher};
use crate::store::{NewUser, Store, StoreError};
use crate::validation::{check_username, email_key, normalise_email, normalise_name};

/// What stopped an import before the end of the table.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("writing to Gatehouse's database failed: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("an import task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Account(AccountError),
}

/// A row ready to be written: validated, its password value imported.
struct Candidate {
    user: NewUser,
    password: Imported,
}

enum Written {
    Imported,
    Existing,
    /// The email is new but another user has the row's username.
    UsernameTaken,
}

/// A write's outcome, with the number of the row it came from.
type RowWritten = (u64, Result<Written, ImportError>);

/// One import run.
pub struct Importer<'a> {
    pub source: &'a LegacySource,
    pub settings: &'a LegacySettings,
    pub store: &'a Store,
    /// Its queue must hold at least `workers` more jobs than it has workers.
    pub hasher: &'a PasswordHasher,
    /// The hasher's worker threads.
    pub workers: usize,
    pub dry_run: bool,
    /// The users' creation time.
    pub now: i64,
}

impl Importer<'_> {
    /// Imports every row of the source, counting into `progress`.
    pub async fn run(&self, progress: &mut Progress) -> Result<(), ImportError> {
        let ambiguous = match self.ambiguous_emails().await {
            Ok(ambiguous) => ambiguous,
            Err(error) => {
                progress.finish();
                return Err(error);
            }
        };
        let in_flight_limit = self.workers.max(1) * 2;
        let mut tasks: JoinSet<RowWritten> = JoinSet::new();
        let mut rows = self.source.rows();
        let result = async {
            while let Some(next) = rows.next().await {
                let row_number = progress.row_read();
                let candidate = match next? {
                    Ok(row) if ambiguous.contains(&email_fingerprint(&row.email)) => {
                        Err(AMBIGUOUS_EMAIL.to_owned())
                    }
                    Ok(row) => prepare(row, self.settings),
                    Err(problem) => Err(problem.to_string()),
                };
                match candidate {
                    Ok(candidate) => {
                        while tasks.len() >= in_flight_limit {
                            count(progress, tasks.join_next().await)?;
                        }
                        let (store, hasher) = (self.store.clone(), self.hasher.clone());
                        let (dry_run, now) = (self.dry_run, self.now);
                        tasks.spawn(async move {
                            (
                                row_number,
                                write(store, hasher, candidate, dry_run, now).await,
                            )
                        });
                    }
                    Err(reason) => progress.reject(row_number, &reason),
                }
                while let Some(done) = tasks.try_join_next() {
                    count(progress, Some(done))?;
                }
                progress.tick();
            }
            while let Some(done) = tasks.join_next().await {
                count(progress, Some(done))?;
            }
            Ok(())
        }
        .await;
        // After an error, let the rows already being written finish (each is atomic), then stop.
        while let Some(done) = tasks.join_next().await {
            let _ = count(progress, Some(done));
        }
        progress.finish();
        result
    }
}

impl Importer<'_> {
    /// The fingerprints of normalised emails that more than one row has (a first read of the
    /// whole table).
    async fn ambiguous_emails(&self) -> Result<HashSet<u128>, ImportError> {
        let (mut seen, mut repeated) = (HashSet::new(), HashSet::new());
        let mut rows = self.source.rows();
        while let Some(next) = rows.next().await {
            if let Ok(row) = next? {
                let fingerprint = email_fingerprint(&row.email);
                if !seen.insert(fingerprint) {
                    repeated.insert(fingerprint);
                }
            }
        }
        Ok(repeated)
    }
}

/// 128 bits of the SHA-256 of the email as Gatehouse would store it: distinct emails never
/// share one in practice, and a million of them fit in a few tens of MB.
fn email_fingerprint(raw: &str) -> u128 {
    let key = email_key(raw);
    let hash = digest::digest(&digest::SHA256, key.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash.as_ref()[..16]);
    u128::from_le_bytes(first)
}

fn count(
    progress: &mut Progress,
    done: Option<Result<RowWritten, tokio::task::JoinError>>,
) -> Result<(), ImportError> {
    if let Some(result) = done {
        let (row_number, written) = result?;
        match written? {
            Written::Imported => progress.imported += 1,
            Written::Existing => progress.skipped += 1,
            Written::UsernameTaken => progress.reject(row_number, "username taken"),
        }
    }
    Ok(())
}

/// Validates a row like signup does; the error is the reason kind.
fn prepare(row: LegacyRow, settings: &LegacySettings) -> Result<Candidate, String> {
    let email = normalise_email(&row.email).map_err(|_| "invalid email".to_owned())?;
    let name = normalise_name(row.name.as_deref().unwrap_or_default())
        .map_err(|_| "invalid name".to_owned())?;
    let username = legacy_username(row.username.as_deref()).map_err(str::to_owned)?;
    let password = legacy_hash::import(&row.password, settings.format, &settings.pbkdf2)
        .map_err(|rejected| rejected.to_string())?;
    Ok(Candidate {
        user: NewUser {
            email,
            username,
            name,
            password_hash: String::new(),
            admin: row.admin.unwrap_or(settings.admin_default),
            // The row's email as stored: the old service's tokens name the user by it.
            legacy_name: Some(row.email.clone()),
        },
        password,
    })
}

/// A legacy username, trimmed; empty or NULL is none. Gatehouse's username rules apply, since
/// seed 003's JSON login looks users up by it.
pub(super) fn legacy_username(value: Option<&str>) -> Result<Option<String>, &'static str> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(username) => check_username(username)
            .map(|()| Some(username.to_owned()))
            .map_err(|_| "invalid username"),
    }
}

/// Writes one user unless the email is taken. Plain-text passwords are hashed first (not in a
/// dry run, whose hash would be thrown away).
async fn write(
    store: Store,
    hasher: PasswordHasher,
    candidate: Candidate,
    dry_run: bool,
    now: i64,
) -> Result<Written, ImportError> {
    let Candidate { mut user, password } = candidate;
    if store.find_user_by_email(&user.email).await?.is_some() {
        return Ok(Written::Existing);
    }
    if dry_run {
        return Ok(Written::Imported);
    }
    user.password_hash = match password {
        // The weak formats only under argon2id: a stolen database does not expose them.
        Imported::Hash(hash) => hasher.wrap_legacy(hash).await?,
        Imported::PlainPassword(plain) => hasher.hash(plain).await?,
    };
    match accounts::create(&store, &user, now).await {
        Ok(_) => Ok(Written::Imported),
        // The same email twice in the legacy table (or a signup in between): one of them is
        // imported, the other skipped.
        Err(AccountError::EmailTaken) => Ok(Written::Existing),
        Err(AccountError::UsernameTaken) => Ok(Written::UsernameTaken),
        Err(AccountError::Store(e)) => Err(e.into()),
        Err(AccountError::Hashing(e)) => Err(e.into()),
        Err(e) => Err(ImportError::Account(e)),
    }
}
