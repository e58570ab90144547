//! What a new password may be ([`PasswordPolicy`]: its length, and not a commonly used one),
//! and the one form every password is hashed and verified in ([`normalise_password`], NFKC).
//!
//! - Passwords are never trimmed: a space is as much a part of one as any other character.
//! - Lengths count Unicode code points (NIST SP 800-63B §5.1.1.2) of the normalised form, so
//!   a password gets the same verdict whichever keyboard typed it.
//! - The common-password list is the table of 99,838 common passwords the `passwords` crate
//!   ships, compared with the normalised password lower-cased and as typed.

use std::borrow::Cow;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization as _};

/// What `PASSWORD_MIN_LENGTH` defaults to (NIST SP 800-63B's minimum for chosen passwords).
pub const DEFAULT_MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// Why a new password is refused; the message says so to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRejected {
    #[error("Invalid password: it must be {min} to {MAX_PASSWORD_CHARS} characters long")]
    Length { min: usize },
    #[error(
        "Invalid password: it is a commonly used password, one of the first an attacker tries; \
         choose another"
    )]
    Common,
}

/// The rules every new password (signup, a change, `gatehouse user add`/`set-password`) must
/// pass. Logins never apply them: a password chosen under older rules keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    min_chars: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: DEFAULT_MIN_PASSWORD_CHARS,
        }
    }
}

impl PasswordPolicy {
    /// `None` unless `1 <= min_chars <= MAX_PASSWORD_CHARS`.
    pub fn with_min_chars(min_chars: usize) -> Option<Self> {
        (1..=MAX_PASSWORD_CHARS)
            .contains(&min_chars)
            .then_some(Self { min_chars })
    }

    pub fn min_chars(self) -> usize {
        self.min_chars
    }

    /// Checks a new password as the user typed it. The work is bounded: anything longer than
    /// the maximum is refused before it is normalised, and the list lookup is a binary search
    /// (in release builds), so this costs microseconds and may run on the async runtime.
    pub fn check(self, typed: &str) -> Result<(), PasswordRejected> {
        let too_long = |password: &str| password.chars().count() > MAX_PASSWORD_CHARS;
        if too_long(typed) {
            return Err(PasswordRejected::Length {
                min: self.min_chars,
            });
        }
        let password = normalise_password(typed);
        if password.chars().count() < self.min_chars || too_long(&password) {
            return Err(PasswordRejected::Length {
                min: self.min_chars,
            });
        }
        if is_common(&password) {
            return Err(PasswordRejected::Common);
        }
        Ok(())
    }
}

/// The form a password is hashed and verified in: NFKC, so that `é` typed as one code point
/// (U+00E9) or as `e` + U+0301, or a full-width `Ａ`, make the same password. Nothing is
/// trimmed. Borrowed when the password is already normalised (all ASCII ones are).
pub fn normalise_password(typed: &str) -> Cow<'_, str> {
    if matches!(is_nfkc_quick(typed.chars()), IsNormalized::Yes) {
        return Cow::Borrowed(typed);
    }
    let normalised: String = typed.nfkc().collect();
    if normalised == typed {
        Cow::Borrowed(typed)
    } else {
        Cow::Owned(normalised)
    }
}

/// Whether the list has the password lower-cased (most entries are lower case, so any
/// capitalisation of them matches), or exactly as written (its mixed-case entries).
fn is_common(normalised: &str) -> bool {
    use passwords::analyzer::is_common_password;
    let lower = normalised.to_lowercase();
    is_common_password(&lower) || (lower != normalised && is_common_password(normalised))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMPOSED: &str = "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e";
    const DECOMPOSED: &str = "cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e";

    fn rejected(policy: PasswordPolicy, password: &str) -> Option<PasswordRejected> {
        policy.check(password).err()
    }

    #[test]
    fn the_default_length_is_8_to_1024_characters_not_bytes() {
        let policy = PasswordPolicy::default();
        let length = Some(PasswordRejected::Length { min: 8 });
        assert_eq!(rejected(policy, "k7#qv!2"), length);
        assert_eq!(rejected(policy, ""), length);
        assert_eq!(rejected(policy, "k7#qv!2z"), None);
        assert_eq!(rejected(policy, &"é".repeat(1024)), None);
        assert_eq!(rejected(policy, &"x".repeat(1025)), length);
    }

    #[test]
    fn the_length_is_that_of_the_normalised_password() {
        let policy = PasswordPolicy::default();
        // Four characters however they are typed: eight code points decomposed.
        let decomposed = "e\u{301}".repeat(4);
        assert_eq!(decomposed.chars().count(), 8);
        assert_eq!(
            rejected(policy, &decomposed),
            Some(PasswordRejected::Length { min: 8 })
        );
        assert_eq!(rejected(policy, &"e\u{301}".repeat(8)), None);
    }

    #[test]
    fn commonly_used_passwords_are_refused_in_any_case_or_width() {
        let policy = PasswordPolicy::default();
        for common in [
            "password123",
            "PassWord123",
            "00000000",
            "iloveyou",
            // Full-width letters and digits: NFKC makes them "Password123".
            "\u{ff30}\u{ff41}\u{ff53}\u{ff53}\u{ff57}\u{ff4f}\u{ff52}\u{ff44}\u{ff11}\u{ff12}\u{ff13}",
        ] {
            assert_eq!(
                rejected(policy, common),
                Some(PasswordRejected::Common),
                "{common}"
            );
        }
        for fine in ["correct horse battery staple", "k7#qv!2z", COMPOSED] {
            assert_eq!(rejected(policy, fine), None, "{fine}");
        }
        let message = PasswordRejected::Common.to_string();
        assert!(message.contains("commonly used password"), "{message}");
    }

    #[test]
    fn the_minimum_may_be_lowered_but_common_passwords_stay_refused() {
        let policy = PasswordPolicy::with_min_chars(6).unwrap();
        assert_eq!(policy.min_chars(), 6);
        assert_eq!(rejected(policy, "x7#kq2"), None);
        assert_eq!(rejected(policy, "abc123"), Some(PasswordRejected::Common));
        assert_eq!(
            rejected(policy, "x7#kq"),
            Some(PasswordRejected::Length { min: 6 })
        );
        assert_eq!(
            PasswordRejected::Length { min: 6 }.to_string(),
            "Invalid password: it must be 6 to 1024 characters long"
        );
    }

    #[test]
    fn a_minimum_outside_1_to_1024_is_refused() {
        assert_eq!(PasswordPolicy::with_min_chars(0), None);
        assert_eq!(PasswordPolicy::with_min_chars(1025), None);
        assert!(PasswordPolicy::with_min_chars(1).is_some());
        assert!(PasswordPolicy::with_min_chars(1024).is_some());
    }

    #[test]
    fn composed_and_decomposed_forms_normalise_alike_and_nothing_is_trimmed() {
        assert_ne!(COMPOSED, DECOMPOSED);
        assert_eq!(normalise_password(DECOMPOSED), COMPOSED);
        assert_eq!(normalise_password(COMPOSED), COMPOSED);
        assert!(matches!(
            normalise_password("  spaced out  "),
            Cow::Borrowed("  spaced out  ")
        ));
        assert_eq!(normalise_password("\u{fb01}ne"), "fine");
    }
}
