//! A compact set of revoked ids (token ids or session ids), each kept until a given time.
//!
//! Gatehouse makes its token and session ids from 16 random bytes, base64url-encoded without
//! padding (`secrets::random_token(16)`: 22 characters). Held as text, each cost a heap string
//! beside its table slot, about 90 bytes in all, and twice that while a sync's rows were
//! read. Held here as the 16 bytes themselves, with a 32-bit expiry, a slot is 20 bytes plus
//! the table's control byte, and the table is between 7/16 and 7/8 full: 24 to 48 bytes an
//! id (about 37 at 300,000). Any other id (the old service's token ids, a seed service's
//! formats) is kept as text, so nothing is lost.
//!
//! Only the canonical encoding of 16 bytes counts as compact (the base64 engine refuses
//! padding and stray trailing bits), so a given id always lands in the same table, whichever
//! path inserts or looks it up.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The length of a Gatehouse id: 16 bytes in base64url without padding.
const COMPACT_ID_CHARS: usize = 22;
const COMPACT_ID_BYTES: usize = 16;

/// The 16 bytes of a Gatehouse-made id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IdBytes([u8; COMPACT_ID_BYTES]);

impl IdBytes {
    fn decode(id: &str) -> Option<Self> {
        if id.len() != COMPACT_ID_CHARS {
            return None;
        }
        // The engine wants room for its estimate (18 bytes for 22 characters).
        let mut buf = [0u8; COMPACT_ID_BYTES + 2];
        match URL_SAFE_NO_PAD.decode_slice(id, &mut buf) {
            Ok(COMPACT_ID_BYTES) => {
                let mut bytes = [0u8; COMPACT_ID_BYTES];
                bytes.copy_from_slice(&buf[..COMPACT_ID_BYTES]);
                Some(Self(bytes))
            }
            _ => None,
        }
    }
}

// The ids are already uniformly random, so their first 8 bytes are as good a hash as SipHash
// would make of them, at no cost. Hash flooding needs keys the attacker chooses: the ids in
// this table are made by a server (ours, or the old service for its tokens) and read from our
// own database, and a lookup only happens for a token whose signature checked, so only the
// signer chooses its id. A chosen id that is looked up but absent costs one probe anyway.
impl Hash for IdBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let [a, b, c, d, e, f, g, h, ..] = self.0;
        state.write_u64(u64::from_le_bytes([a, b, c, d, e, f, g, h]));
    }
}

/// Passes an `IdBytes` hash through (see its `Hash`).
#[derive(Debug, Default)]
struct RandomIdHasher(u64);

impl Hasher for RandomIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by `IdBytes`; folds anything else in rather than ignoring it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 ^= word;
    }
}

type CompactMap = HashMap<IdBytes, u32, BuildHasherDefault<RandomIdHasher>>;

/// Revoked ids, each with when its entry may go (Unix seconds).
#[derive(Debug)]
pub struct RevokedIds {
    /// Gatehouse's own ids -> expiry, saturated into 32 bits (until 2106; a later expiry is
    /// kept until then, which only keeps the entry longer).
    compact: CompactMap,
    /// Every other id -> expiry.
    other: HashMap<Box<str>, i64>,
    /// No entry expires before this (`i64::MAX`: none held), so that a purge with nothing due
    /// does not walk the tables while holding the list's lock.
    earliest_expiry: i64,
}

impl Default for RevokedIds {
    fn default() -> Self {
        Self {
            compact: CompactMap::default(),
            other: HashMap::new(),
            earliest_expiry: i64::MAX,
        }
    }
}

impl RevokedIds {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `ids` of Gatehouse's own without growing: a table that grows leaves its
    /// earlier, smaller copies behind in the allocator, as much again as the final table.
    pub fn with_capacity(ids: usize) -> Self {
        Self {
            compact: CompactMap::with_capacity_and_hasher(ids, Default::default()),
            ..Self::default()
        }
    }

