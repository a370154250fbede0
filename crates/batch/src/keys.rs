//! [`KeyIndex`]: where an attribute key sits in a list of requested keys, found by hashing
//! when the list is long. Reading many keys at once (a masking plugin reads every key of a
//! level) then costs one lookup per attribute instead of one comparison per attribute and key.
//!
//! [`RowKeys`] remembers, per position in a row's attribute list, the key found there in the
//! row before: spans of one service mostly list the same keys in the same order, so the next
//! row's key is compared with it (one `memcmp`) before anything is hashed.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use std::collections::{HashMap, HashSet};

/// Up to this many keys, comparing them one by one is faster than hashing.
const LINEAR_UP_TO: usize = 8;

/// The position of each requested key.
pub(crate) enum KeyIndex<'k> {
    /// Few keys, or a key asked for twice: compare each.
    Linear(&'k [&'k str]),
    /// Many distinct keys: hash.
    Map(HashMap<&'k str, usize, foldhash::fast::RandomState>),
}

impl<'k> KeyIndex<'k> {
    pub(crate) fn new(keys: &'k [&'k str]) -> Self {
        if keys.len() <= LINEAR_UP_TO {
            return KeyIndex::Linear(keys);
        }
        let mut map = HashMap::with_capacity_and_hasher(keys.len(), Default::default());
        for (i, key) in keys.iter().enumerate() {
            if map.insert(*key, i).is_some() {
                // A key asked for twice fills two columns: keep the simple path for that.
                return KeyIndex::Linear(keys);
            }
        }
        KeyIndex::Map(map)
    }

    /// Call `found` with the position of every requested key equal to `key`.
    #[inline]
    pub(crate) fn each(&self, key: &str, mut found: impl FnMut(usize)) {
        match self {
            KeyIndex::Linear(keys) => {
                for (i, k) in keys.iter().enumerate() {
                    if *k == key {
                        found(i);
                    }
                }
            }
            KeyIndex::Map(map) => {
                if let Some(&i) = map.get(key) {
                    found(i);
                }
            }
        }
    }
}

/// No requested key (in a [`RowKeys`] memo).
const MISSING: u32 = u32::MAX;

/// A [`KeyIndex`] read row after row, with the key at each position of the row before
/// remembered with what it was.
pub(crate) struct RowKeys<'k, 'a> {
    index: KeyIndex<'k>,
    memo: Vec<(&'a str, u32)>,
}

impl<'k, 'a> RowKeys<'k, 'a> {
    pub(crate) fn new(keys: &'k [&'k str]) -> Self {
        Self {
            index: KeyIndex::new(keys),
            memo: Vec::new(),
        }
    }

    /// Call `found` with each attribute of one row that is requested, and the position of the
    /// requested key it equals (every position, for a key requested twice).
    #[inline]
    pub(crate) fn each(
        &mut self,
        attributes: &'a [KeyValue],
        mut found: impl FnMut(usize, &'a KeyValue),
    ) {
        let map = match &self.index {
            KeyIndex::Linear(_) => {
                for kv in attributes {
                    self.index.each(&kv.key, |i| found(i, kv));
                }
                return;
            }
            KeyIndex::Map(map) => map,
        };
        for (at, kv) in attributes.iter().enumerate() {
            let key = kv.key.as_str();
            let position = match self.memo.get(at) {
                Some(&(before, position)) if before == key => position,
                _ => {
                    let position = map.get(key).map_or(MISSING, |&i| i as u32);
                    if at < self.memo.len() {
                        self.memo[at] = (key, position);
                    } else {
                        self.memo.push((key, position));
                    }
                    position
                }
            };
            if position != MISSING {
                found(position as usize, kv);
            }
        }
    }
}

/// The distinct keys of rows seen so far, in first-seen order, hashing only keys that differ
/// from the key at the same position in the row before.
pub(crate) struct DistinctKeys<'a> {
    seen: HashSet<&'a str, foldhash::fast::RandomState>,
    memo: Vec<&'a str>,
    keys: Vec<String>,
}

impl<'a> DistinctKeys<'a> {
    pub(crate) fn new() -> Self {
        Self {
            seen: HashSet::default(),
            memo: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Note the keys of one row.
    #[inline]
    pub(crate) fn row(&mut self, attributes: &'a [KeyValue]) {
        for (at, kv) in attributes.iter().enumerate() {
            let key = kv.key.as_str();
            if self.memo.get(at) == Some(&key) {
                continue;
            }
            if self.seen.insert(key) {
                self.keys.push(kv.key.clone());
            }
            if at < self.memo.len() {
                self.memo[at] = key;
            } else {
                self.memo.push(key);
            }
        }
    }

    /// The keys, in first-seen order.
    pub(crate) fn into_keys(self) -> Vec<String> {
        self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(keys: &[&str]) -> Vec<KeyValue> {
        keys.iter()
            .map(|k| KeyValue {
                key: (*k).to_owned(),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn row_keys_find_what_the_index_finds_whatever_the_order() {
        let many: Vec<String> = (0..12).map(|i| format!("k{i}")).collect();
        let wanted: Vec<&str> = many.iter().map(String::as_str).collect();
        let rows = [
            row(&["k1", "other", "k11", "k3"]),
            row(&["k1", "other", "k11", "k3"]),
            row(&["k11", "k1", "k3"]),
            row(&["other", "k1"]),
            row(&["k1", "other", "k11", "k3", "k5"]),
        ];
        for wanted in [&wanted[..], &wanted[..3], &["k1", "k1"][..]] {
            let index = KeyIndex::new(wanted);
            let mut memo = RowKeys::new(wanted);
            for attributes in &rows {
                let mut expected = Vec::new();
                for kv in attributes {
                    index.each(&kv.key, |i| expected.push((i, kv.key.clone())));
                }
                let mut got = Vec::new();
                memo.each(attributes, |i, kv| got.push((i, kv.key.clone())));
                assert_eq!(got, expected, "{wanted:?} on {attributes:?}");
            }
        }
    }

    #[test]
    fn distinct_keys_in_first_seen_order() {
        let rows = [
            row(&["a", "b", "c"]),
            row(&["a", "b", "c"]),
            row(&["c", "a", "d"]),
            row(&["a", "b"]),
            row(&["e", "b", "c", "a"]),
        ];
        let mut keys = DistinctKeys::new();
        for attributes in &rows {
            keys.row(attributes);
        }
        assert_eq!(keys.into_keys(), ["a", "b", "c", "d", "e"]);
    }

    fn positions(index: &KeyIndex<'_>, key: &str) -> Vec<usize> {
        let mut out = Vec::new();
        index.each(key, |i| out.push(i));
        out
    }

    #[test]
    fn few_many_and_repeated_keys_find_the_same_positions() {
        let few = ["a", "b"];
        let many: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut repeated = many.clone();
        repeated.push("k3");

        assert!(matches!(KeyIndex::new(&few), KeyIndex::Linear(_)));
        assert_eq!(positions(&KeyIndex::new(&few), "b"), [1]);
        let index = KeyIndex::new(&many);
        assert!(matches!(index, KeyIndex::Map(_)));
        assert_eq!(positions(&index, "k17"), [17]);
        assert_eq!(positions(&index, "nope"), [] as [usize; 0]);
        let index = KeyIndex::new(&repeated);
        assert!(matches!(index, KeyIndex::Linear(_)));
        assert_eq!(positions(&index, "k3"), [3, 20]);
    }
}
