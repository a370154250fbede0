//! [`Index`]: a batch read and edited in its wire form, without being decoded.
//!
//! The receiver's scan ([`crate::decode::scan_into`]) notes where each resource spans, scope
//! spans and span of the request is, and a few fields of each span (trace id, tracestate,
//! times, how many events and links). The reads a sampler or a filter makes (trace ids, times,
//! tracestates, span and resource attributes) are answered from those notes and the bytes; the edits a
//! sampler makes (dropping spans, setting tracestates) change only the notes. The bytes are
//! written out once, when the batch is encoded ([`Index::encode`]): each untouched span is
//! copied as it came, an edited one with its new tracestate, and the lengths of the messages
//! around them worked out again. A read or an edit the index does not answer decodes the batch
//! as [`Index::encode`] would write it, and goes on from there.

use crate::decode::{LEN, Reader, Scanned, Sink, SpanSeen, key_hash, scan_into};
use crate::journal::Edit;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use prost::Message;
use prost::encoding::{encode_varint, encoded_len_varint};
use spanwise_abi::{BoolColumn, DoubleColumn, IntColumn, Level, StrColumn, Value};

/// A part of the request's bytes: where it starts and how long it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct At {
    start: u32,
    len: u32,
}

impl At {
    fn of(base: &[u8], part: &[u8]) -> Self {
        // An absent field is an empty slice from anywhere.
        if part.is_empty() {
            return At::default();
        }
        // Every other part borrows from `base` (the scan's slices), and `base` fits in `u32`.
        let start = part.as_ptr() as usize - base.as_ptr() as usize;
        At {
            start: start as u32,
            len: part.len() as u32,
        }
    }

    fn of_bytes<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        &bytes[self.start as usize..(self.start + self.len) as usize]
    }
}

/// One span row.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// The scope spans it is in (an index into [`Index::scopes`]).
    scope: u32,
    /// The span message's payload.
    span: At,
    trace_id: At,
    /// The tracestate: in the bytes, or in [`Index::states`] once set (`state_set`).
    state: At,
    state_set: bool,
    start: u64,
    end: u64,
    events: u32,
    links: u32,
    status: u8,
    flags: u32,
    /// Its attribute keys, as [`Keys::row_bits`] marks them.
    keys: u128,
}

/// Where each part of a request is, and the edits made since the bytes were received.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Every resource spans message's payload, in request order.
    resources: Vec<At>,
    /// Every scope spans message: the resource it is in and its payload.
    scopes: Vec<(u32, At)>,
    /// The span rows, in request order, without the dropped ones.
    rows: Vec<Row>,
    /// The tracestates set since, back to back.
    states: Vec<u8>,
    /// Whether some span was dropped: scopes and resources left without spans then go when the
    /// batch is written, as they go from a decoded batch.
    dropped: bool,
    /// Whether anything was edited: the bytes no longer hold the batch as it is.
    edited: bool,
    events: usize,
    links: usize,
    /// Every span's attribute keys, as [`Keys::batch_bits`] marks them (of the spans
    /// received: a superset after drops).
    keys: [u64; 16],
}

/// Builds an [`Index`] from what a scan tells it.
struct Builder<'a> {
    base: &'a [u8],
    index: Index,
    /// The keys of the span being scanned.
    row_keys: u128,
}

impl<'a> Sink<'a> for Builder<'a> {
    const KEYS: bool = true;

    fn span_key(&mut self, hash: u64) {
        self.row_keys |= Keys::row_bits(hash);
        for bit in Keys::batch_bits(hash) {
            self.index.keys[bit / 64] |= 1 << (bit % 64);
        }
    }

    fn resource(&mut self, payload: &'a [u8]) {
        self.index.resources.push(At::of(self.base, payload));
    }

    fn scope(&mut self, payload: &'a [u8]) {
        let resource = self.index.resources.len() as u32 - 1;
        self.index
            .scopes
            .push((resource, At::of(self.base, payload)));
    }

    fn span(&mut self, payload: &'a [u8], seen: SpanSeen<'a>) {
        let index = &mut self.index;
        index.events += seen.events as usize;
        index.links += seen.links as usize;
        index.rows.push(Row {
            scope: index.scopes.len() as u32 - 1,
            span: At::of(self.base, payload),
            trace_id: At::of(self.base, seen.trace_id),
            state: At::of(self.base, seen.trace_state),
            state_set: false,
            start: seen.start,
            end: seen.end,
            events: seen.events,
            links: seen.links,
            status: seen.status,
            flags: seen.flags,
            keys: std::mem::take(&mut self.row_keys),
        });
    }
}

