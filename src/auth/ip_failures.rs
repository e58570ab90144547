//! Credential stuffing: one client address failing logins, whatever names it tries, is slowed
//! to `LOGIN_FAILURES_PER_IP_PER_MINUTE` failures a minute (a bucket of that many, refilled
//! evenly). Kept in memory per replica: it paces one address, it does not need to be exact.
//!
//! Refused attempts cost nothing and count nothing; only failures that ran a verification
//! drain the bucket, so a gateway whose users mostly sign in correctly is never slowed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::lockout::Locked;
use crate::clock::Clock;

/// Addresses tracked at once; beyond, new addresses go unpaced until a purge frees room (and
/// a warning says so), so a spray from many addresses cannot grow memory without bound.
const MAX_TRACKED: usize = 100_000;

pub struct IpFailures {
    /// Failures allowed per minute, and in a burst; 0 turns the pacing off.
    per_minute: u32,
    clock: Arc<dyn Clock>,
    /// Per address, when its bucket will be full again (ms): the GCRA "theoretical arrival
    /// time". The bucket is empty while that is a minute or more ahead.
    refilled_at: Mutex<HashMap<IpAddr, i64>>,
}

impl IpFailures {
    pub fn new(per_minute: u32, clock: Arc<dyn Clock>) -> Self {
        Self {
            per_minute,
            clock,
            refilled_at: Mutex::new(HashMap::new()),
        }
    }

    fn interval_ms(&self) -> i64 {
        60_000 / i64::from(self.per_minute.max(1))
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().saturating_mul(1000)
    }

    /// Refuses `ip` while its bucket is empty.
    pub fn check(&self, ip: Option<IpAddr>) -> Result<(), Locked> {
        let Some(ip) = ip.filter(|_| self.per_minute > 0) else {
            return Ok(());
        };
        let now = self.now_ms();
        let refilled_at = match self.refilled_at.lock() {
            Ok(map) => map.get(&ip).copied().unwrap_or(now),
            Err(_) => return Ok(()),
        };
        // The bucket holds `per_minute` failures, a minute's worth.
        let over = refilled_at - now - 60_000;
        if over < 0 {
            return Ok(());
        }
        let wait_ms = over + self.interval_ms();
        Err(Locked {
            retry_after_secs: (wait_ms as u64).div_ceil(1000).max(1),
        })
    }

    /// Takes one failure from `ip`'s bucket.
    pub fn failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip.filter(|_| self.per_minute > 0) else {
            return;
        };
        let now = self.now_ms();
        let interval = self.interval_ms();
        let Ok(mut map) = self.refilled_at.lock() else {
            return;
        };
        if map.len() >= MAX_TRACKED && !map.contains_key(&ip) {
            drop(map);
            tracing::warn!(
                tracked = MAX_TRACKED,
                "too many client addresses failing logins to pace them all; purging"
            );
            self.purge();
            return;
        }
        let at = map.entry(ip).or_insert(now);
        *at = (*at).max(now) + interval;
        if *at - now >= 60_000 && *at - now < 60_000 + interval {
            tracing::warn!(client_ip = %ip, "client address paced after repeated failed logins");
        }
    }

    /// Forgets addresses whose bucket is full again.
    pub fn purge(&self) {
        let now = self.now_ms();
        if let Ok(mut map) = self.refilled_at.lock() {
            map.retain(|_, refilled_at| *refilled_at > now);
        }
    }

    /// Addresses tracked now (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.refilled_at.lock().map_or(0, |map| map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_minutes_worth_of_failures_then_one_per_interval() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let paced = IpFailures::new(6, clock.clone());
        let ip = Some("198.51.100.7".parse().unwrap());
        let other = Some("198.51.100.8".parse().unwrap());

        for _ in 0..6 {
            assert_eq!(paced.check(ip), Ok(()));
            paced.failed(ip);
        }
        let refused = paced.check(ip).unwrap_err();
        assert_eq!(refused.retry_after_secs, 10);
        assert_eq!(paced.check(other), Ok(()));

        clock.advance(10);
        assert_eq!(paced.check(ip), Ok(()));
        paced.failed(ip);
        assert!(paced.check(ip).is_err());

        clock.advance(70);
        paced.purge();
        assert_eq!(paced.tracked(), 0);
    }

    #[test]
    fn zero_turns_it_off_and_unknown_addresses_pass() {
        let clock = Arc::new(ManualClock::new(0));
        let off = IpFailures::new(0, clock.clone());
        let ip = Some("198.51.100.7".parse().unwrap());
        for _ in 0..100 {
            off.failed(ip);
        }
        assert_eq!(off.check(ip), Ok(()));
        let on = IpFailures::new(1, clock);
        on.failed(None);
        assert_eq!(on.check(None), Ok(()));
    }
}
