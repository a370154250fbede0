//! Values that cross the plugin boundary, mirroring the `types` interface of the WIT package.
//!
//! Names follow the WIT: `level` is [`Level`], `str-column` is [`StrColumn`], and so on. The
//! conversions to and from the types that bindings generators make of the same WIT are in
//! [`crate::wit_conversions!`].

/// Where an attribute lives; see the WIT `level` enum for the row model of each level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Attributes of the resource, one row per span.
    Resource,
    /// Attributes of the instrumentation scope, one row per span.
    Scope,
    /// The span's own attributes, one row per span.
    Span,
    /// Attributes of span events, one row per event.
    Event,
    /// Attributes of span links, one row per link.
    Link,
}

/// The string fields of spans, events and links that are not attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrField {
    /// The span name. Writable.
    Name,
    /// The span status message. Writable.
    StatusMessage,
    /// The span's W3C `tracestate`. Writable.
    TraceState,
    /// The instrumentation scope name. Read-only.
    ScopeName,
    /// The instrumentation scope version. Read-only.
    ScopeVersion,
    /// The resource's schema URL. Read-only.
    SchemaUrl,
    /// The event name, one row per event. Writable.
    EventName,
    /// The link's W3C `tracestate`, one row per link. Read-only.
    LinkTraceState,
}

impl StrField {
    /// Whether a plugin may rewrite this field.
    pub fn is_writable(self) -> bool {
        matches!(
            self,
            StrField::Name | StrField::StatusMessage | StrField::TraceState | StrField::EventName
        )
    }

    /// The level whose rows this field is indexed by.
    pub fn level(self) -> Level {
        match self {
            StrField::EventName => Level::Event,
            StrField::LinkTraceState => Level::Link,
            _ => Level::Span,
        }
    }
}

/// One attribute value, as OpenTelemetry's `AnyValue`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A UTF-8 string.
    Str(String),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Double(f64),
    /// A boolean.
    Bool(bool),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// An array or key-value list, as the protobuf encoding of the whole `AnyValue`.
    Complex(Vec<u8>),
}

/// How [`SpanBatch::hash_attributes`](crate::SpanBatch::hash_attributes) digests a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashFunction {
    /// SHA-256, as the OpenTelemetry Collector's `hash` action. Reversible by anyone who can
    /// hash every candidate value: identifiers want [`HashFunction::HmacSha256`].
    Sha256,
    /// HMAC-SHA256 under the host-held key of this name; the key never reaches the plugin.
    HmacSha256(String),
}

/// A column of optional strings packed Arrow-style: one buffer for all the bytes, one offset per
/// row boundary, one presence byte per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrColumn {
    /// `rows + 1` offsets into `data`, non-decreasing, starting at 0.
    pub offsets: Vec<u32>,
    /// The concatenated UTF-8 bytes of every present value.
    pub data: Vec<u8>,
    /// One byte per row: 1 where the value is present, 0 where it is absent.
    pub present: Vec<u8>,
}

impl Default for StrColumn {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> FromIterator<Option<&'a str>> for StrColumn {
    fn from_iter<I: IntoIterator<Item = Option<&'a str>>>(values: I) -> Self {
        Self::from_options(values)
    }
}

impl<'a> FromIterator<&'a str> for StrColumn {
    fn from_iter<I: IntoIterator<Item = &'a str>>(values: I) -> Self {
        Self::from_options(values.into_iter().map(Some))
    }
}

/// A column of optional byte strings, packed like [`StrColumn`] but with any bytes (WIT
/// `bytes-column`): what the host's digest functions take, so that an integer's 8 bytes can be
/// hashed as the collector hashes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BytesColumn {
    /// `rows + 1` offsets into `data`, non-decreasing, starting at 0 (or empty for no rows).
    pub offsets: Vec<u32>,
    /// The concatenated bytes of every present value.
    pub data: Vec<u8>,
    /// One byte per row: 1 where the value is present, 0 where it is absent.
    pub present: Vec<u8>,
}

impl BytesColumn {
    /// An empty column with room for `rows` values of `bytes` bytes in all.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            data: Vec::with_capacity(bytes),
            present: Vec::with_capacity(rows),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// Append a row.
    pub fn push(&mut self, value: Option<&[u8]>) {
        push_packed(&mut self.offsets, &mut self.data, &mut self.present, value);
    }