impl Index {
    /// Scan `bytes` and note where everything is: `None` when the fast decoder would not take
    /// them (as [`crate::decode::scan_request`]) or they are too long to index (4 GiB).
    pub(crate) fn build(bytes: &[u8]) -> Option<(Scanned, Index)> {
        u32::try_from(bytes.len()).ok()?;
        let mut builder = Builder {
            base: bytes,
            index: Index::default(),
            row_keys: 0,
        };
        let scanned = scan_into(bytes, &mut builder)?;
        Some((scanned, builder.index))
    }

    /// The number of span rows.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The number of event rows.
    pub(crate) fn events(&self) -> usize {
        self.events
    }

    /// The number of link rows.
    pub(crate) fn links(&self) -> usize {
        self.links
    }

    /// Whether an edit was applied since the bytes were received.
    pub(crate) fn edited(&self) -> bool {
        self.edited
    }

    /// The number of resource spans [`Index::encode`] writes.
    pub(crate) fn resource_count(&self) -> usize {
        if !self.dropped {
            return self.resources.len();
        }
        let mut count = 0;
        let mut last = None;
        for row in &self.rows {
            let resource = self.scopes[row.scope as usize].0;
            if last != Some(resource) {
                count += 1;
                last = Some(resource);
            }
        }
        count
    }

