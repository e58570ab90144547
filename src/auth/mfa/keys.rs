//! The second factor's keys at rest: what seals TOTP secrets and what keys the recovery codes'
//! hashes. Both come from `KEY_ENCRYPTION_KEY` when it is set, else from the JWT secret (never
//! in the database), through HKDF, so a database dump alone opens nothing.
//!
//! A sealed secret says which of the two sealed it (`k:` or `s:`), and a recovery code is looked
//! up under each key that may have hashed it: setting `KEY_ENCRYPTION_KEY` later leaves earlier
//! enrolments working, and new ones use it.

use ring::hmac;

use crate::auth::keys::sealing::{derive_key, open, seal, SealError};
use crate::auth::keys::KeyEncryptionKey;
use crate::secrets::Secret;

const BY_KEK: &str = "k:";
const BY_SECRET: &str = "s:";

/// One source of the keys: sealing and hashing keys derived from it.
struct Keys {
    seal: KeyEncryptionKey,
    recovery: hmac::Key,
}

impl Keys {
    fn from(input: &[u8]) -> Self {
        Self {
            seal: KeyEncryptionKey::from_bytes(derive_key(input, "gatehouse totp-seal v1")),
            recovery: hmac::Key::new(
                hmac::HMAC_SHA256,
                &derive_key(input, "gatehouse recovery-codes v1"),
            ),
        }
    }
}

pub struct MfaKeys {
    /// From `KEY_ENCRYPTION_KEY`, when it is set: what new secrets and codes use.
    kek: Option<Keys>,
    /// From the JWT secret: what they use without one.
    secret: Keys,
}

impl MfaKeys {
    pub fn new(kek: Option<&KeyEncryptionKey>, jwt_secret: &Secret) -> Self {
        Self {
            kek: kek.map(|kek| Keys::from(&kek.derive("gatehouse mfa v1"))),
            secret: Keys::from(jwt_secret.expose().as_bytes()),
        }
    }

    /// `secret` sealed for `user_id`'s row (the user id is the associated data: a sealed
    /// secret copied onto another user's row does not open).
    pub fn seal(&self, user_id: i64, secret: &[u8]) -> Result<String, SealError> {
        let (prefix, keys) = match &self.kek {
            Some(keys) => (BY_KEK, keys),
            None => (BY_SECRET, &self.secret),
        };
        let sealed = seal(Some(&keys.seal), &associated(user_id), secret)?;
        Ok(format!("{prefix}{sealed}"))
    }

    /// The secret `seal` stored for `user_id`.
    pub fn open(&self, user_id: i64, stored: &str) -> Result<Vec<u8>, SealError> {
        let label = associated(user_id);
        if let Some(sealed) = stored.strip_prefix(BY_SECRET) {
            return open(Some(&self.secret.seal), &label, sealed);
        }
        let sealed = stored
            .strip_prefix(BY_KEK)
            .ok_or_else(|| SealError::Malformed(label.clone()))?;
        let keys = self.kek.as_ref().ok_or(SealError::NoKey(label.clone()))?;
        open(Some(&keys.seal), &label, sealed)
    }

    /// The stored hash of a new recovery code (already normalised).
    pub fn recovery_hash(&self, user_id: i64, code: &str) -> String {
        hash(self.kek.as_ref().unwrap_or(&self.secret), user_id, code)
    }

    /// Every hash `code` may be stored under: the current key's first.
    pub fn recovery_hashes(&self, user_id: i64, code: &str) -> Vec<String> {
        let mut hashes = vec![self.recovery_hash(user_id, code)];
        if self.kek.is_some() {
            hashes.push(hash(&self.secret, user_id, code));
        }
        hashes
    }
}

fn associated(user_id: i64) -> String {
    format!("totp:user:{user_id}")
}

fn hash(keys: &Keys, user_id: i64, code: &str) -> String {
    let tag = hmac::sign(&keys.recovery, format!("{user_id}:{code}").as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(kek: Option<char>) -> MfaKeys {
        let kek: Option<KeyEncryptionKey> = kek.map(|c| c.to_string().repeat(64).parse().unwrap());
        MfaKeys::new(kek.as_ref(), &Secret::new("s".repeat(40)))
    }

    #[test]
    fn a_sealed_secret_opens_for_its_user_only() {
        for keys in [keys(None), keys(Some('a'))] {
            let stored = keys.seal(7, b"twenty bytes secret!").unwrap();
            assert_eq!(keys.open(7, &stored).unwrap(), b"twenty bytes secret!");
            assert!(keys.open(8, &stored).is_err());
        }
    }

    #[test]
    fn secrets_sealed_before_a_kek_was_set_still_open() {
        let stored = keys(None).seal(7, b"secret").unwrap();
        assert!(stored.starts_with(BY_SECRET));
        assert_eq!(keys(Some('a')).open(7, &stored).unwrap(), b"secret");
        let by_kek = keys(Some('a')).seal(7, b"secret").unwrap();
        assert!(by_kek.starts_with(BY_KEK));
        assert!(keys(None).open(7, &by_kek).is_err());
        assert!(keys(Some('b')).open(7, &by_kek).is_err());
    }

    #[test]
    fn recovery_hashes_depend_on_the_key_and_the_user() {
        let (plain, with_kek) = (keys(None), keys(Some('a')));
        let hash = plain.recovery_hash(1, "abcde-fghij");
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, plain.recovery_hash(2, "abcde-fghij"));
        assert_ne!(hash, with_kek.recovery_hash(1, "abcde-fghij"));
        assert_eq!(with_kek.recovery_hashes(1, "abcde-fghij")[1], hash);
    }
}