    /// The value of row `row`: `None` where it is absent or out of range.
    pub fn get(&self, row: usize) -> Option<&[u8]> {
        get_packed(&self.offsets, &self.data, &self.present, row)
    }

    /// Every row in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&[u8]>> + '_ {
        (0..self.len()).map(move |row| self.get(row))
    }

    /// Check the column's shape: what the host does with every column a plugin sends.
    pub fn validate(&self) -> Result<(), ColumnError> {
        check_shape(
            &self.offsets,
            self.data.len(),
            &self.present,
            "bytes-column",
        )
    }
}

impl From<StrColumn> for BytesColumn {
    fn from(column: StrColumn) -> Self {
        Self {
            offsets: column.offsets,
            data: column.data,
            present: column.present,
        }
    }
}

/// Append a row to a packed column (offsets, bytes, presence), starting its offsets if empty.
fn push_packed(
    offsets: &mut Vec<u32>,
    data: &mut Vec<u8>,
    present: &mut Vec<u8>,
    value: Option<&[u8]>,
) {
    if offsets.is_empty() {
        offsets.push(0);
    }
    if let Some(bytes) = value {
        data.extend_from_slice(bytes);
    }
    present.push(u8::from(value.is_some()));
    offsets.push(data.len() as u32);
}

/// Row `row` of a packed column: `None` where absent or out of range.
fn get_packed<'a>(offsets: &[u32], data: &'a [u8], present: &[u8], row: usize) -> Option<&'a [u8]> {
    if *present.get(row)? == 0 {
        return None;
    }
    let start = *offsets.get(row)? as usize;
    let end = *offsets.get(row + 1)? as usize;
    data.get(start..end)
}

/// Check that `offsets` (one more than `present`, or none at all for no rows) start at 0, never
/// decrease, end at `data_len`, and that absent rows span no bytes.
fn check_shape(
    offsets: &[u32],
    data_len: usize,
    present: &[u8],
    what: &str,
) -> Result<(), ColumnError> {
    let rows = present.len();
    if rows == 0 && offsets.is_empty() && data_len == 0 {
        return Ok(());
    }
    if offsets.len() != rows + 1 {
        return Err(ColumnError(format!(
            "{what} has {rows} presence bytes but {} offsets (expected {})",
            offsets.len(),
            rows + 1
        )));
    }
    if offsets[0] != 0 {
        return Err(ColumnError(format!("{what} offsets must start at 0")));
    }
    if *offsets.last().unwrap_or(&0) as usize != data_len {
        return Err(ColumnError(format!(
            "{what}'s last offset {} does not match its {data_len} data bytes",
            offsets.last().unwrap_or(&0),
        )));
    }
    // One pass without an early exit first (the common case: nothing wrong), then the pass
    // that finds the first fault.
    let sound = offsets
        .iter()
        .zip(&offsets[1..])
        .zip(present)
        .fold(true, |sound, ((&start, &end), &p)| {
            sound & (start <= end) & ((p != 0) | (start == end))
        });
    if sound {
        return Ok(());
    }
    for row in 0..rows {
        let (start, end) = (offsets[row], offsets[row + 1]);
        if end < start {
            return Err(ColumnError(format!("{what} offsets decrease at row {row}")));
        }
        if present[row] == 0 && end != start {
            return Err(ColumnError(format!(
                "absent row {row} spans {} bytes",
                end - start
            )));
        }
    }
    Ok(())
}

/// Whether every byte is below 0x80.
fn is_ascii(bytes: &[u8]) -> bool {
    crate::or_all(bytes) < 0x80
}

/// `(row, value)` for the rows whose presence byte is set, the value read by `get`.
fn present_values<'a, T>(
    present: &'a [u8],
    get: impl Fn(usize) -> Option<T> + 'a,
) -> impl Iterator<Item = (usize, T)> + 'a {
    present
        .iter()
        .enumerate()
        .filter(|&(_, &p)| p != 0)
        .filter_map(move |(row, _)| Some((row, get(row)?)))
}

/// The rows whose presence byte is set, in ascending order.
fn present_rows(present: &[u8]) -> Vec<u32> {
    present
        .iter()
        .enumerate()
        .filter(|&(_, &p)| p != 0)
        .map(|(row, _)| row as u32)
        .collect()
}

