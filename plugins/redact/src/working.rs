//! [`Working`]: the attributes of one level that the rules touch, read once from the batch,
//! changed in memory rule after rule (each rule sees what the rules before it did, as in the
//! collector), and written back as the few edits that make the difference.

use crate::value::AttrValue;
use spanwise_sdk::{Level, SpanBatch, StrColumn, Value};
use std::collections::HashMap;

/// The current value of every loaded key on every row of one level.
pub struct Working {
    level: Level,
    rows: usize,
    /// Keys in the order they were loaded, then in the order rules created them.
    keys: Vec<String>,
    index: HashMap<String, usize>,
    /// The values as read from the batch (`None` for keys created here).
    original: Vec<Option<Vec<Option<AttrValue>>>>,
    /// The values now.
    current: Vec<Vec<Option<AttrValue>>>,
}

impl Working {
    /// Read `keys` (which exist at this level) over every row of `level`.
    pub fn load<B: SpanBatch + ?Sized>(batch: &B, level: Level, keys: &[String]) -> Self {
        let rows = batch.row_count(level);
        let mut working = Self {
            level,
            rows,
            keys: Vec::new(),
            index: HashMap::new(),
            original: Vec::new(),
            current: Vec::new(),
        };
        if keys.is_empty() || rows == 0 {
            return working;
        }
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        let strings = batch.str_attributes(level, &names);
        let present = batch.attribute_rows(level, &names);
        for ((key, column), with_key) in keys.iter().zip(strings).zip(present) {
            let mut values: Vec<Option<AttrValue>> = column
                .iter()
                .map(|v| v.map(|s| AttrValue::Str(s.to_owned())))
                .collect();
            // Rows that have the key with another type than a string: read them the slow way.
            if with_key.iter().any(|&row| values[row as usize].is_none()) {
                for (row, value) in batch.attribute(level, key).into_iter().enumerate() {
                    if values[row].is_none() {
                        values[row] = value.as_ref().map(AttrValue::from_wire);
                    }
                }
            }
            working.index.insert(key.clone(), working.keys.len());
            working.keys.push(key.clone());
            working.original.push(Some(values.clone()));
            working.current.push(values);
        }
        working
    }

    /// The level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The keys, loaded or created, in order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The column of `key`, if it was loaded or created.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The column of `key`, created empty if needed.
    pub fn column_or_create(&mut self, key: &str) -> usize {
        if let Some(&i) = self.index.get(key) {
            return i;
        }
        let i = self.keys.len();
        self.index.insert(key.to_owned(), i);
        self.keys.push(key.to_owned());
        self.original.push(None);
        self.current.push(vec![None; self.rows]);
        i
    }

    /// The value of column `column` on `row`.
    pub fn get(&self, column: usize, row: usize) -> Option<&AttrValue> {
        self.current[column][row].as_ref()
    }

    /// The value of `key` on `row`.
    pub fn get_key(&self, key: &str, row: usize) -> Option<&AttrValue> {
        self.column(key).and_then(|c| self.get(c, row))
    }

    /// Set (or with `None` remove) the value of column `column` on `row`.
    pub fn set(&mut self, column: usize, row: usize, value: Option<AttrValue>) {
        self.current[column][row] = value;
    }

    /// Record, on `batch`, the edits that turn what was read into what is now: per key, one
    /// edit for the string values set, one for the others, one for the removals.
    pub fn write<B: SpanBatch + ?Sized>(&self, batch: &mut B) {
        for (column, key) in self.keys.iter().enumerate() {
            let original = self.original[column].as_ref();
            let (mut str_rows, mut strs) = (Vec::new(), StrColumn::new());
            let (mut other_rows, mut others) = (Vec::new(), Vec::<Value>::new());
            let mut removed = Vec::new();
            for row in 0..self.rows {
                let before = original.and_then(|values| values[row].as_ref());
                let now = self.current[column][row].as_ref();
                match (before, now) {
                    (Some(_), None) => removed.push(row as u32),
                    (before, Some(now)) if before != Some(now) => match now {
                        AttrValue::Str(s) => {
                            str_rows.push(row as u32);
                            strs.push(Some(s));
                        }
                        other => {
                            other_rows.push(row as u32);
                            others.push(other.to_wire());
                        }
                    },
                    _ => {}
                }
            }
            if !str_rows.is_empty() {
                batch.set_str_attribute(self.level, key, &str_rows, &strs);
            }
            if !other_rows.is_empty() {
                batch.set_attribute(self.level, key, &other_rows, &others);
            }
            if !removed.is_empty() {
                batch.remove_attribute(self.level, key, &removed);
            }
        }
    }
}
