//! Counters the host keeps per processor: spans in and out, drops, errors, traps, and the
//! plugin's own counters from the `count` import.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A set of named counters, safe to share between threads.
#[derive(Debug, Default)]
pub struct Counters {
    values: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    /// Add `delta` to counter `name`.
    pub fn add(&self, name: &str, delta: u64) {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        match values.get_mut(name) {
            Some(v) => *v = v.saturating_add(delta),
            None => {
                values.insert(name.to_owned(), delta);
            }
        }
    }

    /// The value of counter `name`, 0 if it was never added to.
    pub fn get(&self, name: &str) -> u64 {
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values.get(name).copied().unwrap_or(0)
    }

    /// Every counter, by name.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