    /// Trace ids, 16 bytes per span, padded or cut as [`crate::Decoded::trace_ids`] does.
    pub(crate) fn trace_ids(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.rows.len() * 16);
        for row in &self.rows {
            let id = row.trace_id.of_bytes(bytes);
            match <&[u8; 16]>::try_from(id) {
                // Every id an SDK sends: a fixed-size copy.
                Ok(id) => out.extend_from_slice(id),
                Err(_) => crate::batch::push_fixed(&mut out, id, 16),
            }
        }
        out
    }

    /// Start times in nanoseconds.
    pub(crate) fn start_times(&self) -> Vec<u64> {
        self.rows.iter().map(|row| row.start).collect()
    }

    /// End times in nanoseconds.
    pub(crate) fn end_times(&self) -> Vec<u64> {
        self.rows.iter().map(|row| row.end).collect()
    }

    /// Status codes as OTLP numbers.
    pub(crate) fn status_codes(&self) -> Vec<u8> {
        self.rows.iter().map(|row| row.status).collect()
    }

    /// Span flags.
    pub(crate) fn flags(&self) -> Vec<u32> {
        self.rows.iter().map(|row| row.flags).collect()
    }

    /// Durations in nanoseconds, 0 where the end precedes the start.
    pub(crate) fn durations(&self) -> Vec<u64> {
        self.rows
            .iter()
            .map(|row| row.end.saturating_sub(row.start))
            .collect()
    }

    /// Each span's tracestate.
    pub(crate) fn trace_states(&self, bytes: &[u8]) -> StrColumn {
        if self.rows.iter().all(|row| row.state.len == 0) {
            // Most batches: no span has one.
            return StrColumn {
                offsets: vec![0; self.rows.len() + 1],
                data: Vec::new(),
                present: vec![1; self.rows.len()],
            };
        }
        let mut out = StrColumn::with_capacity(self.rows.len(), 0);
        for row in &self.rows {
            push_text(&mut out, Some(self.state(bytes, row)));
        }
        out
    }

    /// The number of spans with a non-empty tracestate.
    pub(crate) fn trace_state_count(&self) -> usize {
        self.rows.iter().filter(|row| row.state.len > 0).count()
    }

    fn state<'a>(&'a self, bytes: &'a [u8], row: &Row) -> &'a [u8] {
        if row.state_set {
            row.state.of_bytes(&self.states)
        } else {
            row.state.of_bytes(bytes)
        }
    }

    /// The attributes row `at` has at `level`, in the order they came: its own at
    /// [`Level::Span`], its resource's at [`Level::Resource`] (the two levels the index reads).
    fn attributes<'a>(&self, bytes: &'a [u8], level: Level, at: &Row) -> Attributes<'a> {
        match level {
            Level::Resource => {
                let payload = self.resources[self.resource_of(at)].of_bytes(bytes);
                // The resource is field 1 of its resource spans (given at most once: the scan
                // refuses it twice), its attributes field 1 of the resource.
                Attributes::new(message_field(payload, 1).unwrap_or_default(), 1)
            }
            _ => Attributes::new(at.span.of_bytes(bytes), 9),
        }
    }

    fn resource_of(&self, at: &Row) -> usize {
        self.scopes[at.scope as usize].0 as usize
    }

    /// Whether row `at` must read its attributes at `level`, or has the same ones as the row
    /// read before it: at the resource level, rows of one resource come one after another, so
    /// each resource's attributes are read once per run of its rows (`last`: the resource read
    /// last).
    fn reads(&self, level: Level, at: &Row, last: &mut Option<usize>) -> bool {
        if level != Level::Resource {
            return true;
        }
        let resource = self.resource_of(at);
        last.replace(resource) != Some(resource)
    }

    /// For each of `keys`, the rows that have it at `level`, ascending (as
    /// [`crate::Decoded::attribute_rows`]).
    pub(crate) fn attribute_rows(
        &self,
        bytes: &[u8],
        level: Level,
        keys: &[&str],
    ) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); keys.len()];
        // Span keys are marked by the scan: a batch or a row without them is not read.
        let marks = match level {
            Level::Resource => None,
            _ => match self.marks(keys) {
                Some(marks) => Some(marks),
                None => return out,
            },
        };
        let mut has = vec![false; keys.len()];
        let mut last = None;
        for (row, at) in self.rows.iter().enumerate() {
            if let Some(marks) = &marks
                && !marks.iter().any(|&m| may_have(at.keys, m))
            {
                continue;
            }
            if self.reads(level, at, &mut last) {
                has.fill(false);
                for kv in self.attributes(bytes, level, at) {
                    for (i, key) in keys.iter().enumerate() {
                        has[i] |= key.as_bytes() == kv.key;
                    }
                }
            }
            for (rows, _) in out.iter_mut().zip(&has).filter(|(_, has)| **has) {
                rows.push(row as u32);
            }
        }
        out
    }

    /// Each key's [`Keys::row_bits`], or `None` when no span of the batch has any of them.
    fn marks(&self, keys: &[&str]) -> Option<Vec<u128>> {
        let hashes: Vec<u64> = keys.iter().map(|key| key_hash(key.as_bytes())).collect();
        hashes
            .iter()
            .any(|&hash| self.batch_may_have(hash))
            .then(|| hashes.into_iter().map(Keys::row_bits).collect())
    }

    /// Whether some span of the batch may have the key of `hash`.
    fn batch_may_have(&self, hash: u64) -> bool {
        Keys::batch_bits(hash)
            .iter()
            .all(|&bit| self.keys[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// Each row's first attribute named `key` at `level`, as [`crate::Decoded::str_attribute`]
    /// finds it, read by `read` (`None` where the row has none); at the resource level read
    /// once per run of a resource's rows.
    fn first_found<'a, T: Clone + 'a>(
        &'a self,
        bytes: &'a [u8],
        level: Level,
        key: &'a str,
        read: impl Fn(Kv<'a>) -> T + 'a,
    ) -> impl Iterator<Item = Option<T>> + 'a {
        let hash = key_hash(key.as_bytes());
        let marks = Keys::row_bits(hash);
        let any = self.batch_may_have(hash);
        let mut last = None;
        let mut found = None;
        self.rows.iter().map(move |at| {
            if level == Level::Span && !(any && may_have(at.keys, marks)) {
                found = None;
            } else if self.reads(level, at, &mut last) {
                found = self
                    .attributes(bytes, level, at)
                    .find(|kv| kv.key == key.as_bytes())
                    .map(&read);
            }
            found.clone()
        })
    }

    /// One attribute's scalar value in each row at `level`, read by `pick`.
    fn first_values<'a, T>(
        &'a self,
        bytes: &'a [u8],
        level: Level,
        key: &'a str,
        mut pick: impl FnMut(Option<Scalar<'a>>) -> T + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        self.first_found(bytes, level, key, |kv| kv.value.map(Scalar::of))
            .map(move |value| pick(value.flatten()))
    }

    /// One attribute as strings: absent where missing or not a string.
    pub(crate) fn str_attribute(&self, bytes: &[u8], level: Level, key: &str) -> StrColumn {
        let mut out = StrColumn::with_capacity(self.rows.len(), 0);
        for value in self.first_values(bytes, level, key, |v| match v {
            Some(Scalar::Str(text)) => Some(text),
            _ => None,
        }) {
            push_text(&mut out, value);
        }
        out
    }

    /// Several attributes as strings, one column per key, each row's attributes read once.
    pub(crate) fn str_attributes(
        &self,
        bytes: &[u8],
        level: Level,
        keys: &[&str],
    ) -> Vec<StrColumn> {
        let mut out: Vec<StrColumn> = keys
            .iter()
            .map(|_| StrColumn::with_capacity(self.rows.len(), 0))
            .collect();
        let mut found: Vec<Option<Option<&[u8]>>> = vec![None; keys.len()];
        let marks = match level {
            Level::Resource => None,
            _ => Some(self.marks(keys).unwrap_or_default()),
        };
        let mut last = None;
        for at in &self.rows {
            let walk = match &marks {
                Some(marks) => marks.iter().any(|&m| may_have(at.keys, m)),
                None => true,
            };
            if !walk || self.reads(level, at, &mut last) {
                found.iter_mut().for_each(|f| *f = None);
                for kv in self.attributes(bytes, level, at).take_while(|_| walk) {
                    for (i, key) in keys.iter().enumerate() {
                        if found[i].is_none() && key.as_bytes() == kv.key {
                            found[i] = Some(match kv.value.map(Scalar::of) {
                                Some(Scalar::Str(text)) => Some(text),
                                _ => None,
                            });
                        }
                    }
                }
            }
            for (column, value) in out.iter_mut().zip(&found) {
                push_text(column, value.flatten());
            }
        }
        out
    }

    /// One attribute as integers: absent where missing or not an integer.
    pub(crate) fn int_attribute(&self, bytes: &[u8], level: Level, key: &str) -> IntColumn {
        let mut out = IntColumn {
            values: Vec::with_capacity(self.rows.len()),
            present: Vec::with_capacity(self.rows.len()),
        };
        for value in self.first_values(bytes, level, key, |v| match v {
            Some(Scalar::Int(i)) => Some(i),
            _ => None,
        }) {
            out.push(value);
        }
        out
    }

    /// One attribute as floats: absent where missing or not a double.
    pub(crate) fn double_attribute(&self, bytes: &[u8], level: Level, key: &str) -> DoubleColumn {
        let mut out = DoubleColumn {
            values: Vec::with_capacity(self.rows.len()),
            present: Vec::with_capacity(self.rows.len()),
        };
        for value in self.first_values(bytes, level, key, |v| match v {
            Some(Scalar::Double(d)) => Some(d),
            _ => None,
        }) {
            out.push(value);
        }
        out
    }

    /// One attribute as booleans: absent where missing or not a boolean.
    pub(crate) fn bool_attribute(&self, bytes: &[u8], level: Level, key: &str) -> BoolColumn {
        let mut out = BoolColumn {
            values: Vec::with_capacity(self.rows.len()),
            present: Vec::with_capacity(self.rows.len()),
        };
        for value in self.first_values(bytes, level, key, |v| match v {
            Some(Scalar::Bool(b)) => Some(b),
            _ => None,
        }) {
            out.push(value);
        }
        out
    }

    /// One attribute of any type at `level` (see [`crate::Decoded::attribute`]).
    pub(crate) fn attribute(&self, bytes: &[u8], level: Level, key: &str) -> Vec<Option<Value>> {
        self.first_found(bytes, level, key, |kv| match kv.value {
            // A key with no value at all: present, and empty.
            None => Value::Complex(Vec::new()),
            Some(payload) => AnyValue::decode(payload)
                .ok()
                .and_then(|any| crate::value::from_any(&any))
                .unwrap_or(Value::Complex(Vec::new())),
        })
        .collect()
    }

    /// Whether every edit of `edits` is one the index applies (drops, tracestates).
    pub(crate) fn takes(edits: &[Edit]) -> bool {
        edits.iter().all(|edit| {
            matches!(
                edit,
                Edit::DropSpans { .. }
                    | Edit::SetStrField {
                        field: spanwise_abi::StrField::TraceState,
                        ..
                    }
                    | Edit::FillStrField {
                        field: spanwise_abi::StrField::TraceState,
                        ..
                    }
            )
        })
    }

    /// Apply `edits` (all of them ones [`Index::takes`], checked against this batch's rows by
    /// the journal), in order, drops last, as [`crate::Decoded::apply`] applies them.
    pub(crate) fn apply(&mut self, edits: Vec<Edit>) {
        let mut dropped: Vec<bool> = Vec::new();
        for edit in edits {
            self.edited = true;
            match edit {
                Edit::SetStrField { rows, values, .. } => {
                    // The journal checked the column (every value present, offsets in
                    // order, UTF-8): its bytes are taken whole.
                    let base = self.states.len() as u32;
                    self.states.extend_from_slice(&values.data);
                    for (row, ends) in rows.into_iter().zip(values.offsets.windows(2)) {
                        let row = &mut self.rows[row as usize];
                        row.state = At {
                            start: base + ends[0],
                            len: ends[1] - ends[0],
                        };
                        row.state_set = true;
                    }
                }
                Edit::FillStrField { rows, value, .. } => {
                    // Every row points at one copy of the value.
                    let state = At {
                        start: self.states.len() as u32,
                        len: value.len() as u32,
                    };
                    self.states.extend_from_slice(value.as_bytes());
                    for row in rows {
                        let row = &mut self.rows[row as usize];
                        row.state = state;
                        row.state_set = true;
                    }
                }
                Edit::DropSpans { rows } => {
                    if dropped.is_empty() {
                        dropped = vec![false; self.rows.len()];
                    }
                    for row in rows {
                        dropped[row as usize] = true;
                    }
                }
                _ => unreachable!("Index::takes admits only drops and tracestates"),
            }
        }
        if dropped.iter().any(|&d| d) {
            self.dropped = true;
            let mut row = 0;
            let (mut events, mut links) = (self.events, self.links);
            self.rows.retain(|at| {
                let keep = !dropped[row];
                row += 1;
                if !keep {
                    events -= at.events as usize;
                    links -= at.links as usize;
                }
                keep
            });
            (self.events, self.links) = (events, links);
        }
    }

    /// Write the batch as an export request: what [`crate::encode_request`] writes of the
    /// decoded batch with the same edits, when the bytes came as a protobuf library writes
    /// them (fields in order); the same request in any case.
    pub(crate) fn encode(&self, bytes: &[u8], out: &mut Vec<u8>) {
        // Each row's span message length as it will be written.
        let lens: Vec<usize> = self
            .rows
            .iter()
            .map(|row| self.span_len(bytes, row))
            .collect();
        // Each scope's rows: `first[s]..first[s + 1]`.
        let mut first = Vec::with_capacity(self.scopes.len() + 1);
        let mut row = 0;
        for scope in 0..self.scopes.len() {
            first.push(row);
            while row < self.rows.len() && self.rows[row].scope as usize == scope {
                row += 1;
            }
        }
        first.push(row);
        let scope_len = |scope: usize| -> Option<usize> {
            let rows = first[scope]..first[scope + 1];
            if self.dropped && rows.is_empty() {
                return None;
            }
            let spans: usize = lens[rows].iter().map(|&len| field_len(len)).sum();
            Some(envelope_len(self.scopes[scope].1.of_bytes(bytes)) + spans)
        };
        let mut scope = 0;
        for (resource, at) in self.resources.iter().enumerate() {
            let payload = at.of_bytes(bytes);
            let scopes_start = scope;
            while scope < self.scopes.len() && self.scopes[scope].0 as usize == resource {
                scope += 1;
            }
            let scopes = scopes_start..scope;
            let listed: usize = scopes.clone().filter_map(&scope_len).map(field_len).sum();
            if self.dropped && listed == 0 {
                continue;
            }
            let resource_len = envelope_len(payload) + listed;
            out.reserve(field_len(resource_len));
            out.push(0x0a);
            encode_varint(resource_len as u64, out);
            write_envelope(payload, Part::Head, out);
            for s in scopes {
                let Some(len) = scope_len(s) else { continue };
                let scope_payload = self.scopes[s].1.of_bytes(bytes);
                out.push(0x12);
                encode_varint(len as u64, out);
                write_envelope(scope_payload, Part::Head, out);
                let rows = first[s]..first[s + 1];
                for (row, &len) in self.rows[rows.clone()].iter().zip(&lens[rows]) {
                    self.write_span(bytes, row, len, out);
                }
                write_envelope(scope_payload, Part::Tail, out);
            }
            write_envelope(payload, Part::Tail, out);
        }
    }

    /// The length of row `row`'s span message as it will be written.
    fn span_len(&self, bytes: &[u8], row: &Row) -> usize {
        let span = row.span.of_bytes(bytes);
        if !row.state_set {
            return span.len();
        }
        let mut old = 0;
        each_field(span, |number, raw| {
            if number == 3 {
                old += raw.len();
            }
        });
        span.len() - old + text_field_len(row.state.len as usize)
    }

    /// Write one span field: as it came, or with its tracestate replaced.
    fn write_span(&self, bytes: &[u8], row: &Row, len: usize, out: &mut Vec<u8>) {
        out.push(0x12);
        encode_varint(len as u64, out);
        let span = row.span.of_bytes(bytes);
        if !row.state_set {
            out.extend_from_slice(span);
            return;
        }
        let state = row.state.of_bytes(&self.states);
        let mut written = false;
        each_field(span, |number, raw| {
            if number == 3 {
                return;
            }
            if number > 3 && !written {
                write_text_field(3, state, out);
                written = true;
            }
            out.extend_from_slice(raw);
        });
        if !written {
            write_text_field(3, state, out);
        }
    }
}

/// The two filters of attribute keys an index keeps (Bloom filters: a key's bits missing means
/// the key is missing): three bits of 128 per span, and three of 1,024 for the whole batch,
/// each from its own bits of the key's [`key_hash`]. With the twenty keys of a W2 span, a key
/// the span lacks passes its filter one time in twenty; with the batch's forty or so distinct
/// keys, one time in a few hundred.
struct Keys;

impl Keys {
    fn row_bits(hash: u64) -> u128 {
        (1 << (hash & 127)) | (1 << ((hash >> 7) & 127)) | (1 << ((hash >> 14) & 127))
    }

    fn batch_bits(hash: u64) -> [usize; 3] {
        [21, 31, 41].map(|shift| ((hash >> shift) & 1023) as usize)
    }
}

/// Whether keys marked `keys` may include a key marked `key`.
#[inline]
fn may_have(keys: u128, key: u128) -> bool {
    keys & key == key
}

/// Push `value` (UTF-8: the scan checked every string of the request, and the journal every
/// tracestate set since) onto a string column.
fn push_text(column: &mut StrColumn, value: Option<&[u8]>) {
    if let Some(bytes) = value {
        column.data.extend_from_slice(bytes);
    }
    column.offsets.push(column.data.len() as u32);
    column.present.push(u8::from(value.is_some()));
}

/// One attribute as it is on the wire: its key, and its `AnyValue` payload if it has one.
struct Kv<'a> {
    key: &'a [u8],
    value: Option<&'a [u8]>,
}

/// The attributes of a message: its key-value fields numbered `field` (9 in a span, 1 in a
/// resource).
struct Attributes<'a> {
    reader: Reader<'a>,
    field: u32,
}

