//! Random values: token ids, generated signing secrets.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// `bytes` random bytes from the OS, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS random source failing is not something to serve through.
    #[allow(clippy::expect_used)]
    getrandom::getrandom(&mut buf).expect("the operating system's random source failed");
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_random_and_sized() {
        let (a, b) = (super::random_token(16), super::random_token(16));
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
    }
}
