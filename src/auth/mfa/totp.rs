//! TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, what every authenticator app
//! reads) with `totp-rs`, the `otpauth://` URI, and its QR code as SVG with `qrcode`.

use qrcode::render::svg;
use qrcode::QrCode;
use ring::rand::{SecureRandom as _, SystemRandom};
use totp_rs::{Algorithm, TOTP};

use crate::secrets::constant_time_eq;

/// Seconds per time step.
pub const STEP_SECS: i64 = 30;
pub const DIGITS: usize = 6;
/// Steps a code may be early or late by (a phone's clock, the time to type it): one.
pub const DRIFT_STEPS: i64 = 1;
/// Secret length: 160 bits, RFC 4226's recommendation (and SHA-1's block-free key size).
const SECRET_BYTES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the operating system's random source failed")]
    Random,
    #[error("the TOTP parameters were refused: {0}")]
    Parameters(String),
    #[error("the QR code could not be made: {0}")]
    Qr(String),
}

/// A fresh random secret.
pub fn new_secret() -> Result<Vec<u8>, TotpError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    SystemRandom::new()
        .fill(&mut secret)
        .map_err(|_| TotpError::Random)?;
    Ok(secret)
}

/// The generator for `secret`, labelled `issuer:account` in authenticator apps.
pub fn generator(secret: Vec<u8>, issuer: &str, account: &str) -> Result<TOTP, TotpError> {
    // The URI's label is `issuer:account`: a colon in either would make it ambiguous.
    let (issuer, account) = (issuer.replace(':', "_"), account.replace(':', "_"));
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        // totp-rs's own skew is unused: `matching_steps` checks each step itself, to know which
        // one matched (for replay protection).
        0,
        STEP_SECS as u64,
        secret,
        Some(issuer),
        account,
    )
    .map_err(|e| TotpError::Parameters(e.to_string()))
}

/// The time step of Unix time `now`.
pub fn step_of(now: i64) -> i64 {
    now.div_euclid(STEP_SECS)
}

/// The steps around `now` (one either way) whose code is `code`, earliest first. A code that is
/// not 6 ASCII digits matches none.
pub fn matching_steps(totp: &TOTP, code: &str, now: i64) -> Vec<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let current = step_of(now);
    (current - DRIFT_STEPS..=current + DRIFT_STEPS)
        .filter(|&step| step >= 0)
        .filter(|&step| {
            let expected = totp.generate((step * STEP_SECS) as u64);
            constant_time_eq(expected.as_bytes(), code.as_bytes())
        })
        .collect()
}

/// The QR code of `uri`, as an SVG document.
pub fn qr_svg(uri: &str) -> Result<String, TotpError> {
    let code = QrCode::new(uri.as_bytes()).map_err(|e| TotpError::Qr(e.to_string()))?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// Whether `password` ends in a 6-digit code (and has something before it): the Basic login's
/// `password` + `123456`. Returns the password and the code.
pub fn split_appended_code(password: &str) -> Option<(&str, &str)> {
    let at = password.len().checked_sub(DIGITS).filter(|&at| at > 0)?;
    let (head, code) = (password.get(..at)?, password.get(at..)?);
    code.bytes()
        .all(|b| b.is_ascii_digit())
        .then_some((head, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_generator() -> TOTP {
        // RFC 6238 appendix B's SHA-1 secret.
        generator(b"12345678901234567890".to_vec(), "Gatehouse", "a@b.c").unwrap()
    }

    #[test]
    fn codes_match_rfc_6238_and_one_step_of_drift() {
        let totp = rfc_generator();
        // Appendix B: T = 59 gives 94287082 with 8 digits; 6 digits are its last six.
        assert_eq!(matching_steps(&totp, "287082", 59), vec![1]);
        assert_eq!(matching_steps(&totp, "287082", 59 + 30), vec![1]);
        assert_eq!(matching_steps(&totp, "287082", 59 - 30), vec![1]);
        assert!(matching_steps(&totp, "287082", 59 + 60).is_empty());
        assert!(matching_steps(&totp, "28708", 59).is_empty());
        assert!(matching_steps(&totp, "28708x", 59).is_empty());
    }

    #[test]
    fn appended_codes_split_off_six_trailing_digits() {
        assert_eq!(split_appended_code("pw123456"), Some(("pw", "123456")));
        assert_eq!(split_appended_code("123456"), None);
        assert_eq!(split_appended_code("pw12345"), None);
        assert_eq!(split_appended_code("pw12345x"), None);
        assert_eq!(split_appended_code("pé123456"), Some(("pé", "123456")));
        assert_eq!(split_appended_code("p1234é5"), None);
    }

    #[test]
    fn the_uri_names_the_issuer_and_account() {
        let uri = rfc_generator().get_url();
        assert!(
            uri.starts_with("otpauth://totp/Gatehouse:a%40b.c?"),
            "{uri}"
        );
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
        assert!(qr_svg(&uri).unwrap().starts_with("<?xml"));
    }
}