impl<'a> Attributes<'a> {
    fn new(message: &'a [u8], field: u32) -> Self {
        Attributes {
            reader: Reader::new(message),
            field,
        }
    }
}

/// The payload of the first message field numbered `number` of `message`.
fn message_field(message: &[u8], number: u32) -> Option<&[u8]> {
    let mut reader = Reader::new(message);
    while !reader.done() {
        let (n, wire) = reader.key()?;
        if n == number && wire == LEN {
            return reader.len_delimited();
        }
        reader.skip(wire)?;
    }
    None
}

impl<'a> Iterator for Attributes<'a> {
    type Item = Kv<'a>;

    fn next(&mut self) -> Option<Kv<'a>> {
        while !self.reader.done() {
            let (number, wire) = self.reader.key()?;
            if number == self.field && wire == LEN {
                let payload = self.reader.len_delimited()?;
                let mut kv = Kv {
                    key: &[],
                    value: None,
                };
                let mut reader = Reader::new(payload);
                while !reader.done() {
                    let (number, wire) = reader.key()?;
                    match (number, wire) {
                        (1, LEN) => kv.key = reader.len_delimited()?,
                        (2, LEN) => kv.value = Some(reader.len_delimited()?),
                        _ => reader.skip(wire)?,
                    }
                }
                return Some(kv);
            }
            self.reader.skip(wire)?;
        }
        None
    }
}

