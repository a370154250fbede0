//! [`Working`]: the attributes of one level that the rules touch, read once from the batch,
//! changed in memory rule after rule (each rule sees what the rules before it did, as in the
//! collector), and written back as the few edits that make the difference.

use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{Level, SpanBatch, StrColumn, Value};
use std::collections::HashMap;

/// The current value of every loaded key on every row of one level. At the resource and scope
/// levels a row is one resource (scope), not one span: the first span row of each stands for
/// all that share it.
pub struct Working {
    level: Level,
    rows: usize,
    /// Resource and scope levels: for each row here, the span row that stands for it.
    batch_rows: Option<Vec<u32>>,
    /// Resource and scope levels: for each span row, its row here.
    groups: Option<Vec<usize>>,
    /// Keys in the order they were loaded, then in the order rules created them.
    keys: Vec<String>,
    index: HashMap<String, usize>,
    /// The values now.
    current: Vec<Vec<Option<AttrValue>>>,
    /// For each column, the values as read of the cells changed since, moved here when a cell
    /// is first set (nothing is copied for cells never touched).
    before: Vec<Vec<Option<Option<AttrValue>>>>,
}

impl Working {
    /// Read `keys` (which exist at this level) over every row of `level`.
    pub fn load<B: SpanBatch + ?Sized>(batch: &B, level: Level, keys: &[String]) -> Self {
        let ids = match level {
            Level::Resource => Some(batch.resource_ids()),
            Level::Scope => Some(batch.scope_ids()),
            _ => None,
        };
        let (rows, batch_rows, groups) = match ids {
            Some(ids) => {
                let mut firsts: Vec<u32> = Vec::new();
                let mut groups = Vec::with_capacity(ids.len());
                for (span, id) in ids.iter().enumerate() {
                    if span == 0 || ids[span - 1] != *id {
                        firsts.push(span as u32);
                    }
                    groups.push(firsts.len() - 1);
                }
                (firsts.len(), Some(firsts), Some(groups))
            }
            None => (batch.row_count(level), None, None),
        };
        let mut working = Self {
            level,
            rows,
            batch_rows,
            groups,
            keys: Vec::new(),
            index: HashMap::new(),
            current: Vec::new(),
            before: Vec::new(),
        };
        if keys.is_empty() || rows == 0 {
            return working;
        }
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        let strings = batch.str_attributes(level, &names);
        let present = batch.attribute_rows(level, &names);
        let span_rows: Vec<usize> = match &working.batch_rows {
            Some(firsts) => firsts.iter().map(|&r| r as usize).collect(),
            None => (0..rows).collect(),
        };
        for ((key, column), with_key) in keys.iter().zip(strings).zip(present) {
            let mut values: Vec<Option<AttrValue>> = span_rows
                .iter()
                .map(|&r| column.get(r).map(|s| AttrValue::Str(s.to_owned())))
                .collect();
            // Rows that have the key with another type than a string: read them the slow way.
            let strings_only = with_key.iter().all(|&r| column.is_present(r as usize));
            if !strings_only {
                let all = batch.attribute(level, key);
                for (row, &span_row) in span_rows.iter().enumerate() {
                    if values[row].is_none() {
                        values[row] = all[span_row].as_ref().map(AttrValue::from_wire);
                    }
                }
            }
            working.index.insert(key.clone(), working.keys.len());
            working.keys.push(key.clone());
            working.current.push(values);
            working.before.push(Vec::new());
        }
        working
    }

    /// The level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// The number of rows (resources or scopes at those levels).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Resource and scope levels: for each span row, its row here.
    pub fn groups(&self) -> Option<&[usize]> {
        self.groups.as_deref()
    }

    /// The batch row that row `row` here is written to (and read from).
    pub fn batch_row(&self, row: usize) -> u32 {
        match &self.batch_rows {
            Some(firsts) => firsts[row],
            None => row as u32,
        }
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
        self.current.push(vec![None; self.rows]);
        self.before.push(Vec::new());
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

    /// The value of `key` for span row `span`: through its resource or scope at those levels.
    pub fn get_for_span(&self, key: &str, span: usize) -> Option<&AttrValue> {
        let row = self.groups.as_ref().map_or(span, |groups| groups[span]);
        self.get_key(key, row)
    }

    /// Set (or with `None` remove) the value of column `column` on `row`.
    pub fn set(&mut self, column: usize, row: usize, value: Option<AttrValue>) {
        let before = &mut self.before[column];
        if before.is_empty() {
            before.resize(self.rows, None);
        }
        let old = std::mem::replace(&mut self.current[column][row], value);
        if before[row].is_none() {
            before[row] = Some(old);
        }
    }

    /// Record, on `batch`, the edits that turn what was read into what is now: per key, one
    /// edit for the string values set, one for the others, one for the removals.
    pub fn write<B: SpanBatch + ?Sized>(&self, batch: &mut B) {
        for (column, key) in self.keys.iter().enumerate() {
            let before = &self.before[column];
            if before.is_empty() {
                continue;
            }
            let (mut str_rows, mut strs) = (Vec::new(), StrColumn::new());
            let (mut other_rows, mut others) = (Vec::new(), Vec::<Value>::new());
            let mut removed = Vec::new();
            for (row, was) in before.iter().enumerate() {
                // Only cells set since loading can differ from what was read.
                let Some(was) = was else { continue };
                let at = self.batch_row(row);
                match (was.as_ref(), self.current[column][row].as_ref()) {
                    (Some(_), None) => removed.push(at),
                    (was, Some(now)) if was != Some(now) => match now {
                        AttrValue::Str(s) => {
                            str_rows.push(at);
                            strs.push(Some(s));
                        }
                        other => {
                            other_rows.push(at);
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