/// Columns of optional scalars: `values[i]` is row `i`'s value where `present[i] != 0`, and the
/// type's zero where it is absent.
macro_rules! scalar_column {
    ($(#[$doc:meta])* $name:ident, $ty:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            /// One value per row; zero (or `false`) where absent.
            pub values: Vec<$ty>,
            /// One byte per row: 1 where the value is present, 0 where it is absent.
            pub present: Vec<u8>,
        }

        impl $name {
            /// Build a column from optional values.
            pub fn from_options<I: IntoIterator<Item = Option<$ty>>>(values: I) -> Self {
                let mut column = Self::default();
                for value in values {
                    column.push(value);
                }
                column
            }

            /// Append a row.
            pub fn push(&mut self, value: Option<$ty>) {
                self.present.push(u8::from(value.is_some()));
                self.values.push(value.unwrap_or_default());
            }

            /// The number of rows.
            pub fn len(&self) -> usize {
                self.present.len()
            }

            /// Whether the column has no rows.
            pub fn is_empty(&self) -> bool {
                self.present.is_empty()
            }

            /// The value of row `row`: `None` where it is absent or out of range.
            pub fn get(&self, row: usize) -> Option<$ty> {
                match self.present.get(row) {
                    Some(&p) if p != 0 => self.values.get(row).copied(),
                    _ => None,
                }
            }

            /// Every row in order.
            pub fn iter(&self) -> impl Iterator<Item = Option<$ty>> + '_ {
                (0..self.len()).map(move |row| self.get(row))
            }

            /// The rows that hold a value, in ascending order.
            pub fn present_rows(&self) -> Vec<u32> {
                present_rows(&self.present)
            }
        }
    };
}

scalar_column!(
    /// A column of optional integers (WIT `int-column`).
    IntColumn,
    i64
);
scalar_column!(
    /// A column of optional floats (WIT `double-column`).
    DoubleColumn,
    f64
);
scalar_column!(
    /// A column of optional booleans (WIT `bool-column`).
    BoolColumn,
    bool
);

/// Why a column received from the other side of the boundary is not well formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnError(pub String);

impl std::fmt::Display for ColumnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ColumnError {}

impl StrColumn {
    /// An empty column.
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty column with room for `rows` values of `bytes` bytes in all.
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            offsets,
            data: Vec::with_capacity(bytes),
            present: Vec::with_capacity(rows),
        }
    }

    /// Build a column from optional strings.
    pub fn from_options<'a, I>(values: I) -> Self
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let mut column = Self::new();
        for value in values {
            column.push(value);
        }
        column
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The number of rows whose value is present and not empty (what WIT 0.1.6's
    /// `str-field-count` counts).
    pub fn non_empty(&self) -> usize {
        (0..self.len())
            .filter(|&row| self.get(row).is_some_and(|value| !value.is_empty()))
            .count()
    }

    /// Append a row.
    pub fn push(&mut self, value: Option<&str>) {
        push_packed(
            &mut self.offsets,
            &mut self.data,
            &mut self.present,
            value.map(str::as_bytes),
        );
    }

    /// The value of row `row`: `None` where it is absent, out of range, or not UTF-8 (which a
    /// column built by [`StrColumn::push`] or checked by [`StrColumn::validate`] never is).
    pub fn get(&self, row: usize) -> Option<&str> {
        simdutf8::basic::from_utf8(get_packed(&self.offsets, &self.data, &self.present, row)?).ok()
    }

    /// Every row in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(move |row| self.get(row))
    }

    /// Whether row `row` holds a value.
    pub fn is_present(&self, row: usize) -> bool {
        self.present.get(row).is_some_and(|&p| p != 0)
    }

    /// The rows that hold a value, with the value, in order: [`StrColumn::iter`] without the
    /// absent rows, which it passes over without reading their offsets.
    pub fn iter_present(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        present_values(&self.present, |row| self.get(row))
    }

    /// The rows that hold a value, in ascending order.
    pub fn present_rows(&self) -> Vec<u32> {
        present_rows(&self.present)
    }

    /// A column of `rows` copies of `value`.
    pub fn repeat(value: &str, rows: usize) -> Self {
        let mut column = Self::with_capacity(rows, value.len() * rows);
        for _ in 0..rows {
            column.push(Some(value));
        }
        column
    }

    /// Check the column's shape and that every present value is UTF-8: what the host does with
    /// every column a plugin sends.
    pub fn validate(&self) -> Result<(), ColumnError> {
        check_shape(&self.offsets, self.data.len(), &self.present, "str-column")?;
        if self.is_whole_text() {
            return Ok(());
        }
        for row in 0..self.present.len() {
            if self.present[row] != 0 {
                let (start, end) = (self.offsets[row] as usize, self.offsets[row + 1] as usize);
                if simdutf8::basic::from_utf8(&self.data[start..end]).is_err() {
                    return Err(ColumnError(format!("row {row} is not valid UTF-8")));
                }
            }
        }
        Ok(())
    }
}

