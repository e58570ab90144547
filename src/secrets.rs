//! Secret values and randomness: the `Secret` wrapper that never prints, random tokens, and
//! constant-time comparison.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A value that must never be logged or printed: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call sites are few and easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([{} bytes redacted])", self.0.len())
    }
}

/// The secret in the file at `path`, which is created, readable by its owner only (mode
/// 0600), holding `new()`'s value if it does not exist yet. Two processes creating it at once
/// agree on whichever was written first.
pub fn secret_file(path: &Path, new: impl FnOnce() -> String) -> std::io::Result<Secret> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let value = new();
            file.write_all(value.as_bytes())?;
            file.sync_all()?;
            Ok(Secret::new(value))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_secret_file(path),
        Err(e) => Err(e),
    }
}

/// The secret in the file at `path` (surrounding whitespace ignored); an empty file is an
/// error, never an empty secret.
pub fn read_secret_file(path: &Path) -> std::io::Result<Secret> {
    let value = std::fs::read_to_string(path)?;
    match value.trim() {
        "" => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the secret file is empty",
        )),
        value => Ok(Secret::new(value)),
    }
}

/// `bytes` random bytes from the OS, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

/// `bytes` random bytes from the OS, in lower-case hex.
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_bytes(bytes: usize) -> Vec<u8> {
    let mut buf = vec![0u8; bytes];
    // The OS random source failing is not something to serve through.
    #[allow(clippy::expect_used)]
    getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
    buf
}

/// Compares two byte strings in time independent of their contents and lengths.
///
/// Both sides are MACed first and the tags compared with `Mac::verify_slice`, which is
/// constant-time (the `subtle` crate). The extra MAC ("double HMAC") also leaves the optimiser
/// no early exit to find, and hides the lengths. The key need not be secret: it only has to
/// be fixed, so that equal inputs give equal tags. (ring's `constant_time` module is deprecated
/// and disclaims side-channel promises, hence not used.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    const KEY: &[u8] = b"gatehouse constant-time comparison";
    let tag = |data: &[u8]| {
        <Hmac<Sha256> as Mac>::new_from_slice(KEY).map(|mut mac| {
            mac.update(data);
            mac
        })
    };
    match (tag(a), tag(b)) {
        (Ok(a), Ok(b)) => b.verify_slice(&a.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_sized() {
        let (a, b) = (random_token(16), random_token(16));
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
    }

    #[test]
    fn a_secret_file_is_created_once_private_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.secret");
        let first = secret_file(&path, || "first".into()).unwrap();
        let again = secret_file(&path, || "second".into()).unwrap();
        assert_eq!((first.expose(), again.expose()), ("first", "first"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, " \n").unwrap();
        assert!(read_secret_file(&path).is_err());
    }

    #[test]
    fn secret_debug_never_shows_the_value() {
        let s = Secret::new("hunter2-hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn constant_time_eq_compares_contents_and_lengths() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
