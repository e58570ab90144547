//! Rules for what a user record may hold, shared by the HTTP API and the CLI; what a new
//! password may be, and the form every password is hashed in, are in [`password`].

pub mod password;

pub use password::{
    normalise_password, PasswordPolicy, PasswordRejected, DEFAULT_MIN_PASSWORD_CHARS,
    MAX_PASSWORD_CHARS,
};

pub const MAX_NAME_CHARS: usize = 200;

pub const MAX_EMAIL_CHARS: usize = 254;

/// The form every email is stored and looked up in: trimmed and lower-cased. The one place
/// emails are normalised; [`normalise_email`] also checks the shape.
pub fn email_key(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Trims and lower-cases an email (`email_key`), and checks it has the shape
/// `local@domain.tld`. Lengths count characters of the email as given (lower-casing may
/// lengthen a few).
pub fn normalise_email(raw: &str) -> Result<String, &'static str> {
    let trimmed = raw.trim();
    let valid = trimmed.chars().count() <= MAX_EMAIL_CHARS
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && match trimmed.rsplit_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.chars().count() <= 64
                    && !local.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(|label| !label.is_empty())
            }
            None => false,
        };
    if valid {
        Ok(email_key(trimmed))
    } else {
        Err("Invalid email address: expected the form name@example.com")
    }
}

pub fn normalise_name(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err("Invalid name: at most 200 characters, no control characters");
    }
    Ok(name.to_owned())
}

/// Usernames may not contain `@`, so one can never be mistaken for someone else's email.
pub fn check_username(username: &str) -> Result<(), &'static str> {
    let ok = (1..=64).contains(&username.chars().count())
        && !username.contains('@')
        && !username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err("Invalid username: 1 to 64 characters, no spaces, control characters or '@'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@exa..com",
            "a\0@b.com",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn usernames_cannot_look_like_emails() {
        assert!(check_username("ada").is_ok());
        assert!(check_username("ada@example.com").is_err());
        assert!(check_username("").is_err());
    }
}
