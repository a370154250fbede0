//! [`Working`]: the attributes of one level that the rules touch, read once from the batch,
//! changed in memory rule after rule (each rule sees what the rules before it did, as in the
//! collector), and written back as the few edits that make the difference.

use spanwise_sdk::value::AttrValue;
use spanwise_sdk::{Level, SpanBatch, StrColumn, StrRows, Value};
use std::collections::HashMap;

/// A value in a [`Working`] set, borrowed: a string as read stays in the column the host sent
/// (no copy per value), anything else is the [`AttrValue`] held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    /// A string.
    Str(&'a str),
    /// Any other type (never [`AttrValue::Str`]).
    Other(&'a AttrValue),
}

impl<'a> From<&'a AttrValue> for Val<'a> {
    fn from(value: &'a AttrValue) -> Self {
        match value {
            AttrValue::Str(s) => Val::Str(s),
            other => Val::Other(other),
        }
    }
}

impl<'a> Val<'a> {
    /// The string, if it is one.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Val::Str(s) => Some(s),
            Val::Other(_) => None,
        }
    }

    /// The value, owned.
    pub fn to_value(self) -> AttrValue {
        match self {
            Val::Str(s) => AttrValue::Str(s.to_owned()),
            Val::Other(v) => v.clone(),
        }
    }

    /// The string form the collector gives it (see [`AttrValue::as_string`]).
    pub fn as_string(self) -> String {
        match self {
            Val::Str(s) => s.to_owned(),
            Val::Other(v) => v.as_string(),
        }
    }
}

/// One key's values: as read (strings in the host's column, other types held), and the cells
/// set since.
struct Column {
    /// The strings as read, by batch row (empty for a key created here).
    strings: StrRows,
    /// The values as read that are not strings, by row here; empty when there are none.
    others: Vec<Option<AttrValue>>,
    /// By row here: the value now of each cell set since loading. Empty until the first set.
    set: Vec<Option<Option<AttrValue>>>,
}

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
    columns: Vec<Column>,
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
            columns: Vec::new(),
        };
        if keys.is_empty() || rows == 0 {
            return working;
        }
        let names: Vec<&str> = keys.iter().map(String::as_str).collect();
        let strings = batch.str_attributes(level, &names);
        let present = batch.attribute_rows(level, &names);
        for ((key, column), with_key) in keys.iter().zip(strings).zip(present) {
            let strings = column.into_rows();
            let mut others = Vec::new();
            // Rows that have the key with another type than a string: read them the slow way.
            if !with_key.iter().all(|&r| strings.is_present(r as usize)) {
                let all = batch.attribute(level, key);
                others = (0..rows)
                    .map(|row| {
                        let at = working.batch_row(row) as usize;
                        match &all[at] {
                            Some(Value::Str(_)) | None => None,
                            Some(value) => Some(AttrValue::from_wire(value)),
                        }
                    })
                    .collect();
            }
            working.index.insert(key.clone(), working.keys.len());
            working.keys.push(key.clone());
            working.columns.push(Column {
                strings,
                others,
                set: Vec::new(),
            });
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
        self.columns.push(Column {
            strings: StrRows::default(),
            others: Vec::new(),
            set: Vec::new(),
        });
        i
    }

    /// The value of column `column` on `row` as it was read.
    fn read(&self, column: usize, row: usize) -> Option<Val<'_>> {
        let values = &self.columns[column];
        if let Some(s) = values.strings.get(self.batch_row(row) as usize) {
            return Some(Val::Str(s));
        }
        values.others.get(row)?.as_ref().map(Val::from)
    }

    /// The value of column `column` on `row`.
    pub fn get(&self, column: usize, row: usize) -> Option<Val<'_>> {
        match self.columns[column].set.get(row) {
            Some(Some(now)) => now.as_ref().map(Val::from),
            _ => self.read(column, row),
        }
    }

    /// The value of `key` on `row`.
    pub fn get_key(&self, key: &str, row: usize) -> Option<Val<'_>> {
        self.column(key).and_then(|c| self.get(c, row))
    }

    /// The value of `key` for span row `span`: through its resource or scope at those levels.
    pub fn get_for_span(&self, key: &str, span: usize) -> Option<Val<'_>> {
        let row = self.groups.as_ref().map_or(span, |groups| groups[span]);
        self.get_key(key, row)
    }

    /// Set (or with `None` remove) the value of column `column` on `row`.
    pub fn set(&mut self, column: usize, row: usize, value: Option<AttrValue>) {
        let rows = self.rows;
        let set = &mut self.columns[column].set;
        if set.is_empty() {
            set.resize(rows, None);
        }
        set[row] = Some(value);
    }

    /// Record, on `batch`, the edits that turn what was read into what is now: per key, one
    /// edit for the string values set, one for the others, one for the removals.
    pub fn write<B: SpanBatch + ?Sized>(&self, batch: &mut B) {
        for (column, key) in self.keys.iter().enumerate() {
            let set = &self.columns[column].set;
            if set.is_empty() {
                continue;
            }
            let (mut str_rows, mut strs) = (Vec::new(), StrColumn::new());
            let (mut other_rows, mut others) = (Vec::new(), Vec::<Value>::new());
            let mut removed = Vec::new();
            for (row, now) in set.iter().enumerate() {
                // Only cells set since loading can differ from what was read.
                let Some(now) = now else { continue };
                let at = self.batch_row(row);
                let was = self.read(column, row);
                match (was, now.as_ref().map(Val::from)) {
                    (Some(_), None) => removed.push(at),
                    (was, Some(now)) if was != Some(now) => match now {
                        Val::Str(s) => {
                            str_rows.push(at);
                            strs.push(Some(s));
                        }
                        Val::Other(other) => {
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
