//! [`KeyIndex`]: where an attribute key sits in a list of requested keys, found by hashing
//! when the list is long. Reading many keys at once (a masking plugin reads every key of a
//! level) then costs one lookup per attribute instead of one comparison per attribute and key.

use std::collections::HashMap;

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

#[cfg(test)]
mod tests {
    use super::*;

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
