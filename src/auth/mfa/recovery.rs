//! Recovery codes: ten at a time, shown once, stored as keyed hashes, each usable once.

use ring::rand::{SecureRandom as _, SystemRandom};

use super::totp::TotpError;
use super::{Mfa, MfaError, RECOVERY_CODES};

/// Lower-case letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// 10 symbols of 31: about 49.5 bits each, written `abcde-fghjk`.
const SYMBOLS: usize = 10;

impl Mfa {
    /// Ten new recovery codes for a user with active TOTP, replacing the old ones.
    pub async fn new_recovery_codes(&self, user_id: i64) -> Result<Vec<String>, MfaError> {
        if self.active_totp(user_id).await?.is_none() {
            return Err(MfaError::NotEnrolled);
        }
        let codes = (0..RECOVERY_CODES)
            .map(|_| new_code())
            .collect::<Result<Vec<_>, _>>()?;
        let hashes: Vec<String> = codes
            .iter()
            .map(|code| {
                self.keys
                    .recovery_hash(user_id, &normalise_recovery_code(code))
            })
            .collect();
        self.store
            .replace_recovery_codes(user_id, &hashes, self.clock.now())
            .await?;
        tracing::info!(user_id, "new recovery codes made");
        Ok(codes)
    }

    /// Uses one of the user's recovery codes: true for exactly one of concurrent uses. The
    /// code's keyed hash is the lookup key: nothing secret is compared byte by byte.
    pub(super) async fn use_recovery_code(
        &self,
        user_id: i64,
        code: &str,
    ) -> Result<bool, MfaError> {
        let code = normalise_recovery_code(code);
        if code.len() != SYMBOLS {
            return Ok(false);
        }
        let now = self.clock.now();
        for hash in self.keys.recovery_hashes(user_id, &code) {
            if self.store.use_recovery_code(user_id, &hash, now).await? {
                tracing::info!(user_id, "recovery code used");
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A recovery code as typed, without dashes or spaces, in lower case.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn new_code() -> Result<String, TotpError> {
    let random = SystemRandom::new();
    let mut code = String::with_capacity(SYMBOLS + 1);
    while code.len() < SYMBOLS + 1 {
        if code.len() == SYMBOLS / 2 {
            code.push('-');
        }
        let mut byte = [0u8; 1];
        random.fill(&mut byte).map_err(|_| TotpError::Random)?;
        // Rejection sampling: only bytes below the largest multiple of 31 (248), so every
        // symbol is equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(byte[0]) < limit {
            code.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_symbols_of_the_alphabet_with_a_dash() {
        let code = new_code().unwrap();
        assert_eq!(code.len(), 11);
        assert_eq!(&code[5..6], "-");
        let plain = normalise_recovery_code(&code);
        assert_eq!(plain.len(), SYMBOLS);
        assert!(plain.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(new_code().unwrap(), code);
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_recovery_code(" ABCDE-fghjk "), "abcdefghjk");
        assert_eq!(normalise_recovery_code("abcde fghjk"), "abcdefghjk");
    }
}
