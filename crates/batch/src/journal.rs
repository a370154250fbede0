//! [`Journal`]: the edits a processor records during one call, checked in full as they are
//! recorded and applied all at once by [`crate::Decoded::apply`].
//!
//! "In full" means that nothing is left for `apply` to check or decode: rows are in range,
//! fields writable, columns well formed, and `Complex` values are decoded into OTLP `AnyValue`s
//! here, so a value that does not decode fails the edit, not the apply.

use crate::value;
use crate::{Batch, Decoded};
use opentelemetry_proto::tonic::common::v1::AnyValue;
use spanwise_abi::{Level, StrColumn, StrField, Value};

/// One recorded edit. Rows are rows of the batch as it was when the call began.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Set an attribute of any type on some rows of a level.
    SetAttribute {
        /// The level of the rows.
        level: Level,
        /// The attribute key.
        key: String,
        /// The rows to set.
        rows: Vec<u32>,
        /// One value per row, already in its OTLP form.
        values: Vec<AnyValue>,
    },
    /// Set a string attribute on some rows of a level.
    SetStrAttribute {
        /// The level of the rows.
        level: Level,
        /// The attribute key.
        key: String,
        /// The rows to set.
        rows: Vec<u32>,
        /// One value per row.
        values: StrColumn,
    },
    /// Remove an attribute from some rows of a level.
    RemoveAttribute {
        /// The level of the rows.
        level: Level,
        /// The attribute key.
        key: String,
        /// The rows to clean.
        rows: Vec<u32>,
    },
    /// Rewrite a writable string field on some rows.
    SetStrField {
        /// The field.
        field: StrField,
        /// The rows of the field's level.
        rows: Vec<u32>,
        /// One value per row.
        values: StrColumn,
    },
    /// Set a writable string field to one value on some rows.
    FillStrField {
        /// The field.
        field: StrField,
        /// The rows of the field's level.
        rows: Vec<u32>,
        /// The value every row gets.
        value: String,
    },
    /// Drop spans.
    DropSpans {
        /// The span rows to drop.
        rows: Vec<u32>,
    },
    /// Drop span events, keeping their spans.
    DropEvents {
        /// The event rows to drop.
        rows: Vec<u32>,
    },
    /// Replace the values of some attributes by their hex digests on some rows of a level (see
    /// [`crate::hash::ValueHasher`]).
    HashAttributes {
        /// The level of the rows.
        level: Level,
        /// The attribute keys, each once.
        keys: Vec<String>,
        /// The rows to hash where they have one of the keys.
        rows: Vec<u32>,
        /// The HMAC key, resolved from its name when the edit was recorded; `None` for plain
        /// SHA-256.
        secret: Option<Secret>,
    },
}

/// Key material an edit carries from the host's key store to [`crate::Decoded::apply`]. Its
/// `Debug` form does not show the bytes, so a logged journal cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Why an edit was refused. A refused edit fails the whole call: none of its edits is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// A row number past the end of its level.
    #[error("row {row} is out of range: the batch has {rows} {level:?} rows")]
    RowOutOfRange {
        /// The offending row.
        row: u32,
        /// How many rows the level has.
        rows: usize,
        /// The level.
        level: Level,
    },
    /// Rows and values of different lengths.
    #[error("{rows} rows but {values} values")]
    LengthMismatch {
        /// The number of rows.
        rows: usize,
        /// The number of values.
        values: usize,
    },
    /// A value that must be present was absent, or a column was malformed.
    #[error("bad column: {0}")]
    BadColumn(String),
    /// A write to a read-only field.
    #[error("field {0:?} is read-only")]
    ReadOnlyField(StrField),
    /// A `Complex` value that is not an encoded `AnyValue`.
    #[error("value for attribute {key:?} is not an encoded AnyValue: {reason}")]
    BadValue {
        /// The attribute key.
        key: String,
        /// The decoder's reason.
        reason: String,
    },
    /// The journal's edits total more bytes than the cap.
    #[error("edits exceed the output cap of {cap} bytes")]
    OutputCap {
        /// The cap in bytes.
        cap: usize,
    },
    /// A keyed hash naming a key the processor does not have.
    #[error("no key named {0:?} is configured for this processor")]
    UnknownKey(String),
    /// The journal was recorded against a batch of another shape.
    #[error("journal was recorded against another batch")]
    WrongBatch,
}

