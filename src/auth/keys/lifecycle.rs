//! A key's state, computed from its timestamps and the clock, never from timers: every replica
//! reading the same rows at the same time agrees, and a test moves the clock instead of waiting.
//!
//! - next: published in the JWKS, not signing yet (`activates_at` is ahead);
//! - current: the highest-`seq` key that has activated and is not retired; it signs;
//! - retiring: a later key activated, so it stopped signing then; it still verifies until the
//!   last token it signed has expired (`ACCESS_TOKEN_TTL` plus the clock-skew leeway);
//! - retired: past that, or retired by hand (`gatehouse keys retire`): gone from the JWKS, and
//!   its tokens are refused.

use crate::clock::CLOCK_SKEW_LEEWAY_SECS;
use crate::store::SigningKeyRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Current,
    Retiring,
    Retired,
}

impl KeyState {
    pub fn name(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Current => "current",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
        }
    }

    /// Whether tokens signed with the key are accepted (and the key is in the JWKS).
    pub fn verifies(self) -> bool {
        self != Self::Retired
    }
}

/// Where a key is in its life at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub state: KeyState,
    /// When a later key took over signing, if one has.
    pub signs_until: Option<i64>,
    /// When its tokens stop being accepted, if that is known yet.
    pub verifies_until: Option<i64>,
}

impl Lifecycle {
    pub fn is_current(&self) -> bool {
        self.state == KeyState::Current
    }
}

/// The lifecycle of each of `rows` (in `seq` order) at `now`, for tokens that live at most
/// `token_ttl_secs`.
pub fn lifecycles(rows: &[SigningKeyRow], now: i64, token_ttl_secs: i64) -> Vec<Lifecycle> {
    (0..rows.len())
        .filter_map(|i| lifecycle_of(rows, i, now, token_ttl_secs))
        .collect()
}

/// The lifecycle of `rows[index]` at `now`; `None` when there is no such row.
pub fn lifecycle_of(
    rows: &[SigningKeyRow],
    index: usize,
    now: i64,
    token_ttl_secs: i64,
) -> Option<Lifecycle> {
    let row = rows.get(index)?;
    let current = rows
        .iter()
        .filter(|key| key.activates_at <= now && !retired_by_hand(key, now))
        .map(|key| key.seq)
        .max();
    // It stopped signing when the first later key activated (retired or not).
    let signs_until = rows
        .iter()
        .filter(|later| later.seq > row.seq && later.activates_at <= now)
        .map(|later| later.activates_at.max(row.activates_at))
        .min();
    let expired_at = signs_until.map(|until| {
        until
            .saturating_add(token_ttl_secs)
            .saturating_add(CLOCK_SKEW_LEEWAY_SECS)
    });
    let verifies_until = match (row.retired_at, expired_at) {
        (Some(by_hand), Some(expiry)) => Some(by_hand.min(expiry)),
        (by_hand, expiry) => by_hand.or(expiry),
    };
    let state = if retired_by_hand(row, now) || expired_at.is_some_and(|at| now > at) {
        KeyState::Retired
    } else if row.activates_at > now {
        KeyState::Next
    } else if Some(row.seq) == current {
        KeyState::Current
    } else {
        KeyState::Retiring
    };
    Some(Lifecycle {
        state,
        signs_until,
        verifies_until,
    })
}

fn retired_by_hand(row: &SigningKeyRow, now: i64) -> bool {
    row.retired_at.is_some_and(|at| at <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: i64 = 3600;

    fn key(seq: i64, activates_at: i64, retired_at: Option<i64>) -> SigningKeyRow {
        SigningKeyRow {
            kid: format!("k{seq}"),
            seq,
            algorithm: "EdDSA".into(),
            public_jwk: String::new(),
            private_key: None,
            created_at: activates_at,
            activates_at,
            retired_at,
        }
    }

    fn states(rows: &[SigningKeyRow], now: i64) -> Vec<KeyState> {
        lifecycles(rows, now, TTL).iter().map(|l| l.state).collect()
    }

    #[test]
    fn a_rotation_publishes_then_signs_then_retires_the_old_key() {
        use KeyState::*;
        let rows = [key(1, 0, None), key(2, 1000, None)];
        assert_eq!(states(&rows, 999), [Current, Next]);
        assert_eq!(states(&rows, 1000), [Retiring, Current]);
        let last = 1000 + TTL + CLOCK_SKEW_LEEWAY_SECS;
        assert_eq!(states(&rows, last), [Retiring, Current]);
        assert_eq!(states(&rows, last + 1), [Retired, Current]);
        assert_eq!(lifecycles(&rows, last, TTL)[0].verifies_until, Some(last));
    }

    #[test]
    fn retiring_by_hand_refuses_at_once() {
        use KeyState::*;
        let rows = [key(1, 0, Some(1500)), key(2, 1000, None)];
        assert_eq!(states(&rows, 1499), [Retiring, Current]);
        assert_eq!(states(&rows, 1500), [Retired, Current]);
    }

    #[test]
    fn the_highest_activated_key_signs_whatever_order_they_activate_in() {
        use KeyState::*;
        // A scheduled key (2), then an immediate rotation (3) before 2 activated.
        let rows = [key(1, 0, None), key(2, 2000, None), key(3, 1000, None)];
        assert_eq!(states(&rows, 1500), [Retiring, Next, Current]);
        assert_eq!(states(&rows, 2000), [Retiring, Retiring, Current]);
    }
}
