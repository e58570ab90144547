//! How a user signed in: with which methods (`amr`, RFC 8176), at which assurance level
//! (`acr`: NIST SP 800-63B's `aal1` for a password alone, `aal2` with a second factor) and
//! when (`auth_time`, OpenID Connect Core §2). A session keeps it, so every access token of
//! the session says it, refreshed or not, until a re-authentication renews it.

use serde::{Deserialize, Serialize};

/// A method a user proved themselves with, as RFC 8176 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The password.
    Pwd,
    /// A one-time code from an authenticator app (TOTP).
    Otp,
    /// A single-use recovery code (RFC 8176 has no name for it; `rc` is Gatehouse's).
    Rc,
}

/// What came with the password, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Otp,
    RecoveryCode,
}

/// Authentication assurance level (NIST SP 800-63B §4): `aal1` a password, `aal2` a password
/// and a second factor (a recovery code is a look-up secret, an AAL2 authenticator too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Acr {
    Aal1,
    Aal2,
}

/// One sign-in: always a password, perhaps a second factor, at `auth_time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignIn {
    pub second_factor: Option<SecondFactor>,
    pub auth_time: i64,
}

impl SignIn {
    pub fn new(second_factor: Option<SecondFactor>, auth_time: i64) -> Self {
        Self {
            second_factor,
            auth_time,
        }
    }

    pub fn methods(&self) -> Vec<AuthMethod> {
        match self.second_factor {
            None => vec![AuthMethod::Pwd],
            Some(SecondFactor::Otp) => vec![AuthMethod::Pwd, AuthMethod::Otp],
            Some(SecondFactor::RecoveryCode) => vec![AuthMethod::Pwd, AuthMethod::Rc],
        }
    }

    pub fn acr(&self) -> Acr {
        match self.second_factor {
            None => Acr::Aal1,
            Some(_) => Acr::Aal2,
        }
    }

    /// The methods as a session row keeps them: `pwd`, `pwd otp` or `pwd rc`.
    pub fn amr_column(&self) -> &'static str {
        match self.second_factor {
            None => "pwd",
            Some(SecondFactor::Otp) => "pwd otp",
            Some(SecondFactor::RecoveryCode) => "pwd rc",
        }
    }

    /// Back from a session row. A session from before these columns (both `NULL`) was a
    /// password sign-in when it started.
    pub fn from_columns(amr: Option<&str>, auth_time: Option<i64>, created_at: i64) -> Self {
        let second_factor = match amr {
            Some("pwd otp") => Some(SecondFactor::Otp),
            Some("pwd rc") => Some(SecondFactor::RecoveryCode),
            _ => None,
        };
        Self::new(second_factor, auth_time.unwrap_or(created_at))
    }

    /// Whether it is recent enough for a sensitive change at `now` (`REAUTH_MAX_AGE_SECS`).
    pub fn is_recent(auth_time: i64, now: i64, max_age_secs: i64) -> bool {
        now.saturating_sub(auth_time) <= max_age_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_sign_in_round_trips_through_its_row() {
        for factor in [
            None,
            Some(SecondFactor::Otp),
            Some(SecondFactor::RecoveryCode),
        ] {
            let sign_in = SignIn::new(factor, 1_000);
            let back = SignIn::from_columns(Some(sign_in.amr_column()), Some(1_000), 5);
            assert_eq!(back, sign_in);
        }
        assert_eq!(
            SignIn::from_columns(None, None, 5),
            SignIn::new(None, 5),
            "a session from before the columns"
        );
    }

    #[test]
    fn methods_and_level_say_what_was_used() {
        let json = |s: SignIn| serde_json::to_string(&(s.methods(), s.acr())).unwrap();
        assert_eq!(json(SignIn::new(None, 0)), r#"[["pwd"],"aal1"]"#);
        let otp = SignIn::new(Some(SecondFactor::Otp), 0);
        assert_eq!(json(otp), r#"[["pwd","otp"],"aal2"]"#);
        let rc = SignIn::new(Some(SecondFactor::RecoveryCode), 0);
        assert_eq!(json(rc), r#"[["pwd","rc"],"aal2"]"#);
    }

    #[test]
    fn recent_means_within_the_max_age_inclusive() {
        assert!(SignIn::is_recent(1_000, 1_600, 600));
        assert!(!SignIn::is_recent(1_000, 1_601, 600));
    }
}