/// An `AnyValue` as the typed reads see it.
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Str(&'a [u8]),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Bytes, an array, a map, or no value.
    Other,
}

impl<'a> Scalar<'a> {
    /// An `AnyValue` payload (the scan let through at most one of its fields).
    fn of(payload: &'a [u8]) -> Self {
        let mut reader = Reader::new(payload);
        let Some((number, wire)) = reader.key() else {
            return Scalar::Other;
        };
        let value = match number {
            1 => reader.len_delimited().map(Scalar::Str),
            2 => reader.varint().map(|v| Scalar::Bool(v != 0)),
            3 => reader.varint().map(|v| Scalar::Int(v as i64)),
            4 => reader
                .raw_fixed64()
                .map(|v| Scalar::Double(f64::from_bits(v))),
            _ => {
                let _ = wire;
                None
            }
        };
        value.unwrap_or(Scalar::Other)
    }
}

/// Which fields of a resource spans or scope spans message [`write_envelope`] writes.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// Those numbered below 2 (the resource, the scope).
    Head,
    /// Those numbered above 2 (the schema URL).
    Tail,
}

/// The bytes of a resource spans or scope spans payload's fields other than its list (2).
fn envelope_len(payload: &[u8]) -> usize {
    let mut len = 0;
    each_field(payload, |number, raw| {
        if number != 2 {
            len += raw.len();
        }
    });
    len
}

