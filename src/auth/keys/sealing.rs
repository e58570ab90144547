//! Private keys at rest: sealed with AES-256-GCM (ring) under `KEY_ENCRYPTION_KEY` when one is
//! configured, else stored as they are (with a start-up warning). The key's id is the
//! additional authenticated data, so a sealed key copied onto another row does not open.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom as _, SystemRandom};

const SEALED: &str = "aes256gcm:";
const PLAIN: &str = "plain:";

/// `KEY_ENCRYPTION_KEY`: 32 bytes, written as 64 hex digits or in base64.
#[derive(Clone)]
pub struct KeyEncryptionKey([u8; 32]);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey([redacted])")
    }
}

impl KeyEncryptionKey {
    /// A key made of these bytes (one `derive_key` derived, for another purpose).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// 32 bytes for another purpose, derived from this key with HKDF-SHA256 under `label`, so
    /// the key itself is used for nothing but sealing.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        derive_key(&self.0, label)
    }
}

/// 32 bytes derived from the secret `input` with HKDF-SHA256 (RFC 5869) under `label`: keys for
/// different purposes from one secret, none of which tells anything about the others.
pub fn derive_key(input: &[u8], label: &str) -> [u8; 32] {
    struct Len32;
    impl ring::hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"gatehouse hkdf v1");
    let info = [label.as_bytes()];
    let mut out = [0u8; 32];
    // Expanding to 32 bytes, far below HKDF-SHA256's limit of 255 * 32, cannot fail.
    #[allow(clippy::expect_used)]
    salt.extract(input)
        .expand(&info, Len32)
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF-SHA256 to 32 bytes");
    out
}

impl std::str::FromStr for KeyEncryptionKey {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        let value = value.trim();
        let bytes = if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&value[2 * i..2 * i + 2], 16).map_err(|_| ()))
                .collect::<Result<Vec<u8>, ()>>()?
        } else {
            STANDARD
                .decode(value)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value))
                .map_err(|_| ())?
        };
        Ok(Self(bytes.try_into().map_err(|_| ())?))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the private key of {0} is encrypted: set KEY_ENCRYPTION_KEY to the key it was encrypted with")]
    NoKey(String),
    #[error("the private key of {0} does not open with this KEY_ENCRYPTION_KEY (a different key, or the row was altered)")]
    WrongKey(String),
    #[error("the stored private key of {0} is malformed")]
    Malformed(String),
    #[error("the operating system's random source failed")]
    Random,
}

/// Seals `private_der` of key `kid` for the database: encrypted when `key` is given.
pub fn seal(
    key: Option<&KeyEncryptionKey>,
    kid: &str,
    private_der: &[u8],
) -> Result<String, SealError> {
    let Some(key) = key else {
        return Ok(format!("{PLAIN}{}", STANDARD.encode(private_der)));
    };
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| SealError::Random)?;
    let mut sealed = private_der.to_vec();
    cipher(key)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kid.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| SealError::Random)?;
    let mut stored = nonce.to_vec();
    stored.extend_from_slice(&sealed);
    Ok(format!("{SEALED}{}", STANDARD.encode(stored)))
}

/// The private key `seal` stored for `kid`.
pub fn open(key: Option<&KeyEncryptionKey>, kid: &str, stored: &str) -> Result<Vec<u8>, SealError> {
    let malformed = || SealError::Malformed(kid.to_owned());
    if let Some(plain) = stored.strip_prefix(PLAIN) {
        return STANDARD.decode(plain).map_err(|_| malformed());
    }
    let sealed = stored.strip_prefix(SEALED).ok_or_else(malformed)?;
    let key = key.ok_or_else(|| SealError::NoKey(kid.to_owned()))?;
    let mut bytes = STANDARD.decode(sealed).map_err(|_| malformed())?;
    if bytes.len() < NONCE_LEN {
        return Err(malformed());
    }
    let mut ciphertext = bytes.split_off(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| malformed())?;
    let plain = cipher(key)
        .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut ciphertext)
        .map_err(|_| SealError::WrongKey(kid.to_owned()))?;
    Ok(plain.to_vec())
}

fn cipher(key: &KeyEncryptionKey) -> LessSafeKey {
    // AES-256 takes any 32 bytes; the type guarantees the length.
    #[allow(clippy::expect_used)]
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key.0).expect("a 32-byte AES-256 key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(hex_digit: char) -> KeyEncryptionKey {
        hex_digit.to_string().repeat(64).parse().unwrap()
    }

    #[test]
    fn hex_and_base64_keys_parse_and_other_lengths_do_not() {
        assert!("ab".repeat(32).parse::<KeyEncryptionKey>().is_ok());
        assert!(STANDARD
            .encode([7u8; 32])
            .parse::<KeyEncryptionKey>()
            .is_ok());
        assert!("ab".repeat(16).parse::<KeyEncryptionKey>().is_err());
        assert!(STANDARD
            .encode([7u8; 31])
            .parse::<KeyEncryptionKey>()
            .is_err());
    }

    #[test]
    fn a_sealed_key_opens_with_its_key_and_kid_only() {
        let stored = seal(Some(&kek('a')), "kid1", b"private").unwrap();
        assert!(stored.starts_with(SEALED));
        assert!(!stored.contains(&STANDARD.encode(b"private")));
        assert_eq!(open(Some(&kek('a')), "kid1", &stored).unwrap(), b"private");
        assert_eq!(
            open(Some(&kek('b')), "kid1", &stored),
            Err(SealError::WrongKey("kid1".into()))
        );
        assert_eq!(
            open(Some(&kek('a')), "kid2", &stored),
            Err(SealError::WrongKey("kid2".into()))
        );
        assert_eq!(
            open(None, "kid1", &stored),
            Err(SealError::NoKey("kid1".into()))
        );
    }

    #[test]
    fn derived_keys_differ_by_label_and_input() {
        let a = derive_key(b"secret", "one");
        assert_eq!(a, derive_key(b"secret", "one"));
        assert_ne!(a, derive_key(b"secret", "two"));
        assert_ne!(a, derive_key(b"other", "one"));
        assert_ne!(kek('a').derive("one"), kek('b').derive("one"));
    }

    #[test]
    fn without_a_key_the_private_key_is_stored_as_it_is() {
        let stored = seal(None, "kid1", b"private").unwrap();
        assert_eq!(open(None, "kid1", &stored).unwrap(), b"private");
        assert_eq!(open(Some(&kek('a')), "kid1", &stored).unwrap(), b"private");
    }
}