    /// Adds `id`, or keeps it at least until `expires_at` if it is already there.
    pub fn insert(&mut self, id: &str, expires_at: i64) {
        match IdBytes::decode(id) {
            Some(key) => {
                let expiry = compact_expiry(expires_at);
                let kept = self.compact.entry(key).or_insert(expiry);
                *kept = (*kept).max(expiry);
                self.earliest_expiry = self.earliest_expiry.min(i64::from(expiry));
            }
            None => {
                let kept = self.other.entry(id.into()).or_insert(expires_at);
                *kept = (*kept).max(expires_at);
                self.earliest_expiry = self.earliest_expiry.min(expires_at);
            }
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        if self.is_empty() {
            return false; // the usual case, and no need to decode
        }
        match IdBytes::decode(id) {
            Some(key) => self.compact.contains_key(&key),
            None => self.other.contains_key(id),
        }
    }

    pub fn len(&self) -> usize {
        self.compact.len() + self.other.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds everything `more` holds (a sync's rows, gathered without holding the lock).
    pub fn absorb(&mut self, more: RevokedIds) {
        if self.is_empty() {
            // The first load: take its tables as they are.
            *self = more;
            return;
        }
        for (key, expiry) in more.compact {
            let kept = self.compact.entry(key).or_insert(expiry);
            *kept = (*kept).max(expiry);
        }
        for (id, expiry) in more.other {
            let kept = self.other.entry(id).or_insert(expiry);
            *kept = (*kept).max(expiry);
        }
        self.earliest_expiry = self.earliest_expiry.min(more.earliest_expiry);
    }

    /// Keeps the entries whose expiry `live` accepts; gives memory back after a large purge.
    /// `live` must accept every expiry later than one it accepts (it compares with a time).
    pub fn retain_live(&mut self, live: impl Fn(i64) -> bool) {
        if live(self.earliest_expiry) {
            return; // nothing is due
        }
        let mut earliest = i64::MAX;
        self.compact.retain(|_, expiry| {
            let expiry = i64::from(*expiry);
            let keep = live(expiry);
            if keep {
                earliest = earliest.min(expiry);
            }
            keep
        });
        self.other.retain(|_, expiry| {
            let keep = live(*expiry);
            if keep {
                earliest = earliest.min(*expiry);
            }
            keep
        });
        self.earliest_expiry = earliest;
        // Shrinking at a quarter (not at half) so that a list hovering around a size does not
        // rebuild its table at every purge.
        if self.compact.len() < self.compact.capacity() / 4 {
            self.compact.shrink_to_fit();
        }
        if self.other.len() < self.other.capacity() / 4 {
            self.other.shrink_to_fit();
        }
    }
}

fn compact_expiry(expires_at: i64) -> u32 {
    u32::try_from(expires_at.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::random_token;

    #[test]
    fn gatehouse_ids_are_held_as_bytes_and_found_again() {
        let mut ids = RevokedIds::new();
        let (revoked, other) = (random_token(16), random_token(16));
        ids.insert(&revoked, 1_000);
        assert!(ids.contains(&revoked));
        assert!(!ids.contains(&other));
        assert_eq!((ids.compact.len(), ids.other.len()), (1, 0));
    }

    #[test]
    fn ids_of_other_formats_are_kept_as_text() {
        let mut ids = RevokedIds::new();
        for id in [
            "a",
            "legacy-jti-42",
            &random_token(32),
            "AAAAAAAAAAAAAAAAAAAAAA==",
        ] {
            ids.insert(id, 1_000);
            assert!(ids.contains(id), "{id}");
        }
        assert_eq!((ids.compact.len(), ids.other.len()), (0, 4));
        assert!(!ids.contains("b"));
    }

    #[test]
    fn a_non_canonical_encoding_is_not_mistaken_for_the_canonical_one() {
        // 16 zero bytes are "AAAAAAAAAAAAAAAAAAAAAA"; with the last character's spare bits
        // set ("B") the text is another id, and must stay one.
        let canonical = "AAAAAAAAAAAAAAAAAAAAAA";
        let stray_bits = "AAAAAAAAAAAAAAAAAAAAAB";
        let mut ids = RevokedIds::new();
        ids.insert(canonical, 1_000);
        assert!(ids.contains(canonical));
        assert!(!ids.contains(stray_bits));
        ids.insert(stray_bits, 1_000);
        assert_eq!((ids.compact.len(), ids.other.len()), (1, 1));
    }

    #[test]
    fn expired_entries_are_purged_and_the_later_expiry_wins() {
        let mut ids = RevokedIds::new();
        let (short, long, text) = (random_token(16), random_token(16), "legacy");
        ids.insert(&short, 100);
        ids.insert(&long, 100);
        ids.insert(&long, 300);
        ids.insert(&long, 200);
        ids.insert(text, 100);
        ids.retain_live(|expiry| expiry >= 150);
        assert!(!ids.contains(&short));
        assert!(ids.contains(&long));
        assert!(!ids.contains(text));
        ids.retain_live(|expiry| expiry >= 301);
        assert!(ids.is_empty());
    }

    #[test]
    fn expiries_outside_32_bits_are_kept_at_least_as_long() {
        let mut ids = RevokedIds::new();
        let (far, past) = (random_token(16), random_token(16));
        ids.insert(&far, i64::MAX);
        ids.insert(&past, -5);
        ids.retain_live(|expiry| expiry >= i64::from(u32::MAX));
        assert!(ids.contains(&far));
        assert!(!ids.contains(&past));
    }

    #[test]
    fn absorbing_merges_into_a_list_and_replaces_an_empty_one() {
        let (a, b, c) = (random_token(16), random_token(16), "text-id");
        let mut first = RevokedIds::new();
        first.insert(&a, 100);
        let mut list = RevokedIds::new();
        list.absorb(first);
        let mut second = RevokedIds::new();
        second.insert(&a, 500);
        second.insert(&b, 100);
        second.insert(c, 100);
        list.absorb(second);
        assert_eq!(list.len(), 3);
        list.retain_live(|expiry| expiry >= 200);
        assert!(list.contains(&a), "the later expiry of the two was kept");
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn a_purge_with_nothing_due_keeps_everything_and_a_later_one_still_purges() {
        let mut ids = RevokedIds::new();
        let (early, late) = (random_token(16), random_token(16));
        ids.insert(&late, 500);
        ids.insert(&early, 100);
        ids.retain_live(|expiry| expiry >= 50);
        assert_eq!(ids.len(), 2);
        ids.retain_live(|expiry| expiry >= 101);
        assert!(!ids.contains(&early));
        ids.insert("text", 300);
        ids.retain_live(|expiry| expiry >= 301);
        assert!(
            !ids.contains("text"),
            "the earliest expiry follows inserts after a purge"
        );
        assert!(ids.contains(&late));
    }

    #[test]
    fn a_purge_gives_back_the_table_of_a_list_that_shrank() {
        let mut ids = RevokedIds::new();
        for _ in 0..10_000 {
            ids.insert(&random_token(16), 100);
        }
        let keep = random_token(16);
        ids.insert(&keep, 200);
        let before = ids.compact.capacity();
        ids.retain_live(|expiry| expiry >= 200);
        assert!(ids.compact.capacity() < before / 100);
        assert!(ids.contains(&keep));
    }
}