/// A [`StrColumn`] whose bytes were checked as UTF-8 once, so that reading a row is a slice
/// (`StrColumn::get` checks the row's bytes on every read). Made by [`StrColumn::into_rows`],
/// which moves the column's buffers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrRows {
    offsets: Vec<u32>,
    text: String,
    present: Vec<u8>,
}

impl StrRows {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.present.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The value of row `row`: `None` where it is absent or out of range.
    #[inline]
    pub fn get(&self, row: usize) -> Option<&str> {
        if *self.present.get(row)? == 0 {
            return None;
        }
        let start = *self.offsets.get(row)? as usize;
        let end = *self.offsets.get(row + 1)? as usize;
        self.text.get(start..end)
    }

    /// Whether row `row` holds a value.
    #[inline]
    pub fn is_present(&self, row: usize) -> bool {
        self.present.get(row).is_some_and(|&p| p != 0)
    }

    /// The rows that hold a value, with the value, in order.
    pub fn iter_present(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        present_values(&self.present, |row| self.get(row))
    }
}

impl StrColumn {
    /// The column as [`StrRows`], checked once. A column that does not validate (which one the
    /// host sends never is) is packed again first, its rows that are not UTF-8 absent, as
    /// [`StrColumn::get`] reads them.
    pub fn into_rows(self) -> StrRows {
        let whole = check_shape(&self.offsets, self.data.len(), &self.present, "str-column")
            .is_ok()
            && self.is_whole_text();
        let column = if whole {
            self
        } else {
            StrColumn::from_options(self.iter())
        };
        let StrColumn {
            offsets,
            data,
            present,
        } = column;
        let text = if whole {
            #[allow(unsafe_code)]
            // SAFETY: `is_whole_text` has just found `data` to be UTF-8: all ASCII, or valid
            // by simdutf8 (vectorised where std's check is not, as on WebAssembly); std's check
            // would only repeat it.
            unsafe {
                String::from_utf8_unchecked(data)
            }
        } else {
            String::from_utf8(data)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        };
        StrRows {
            offsets,
            text,
            present,
        }
    }