/// The edits of one call, checked against the batch's row counts as they are recorded.
#[derive(Debug, Clone)]
pub struct Journal {
    edits: Vec<Edit>,
    spans: usize,
    events: usize,
    links: usize,
    bytes: usize,
    cap: usize,
}

impl Journal {
    /// An empty journal for edits of `batch`, refusing edits beyond `cap` bytes in all.
    pub fn new(batch: &Batch, cap: usize) -> Self {
        Self {
            edits: Vec::new(),
            spans: batch.len(),
            events: batch.row_count(Level::Event),
            links: batch.row_count(Level::Link),
            bytes: 0,
            cap,
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The recorded edits, in order.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The bytes of edits recorded so far (keys, values and row numbers).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn into_edits(self) -> Vec<Edit> {
        self.edits
    }

    pub(crate) fn check_shape(&self, batch: &Decoded) -> Result<(), EditError> {
        self.check_counts(
            batch.len(),
            batch.row_count(Level::Event),
            batch.row_count(Level::Link),
        )
    }

    /// Whether the journal was recorded for a batch of these span, event and link rows
    /// (trivially, when it holds no edit).
    pub(crate) fn check_counts(
        &self,
        spans: usize,
        events: usize,
        links: usize,
    ) -> Result<(), EditError> {
        if self.edits.is_empty() {
            return Ok(());
        }
        let same = self.spans == spans && self.events == events && self.links == links;
        if same {
            Ok(())
        } else {
            Err(EditError::WrongBatch)
        }
    }

    fn rows_at(&self, level: Level) -> usize {
        match level {
            Level::Resource | Level::Scope | Level::Span => self.spans,
            Level::Event => self.events,
            Level::Link => self.links,
        }
    }

    fn check_rows(&self, level: Level, rows: &[u32]) -> Result<(), EditError> {
        let limit = self.rows_at(level);
        match rows.iter().find(|&&row| row as usize >= limit) {
            Some(&row) => Err(EditError::RowOutOfRange {
                row,
                rows: limit,
                level,
            }),
            None => Ok(()),
        }
    }

    fn check_column(rows: &[u32], values: &StrColumn) -> Result<(), EditError> {
        values
            .validate()
            .map_err(|e| EditError::BadColumn(e.to_string()))?;
        if values.len() != rows.len() {
            return Err(EditError::LengthMismatch {
                rows: rows.len(),
                values: values.len(),
            });
        }
        if let Some(row) = values.present.iter().position(|&p| p == 0) {
            return Err(EditError::BadColumn(format!(
                "value {row} is absent; every written value must be present"
            )));
        }
        Ok(())
    }

    fn charge(&mut self, bytes: usize) -> Result<(), EditError> {
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.cap {
            Err(EditError::OutputCap { cap: self.cap })
        } else {
            Ok(())
        }
    }

    /// Record setting an attribute of any type.
    pub fn set_attribute(
        &mut self,
        level: Level,
        key: &str,
        rows: Vec<u32>,
        values: Vec<Value>,
    ) -> Result<(), EditError> {
        self.check_rows(level, &rows)?;
        if rows.len() != values.len() {
            return Err(EditError::LengthMismatch {
                rows: rows.len(),
                values: values.len(),
            });
        }
        let size: usize = values.iter().map(value_size).sum();
        self.charge(key.len() + rows.len() * 4 + size)?;
        let values = values
            .into_iter()
            .map(value::to_any)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| EditError::BadValue {
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
        self.edits.push(Edit::SetAttribute {
            level,
            key: key.to_owned(),
            rows,
            values,
        });
        Ok(())
    }

    /// Record setting a string attribute.
    pub fn set_str_attribute(
        &mut self,
        level: Level,
        key: &str,
        rows: Vec<u32>,
        values: StrColumn,
    ) -> Result<(), EditError> {
        self.check_rows(level, &rows)?;
        Self::check_column(&rows, &values)?;
        self.charge(key.len() + rows.len() * 4 + values.data.len())?;
        self.edits.push(Edit::SetStrAttribute {
            level,
            key: key.to_owned(),
            rows,
            values,
        });
        Ok(())
    }

    /// Record removing an attribute.
    pub fn remove_attribute(
        &mut self,
        level: Level,
        key: &str,
        rows: Vec<u32>,
    ) -> Result<(), EditError> {
        self.check_rows(level, &rows)?;
        self.charge(key.len() + rows.len() * 4)?;
        self.edits.push(Edit::RemoveAttribute {
            level,
            key: key.to_owned(),
            rows,
        });
        Ok(())
    }

    /// Record rewriting a string field.
    pub fn set_str_field(
        &mut self,
        field: StrField,
        rows: Vec<u32>,
        values: StrColumn,
    ) -> Result<(), EditError> {
        if !field.is_writable() {
            return Err(EditError::ReadOnlyField(field));
        }
        self.check_rows(field.level(), &rows)?;
        Self::check_column(&rows, &values)?;
        self.charge(rows.len() * 4 + values.data.len())?;
        self.edits.push(Edit::SetStrField {
            field,
            rows,
            values,
        });
        Ok(())
    }

    /// Record setting a string field to one value on every row of `rows`.
    pub fn fill_str_field(
        &mut self,
        field: StrField,
        rows: Vec<u32>,
        value: &str,
    ) -> Result<(), EditError> {
        if !field.is_writable() {
            return Err(EditError::ReadOnlyField(field));
        }
        self.check_rows(field.level(), &rows)?;
        self.charge(rows.len() * 4 + value.len())?;
        self.edits.push(Edit::FillStrField {
            field,
            rows,
            value: value.to_owned(),
        });
        Ok(())
    }

    /// Record hashing attributes in place, with HMAC-SHA256 under `secret` or, without one,
    /// SHA-256.
    pub fn hash_attributes<K: AsRef<str>>(
        &mut self,
        level: Level,
        keys: &[K],
        rows: Vec<u32>,
        secret: Option<Secret>,
    ) -> Result<(), EditError> {
        self.check_rows(level, &rows)?;
        let mut unique: Vec<String> = Vec::with_capacity(keys.len());
        for key in keys {
            let key = key.as_ref();
            if !unique.iter().any(|k| k == key) {
                unique.push(key.to_owned());
            }
        }
        // What the edit can add to the output: a 64-digit digest per key and row at most.
        let names: usize = unique.iter().map(String::len).sum();
        self.charge(names + rows.len() * (4 + unique.len() * 2 * crate::hash::DIGEST_LEN))?;
        self.edits.push(Edit::HashAttributes {
            level,
            keys: unique,
            rows,
            secret,
        });
        Ok(())
    }

    /// Record dropping spans.
    pub fn drop_spans(&mut self, rows: Vec<u32>) -> Result<(), EditError> {
        self.check_rows(Level::Span, &rows)?;
        self.charge(rows.len() * 4)?;
        self.edits.push(Edit::DropSpans { rows });
        Ok(())
    }

    /// Record dropping span events.
    pub fn drop_events(&mut self, rows: Vec<u32>) -> Result<(), EditError> {
        self.check_rows(Level::Event, &rows)?;
        self.charge(rows.len() * 4)?;
        self.edits.push(Edit::DropEvents { rows });
        Ok(())
    }
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Str(s) => s.len(),
        Value::Bytes(b) | Value::Complex(b) => b.len(),
        Value::Int(_) | Value::Double(_) | Value::Bool(_) => 8,
    }
}