fn write_envelope(payload: &[u8], part: Part, out: &mut Vec<u8>) {
    each_field(payload, |number, raw| {
        let wanted = match part {
            Part::Head => number < 2,
            Part::Tail => number > 2,
        };
        if wanted {
            out.extend_from_slice(raw);
        }
    });
}

/// Call `field(number, the whole field as encoded)` for each field of a message the scan
/// took.
fn each_field<'a>(bytes: &'a [u8], mut field: impl FnMut(u32, &'a [u8])) {
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        let start = bytes.len() - reader.bytes.len();
        let Some((number, wire)) = reader.key() else {
            return;
        };
        if reader.skip(wire).is_none() {
            return;
        }
        let end = bytes.len() - reader.bytes.len();
        field(number, &bytes[start..end]);
    }
}

/// The bytes of a length-delimited field numbered below 16 holding `len` bytes.
fn field_len(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

/// The bytes of a string field numbered below 16: none when it is empty, as protobuf omits a
/// default value.
fn text_field_len(len: usize) -> usize {
    if len == 0 { 0 } else { field_len(len) }
}

fn write_text_field(number: u8, text: &[u8], out: &mut Vec<u8>) {
    if text.is_empty() {
        return;
    }
    out.push(number << 3 | LEN);
    encode_varint(text.len() as u64, out);
    out.extend_from_slice(text);
}

#[cfg(test)]
mod tests;