    /// Whether the column's bytes are UTF-8 as a whole and no row boundary falls inside a
    /// character, so that every row is UTF-8: one pass over the bytes and a look at each
    /// boundary. Assumes the shape is checked.
    fn is_whole_text(&self) -> bool {
        // ASCII bytes (most values) are UTF-8, and every offset of a checked shape is then a
        // character boundary: an OR over the bytes, without an early exit, decides it.
        if is_ascii(&self.data) {
            return true;
        }
        simdutf8::basic::from_utf8(&self.data).is_ok_and(|text| {
            self.offsets
                .iter()
                .all(|&at| text.is_char_boundary(at as usize))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_told_from_any_wider_byte_wherever_it_is() {
        for len in [0, 1, 7, 8, 31, 32, 33, 64, 100] {
            assert!(is_ascii(&vec![b'a'; len]));
            for at in 0..len {
                let mut bytes = vec![0x7f; len];
                bytes[at] = 0x80;
                assert!(!is_ascii(&bytes), "{len} {at}");
            }
        }
    }

    #[test]
    fn rows_read_what_the_column_holds() {
        let values = [Some("a"), None, Some(""), Some("héllo"), Some("x")];
        let rows = StrColumn::from_options(values).into_rows();
        assert_eq!(rows.len(), 5);
        assert_eq!(
            (0..6).map(|r| rows.get(r)).collect::<Vec<_>>(),
            [&values[..], &[None]].concat()
        );
        assert!(rows.is_present(2) && !rows.is_present(1));
        let column = StrColumn::from_options(values);
        assert_eq!(
            column
                .clone()
                .into_rows()
                .iter_present()
                .collect::<Vec<_>>(),
            column.iter_present().collect::<Vec<_>>()
        );
        assert_eq!(
            column.iter_present().collect::<Vec<_>>(),
            column
                .iter()
                .enumerate()
                .filter_map(|(row, v)| Some((row, v?)))
                .collect::<Vec<_>>()
        );
        assert!(StrColumn::new().into_rows().is_empty());
        // A row split inside a character: each half is not UTF-8 (the whole is), so both read as
        // absent, as `StrColumn::get` reads them.
        let split = StrColumn {
            offsets: vec![0, 1, 2, 3],
            data: "éa".as_bytes().to_vec(),
            present: vec![1, 1, 1],
        };
        assert!(split.validate().unwrap_err().0.contains("row 0"));
        let rows = split.into_rows();
        assert_eq!(
            (0..3).map(|r| rows.get(r)).collect::<Vec<_>>(),
            [None, None, Some("a")]
        );
        // Bytes that are not UTF-8 anywhere, and offsets past the data: such rows read as
        // absent, the others as they are.
        let bad = StrColumn {
            offsets: vec![0, 1, 3, 9],
            data: vec![0xff, b'o', b'k'],
            present: vec![1, 1, 1],
        };
        let rows = bad.into_rows();
        assert_eq!(
            (0..3).map(|r| rows.get(r)).collect::<Vec<_>>(),
            [None, Some("ok"), None]
        );
    }

    #[test]
    fn column_round_trips_present_and_absent_values() {
        let column = StrColumn::from_options([Some("a"), None, Some(""), Some("héllo")]);
        assert_eq!(column.len(), 4);
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            vec![Some("a"), None, Some(""), Some("héllo")]
        );
        assert_eq!(column.offsets, vec![0, 1, 1, 1, 7]);
        column.validate().unwrap();
    }

    #[test]
    fn validate_rejects_bad_shapes() {
        let mut column = StrColumn::from_options([Some("ab")]);
        column.offsets.push(2);
        assert!(column.validate().unwrap_err().0.contains("offsets"));

        let bad_utf8 = StrColumn {
            offsets: vec![0, 1],
            data: vec![0xff],
            present: vec![1],
        };
        assert!(bad_utf8.validate().unwrap_err().0.contains("UTF-8"));

        let absent_with_bytes = StrColumn {
            offsets: vec![0, 1],
            data: vec![b'a'],
            present: vec![0],
        };
        assert!(absent_with_bytes.validate().is_err());
    }

    #[test]
    fn present_rows_and_scalar_columns() {
        let column = StrColumn::from_options([None, Some("a"), None, Some("b")]);
        assert_eq!(column.present_rows(), vec![1, 3]);
        assert!(column.is_present(1) && !column.is_present(2) && !column.is_present(9));
        assert_eq!(
            StrColumn::repeat("x", 3).iter().collect::<Vec<_>>(),
            vec![Some("x"); 3]
        );

        let ints = IntColumn::from_options([Some(-4), None, Some(7)]);
        assert_eq!(ints.values, vec![-4, 0, 7]);
        assert_eq!(ints.present_rows(), vec![0, 2]);
        assert_eq!(ints.get(1), None);
        assert_eq!(
            ints.iter().collect::<Vec<_>>(),
            vec![Some(-4), None, Some(7)]
        );
    }

    #[test]
    fn bytes_columns_take_any_bytes_and_check_their_shape() {
        let mut column = BytesColumn::default();
        column.push(Some(&[0xff, 0]));
        column.push(None);
        column.push(Some(b""));
        assert_eq!(column.offsets, vec![0, 2, 2, 2]);
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            vec![Some(&[0xff, 0][..]), None, Some(&b""[..])]
        );
        column.validate().unwrap();
        assert_eq!(BytesColumn::default().validate(), Ok(()));
        let backwards = BytesColumn {
            offsets: vec![0, 2, 1, 2],
            data: vec![1, 2],
            present: vec![1, 1, 1],
        };
        assert!(backwards.validate().unwrap_err().0.contains("decrease"));
        let from_text = BytesColumn::from(StrColumn::from_options([Some("a")]));
        assert_eq!(from_text.get(0), Some(&b"a"[..]));
    }

    #[test]
    fn only_some_fields_are_writable() {
        assert!(StrField::Name.is_writable());
        assert!(!StrField::ScopeName.is_writable());
        assert_eq!(StrField::EventName.level(), Level::Event);
    }
}
