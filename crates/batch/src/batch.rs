//! [`Batch`]: OTLP spans with a row index, answering the columnar reads of the WIT
//! `span-batch` resource. A batch received as protobuf stays in its wire form until something
//! reads or edits it ([`Decoded`]); one that nothing touches goes out as the bytes it came in as.

use crate::EditError;
use crate::decode::{decode_request, scan_request};
use crate::journal::{Edit, Journal};
use crate::keys::{DistinctKeys, RowKeys};
use crate::value;
use crate::wire::Index;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use spanwise_abi::{BoolColumn, DoubleColumn, IntColumn, Level, StrColumn, StrField, Value};
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

/// Where one span row lives inside the request: resource, scope and span index.
#[derive(Debug, Clone, Copy)]
struct SpanRef {
    resource: u32,
    scope: u32,
    span: u32,
}

/// What [`Decoded::apply`] did that the processor's counters report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// Attribute values replaced by their digests (`hash-attributes` edits).
    pub hashed: u64,
}

/// A batch of spans owned by the host.
///
/// A batch made from request bytes ([`Batch::from_encoded`]) keeps them, checked by a scan
/// that builds nothing, and decodes them the first time it is read or edited: every read and
/// edit of [`Decoded`] is reached through `Batch` (it dereferences to it). Until an edit, the
/// bytes stay valid ([`Batch::encoded`]), so a batch that passes through untouched is never
/// decoded or encoded again. Batches in wire form append by concatenating their bytes (an
/// export request is one repeated field, so two requests' bytes back to back are one request).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    decoded: OnceLock<Decoded>,
    /// The request as received, while nothing has edited it.
    wire: Option<Wire>,
}

/// A request's bytes, as a scan found them.
#[derive(Debug, Clone)]
struct Wire {
    bytes: Bytes,
    spans: usize,
    resources: usize,
    /// Where each span is and the edits since, when the batch was taken to be read in this
    /// form ([`Batch::from_encoded_indexed`]).
    index: Option<Box<Index>>,
}

impl Batch {
    /// Take ownership of a decoded export request.
    pub fn from_request(request: ExportTraceServiceRequest) -> Self {
        Self::from_decoded(Decoded::from_resource_spans(request.resource_spans))
    }

    /// Take ownership of decoded resource spans.
    pub fn from_resource_spans(resource_spans: Vec<ResourceSpans>) -> Self {
        Self::from_decoded(Decoded::from_resource_spans(resource_spans))
    }

    /// An export request in protobuf: kept as it is when the fast decoder takes it (checked now,
    /// decoded when first read), else decoded at once as prost decodes it, or refused with
    /// prost's error.
    pub fn from_encoded(bytes: Bytes) -> Result<Self, prost::DecodeError> {
        match scan_request(&bytes) {
            Some(scanned) => Ok(Self {
                decoded: OnceLock::new(),
                wire: Some(Wire {
                    bytes,
                    spans: scanned.spans,
                    resources: scanned.resources,
                    index: None,
                }),
            }),
            None => decode_request(&bytes).map(Self::from_request),
        }
    }

    /// [`Batch::from_encoded`], noting during the scan where each span is, so that the reads
    /// and edits samplers and filters make are answered from the bytes without decoding them
    /// (see `wire.rs`); anything else decodes the batch when it first needs to.
    pub fn from_encoded_indexed(bytes: Bytes) -> Result<Self, prost::DecodeError> {
        match Index::build(&bytes) {
            Some((scanned, index)) => Ok(Self {
                decoded: OnceLock::new(),
                wire: Some(Wire {
                    bytes,
                    spans: scanned.spans,
                    resources: scanned.resources,
                    index: Some(Box::new(index)),
                }),
            }),
            None => Self::from_encoded(bytes),
        }
    }

    fn from_decoded(decoded: Decoded) -> Self {
        Self {
            decoded: OnceLock::from(decoded),
            wire: None,
        }
    }

    /// The request's bytes as received, while nothing has edited the batch since.
    pub fn encoded(&self) -> Option<&Bytes> {
        self.wire
            .as_ref()
            .filter(|wire| !wire.index.as_ref().is_some_and(|index| index.edited()))
            .map(|wire| &wire.bytes)
    }

    /// The batch as an export request in protobuf, while it is in wire form (edited there or
    /// not): what [`Batch::to_bytes`] gives, for a reader that would rather split bytes than
    /// encode decoded spans.
    pub fn wire_bytes(&self) -> Option<Bytes> {
        self.wire.as_ref().map(|_| self.to_bytes())
    }

    /// The batch as an export request in protobuf: the bytes it came as while nothing edited
    /// it (no copy), the spans of an edited wire form written around its edits, else its
    /// decoded spans encoded now.
    pub fn to_bytes(&self) -> Bytes {
        if let Some(wire) = &self.wire {
            return match &wire.index {
                Some(index) if index.edited() => {
                    let mut out = Vec::with_capacity(wire.bytes.len());
                    index.encode(&wire.bytes, &mut out);
                    out.into()
                }
                _ => wire.bytes.clone(),
            };
        }
        let spans = &self.decoded().resource_spans;
        // The exact size first (a sixth of the time of encoding): the bytes may be held a
        // while (an exporter's queue), and a buffer grown by doubling holds up to twice them.
        let len: usize = spans
            .iter()
            .map(|rs| prost::encoding::message::encoded_len(1, rs))
            .sum();
        let mut out = Vec::with_capacity(len);
        crate::encode_request(spans, &mut out);
        out.into()
    }

    /// Whether the batch is still in its wire form, not decoded yet.
    pub fn is_wire_only(&self) -> bool {
        self.wire.is_some() && self.decoded.get().is_none()
    }

    /// The decoded spans, decoded now if they are not yet.
    pub fn decoded(&self) -> &Decoded {
        self.decoded.get_or_init(|| match &self.wire {
            Some(_) => Decoded::from_resource_spans(
                decode_request(&self.to_bytes())
                    .expect("the scan takes only what the fast decoder decodes")
                    .resource_spans,
            ),
            None => Decoded::default(),
        })
    }

    /// Whether the batch is in indexed wire form ([`Batch::from_encoded_indexed`]) and not
    /// decoded: reads and edits of spans answered from the bytes.
    pub fn is_indexed(&self) -> bool {
        self.view().is_some()
    }

    /// The bytes and their index, while the batch is in indexed wire form and not decoded
    /// yet (once decoded, the decoded spans answer).
    fn view(&self) -> Option<(&[u8], &Index)> {
        if self.decoded.get().is_some() {
            return None;
        }
        let wire = self.wire.as_ref()?;
        Some((&wire.bytes, wire.index.as_deref()?))
    }

    /// The decoded spans, to edit: the wire form no longer holds once they may change.
    pub fn decoded_mut(&mut self) -> &mut Decoded {
        self.decoded();
        self.wire = None;
        self.decoded.get_mut().expect("decoded just now")
    }

    fn into_decoded(mut self) -> Decoded {
        self.decoded();
        self.decoded.take().expect("decoded just now")
    }

    /// Give the spans back as an export request.
    pub fn into_request(self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: self.into_decoded().resource_spans,
        }
    }

    /// Apply every edit of a journal, as [`Decoded::apply`] does: to the wire form's index
    /// when it holds only edits the index takes (drops, tracestates) and the batch was not
    /// decoded, else to the decoded spans.
    pub fn apply(&mut self, journal: Journal) -> Result<Applied, EditError> {
        if self.decoded.get().is_none()
            && let Some(wire) = &mut self.wire
            && let Some(index) = &mut wire.index
            && Index::takes(journal.edits())
        {
            journal.check_counts(index.len(), index.events(), index.links())?;
            index.apply(journal.into_edits());
            wire.spans = index.len();
            wire.resources = index.resource_count();
            return Ok(Applied::default());
        }
        self.decoded_mut().apply(journal)
    }

    /// The number of rows at a level.
    pub fn row_count(&self, level: Level) -> usize {
        match (self.view(), level) {
            (Some((_, index)), Level::Event) => index.events(),
            (Some((_, index)), Level::Link) => index.links(),
            (Some((_, index)), _) => index.len(),
            (None, _) => self.decoded().row_count(level),
        }
    }

    /// Trace ids, 16 bytes per span (see [`Decoded::trace_ids`]).
    pub fn trace_ids(&self) -> Vec<u8> {
        match self.view() {
            Some((bytes, index)) => index.trace_ids(bytes),
            None => self.decoded().trace_ids(),
        }
    }

    /// Start times in nanoseconds.
    pub fn start_times(&self) -> Vec<u64> {
        match self.view() {
            Some((_, index)) => index.start_times(),
            None => self.decoded().start_times(),
        }
    }

    /// End times in nanoseconds.
    pub fn end_times(&self) -> Vec<u64> {
        match self.view() {
            Some((_, index)) => index.end_times(),
            None => self.decoded().end_times(),
        }
    }

    /// Status codes as OTLP numbers.
    pub fn status_codes(&self) -> Vec<u8> {
        match self.view() {
            Some((_, index)) => index.status_codes(),
            None => self.decoded().status_codes(),
        }
    }

    /// Span flags, one per span.
    pub fn flags(&self) -> Vec<u32> {
        match self.view() {
            Some((_, index)) => index.flags(),
            None => self.decoded().flags(),
        }
    }

    /// Durations in nanoseconds, 0 where the end precedes the start.
    pub fn durations(&self) -> Vec<u64> {
        match self.view() {
            Some((_, index)) => index.durations(),
            None => self.decoded().durations(),
        }
    }

    /// One string field over every row of its level (see [`Decoded::str_field`]).
    pub fn str_field(&self, field: StrField) -> StrColumn {
        match (self.view(), field) {
            (Some((bytes, index)), StrField::TraceState) => index.trace_states(bytes),
            _ => self.decoded().str_field(field),
        }
    }

    /// The number of rows of [`Batch::str_field`]'s column whose value is a non-empty string,
    /// without building the column.
    pub fn str_field_count(&self, field: StrField) -> usize {
        match (self.view(), field) {
            (Some((_, index)), StrField::TraceState) => index.trace_state_count(),
            _ => self.decoded().str_field_count(field),
        }
    }

    /// The number of rows of a level that have the attribute `key` (see
    /// [`Decoded::attribute_rows`]).
    pub fn attribute_count(&self, level: Level, key: &str) -> usize {
        self.attribute_rows(level, &[key])
            .pop()
            .map_or(0, |rows| rows.len())
    }

    /// The wire view, when it answers attribute reads at `level` (span and resource) of
    /// `keys` (at most 8, none twice).
    fn attribute_view(&self, level: Level, keys: &[&str]) -> Option<(&[u8], &Index)> {
        let few = keys.len() <= 8
            && keys
                .iter()
                .enumerate()
                .all(|(i, key)| !keys[..i].contains(key));
        if matches!(level, Level::Span | Level::Resource) && few {
            self.view()
        } else {
            None
        }
    }

    /// For each of `keys`, the rows of a level that have it (see [`Decoded::attribute_rows`]).
    pub fn attribute_rows(&self, level: Level, keys: &[&str]) -> Vec<Vec<u32>> {
        match self.attribute_view(level, keys) {
            Some((bytes, index)) => index.attribute_rows(bytes, level, keys),
            None => self.decoded().attribute_rows(level, keys),
        }
    }

    /// One attribute as strings over every row of a level.
    pub fn str_attribute(&self, level: Level, key: &str) -> StrColumn {
        match self.attribute_view(level, &[key]) {
            Some((bytes, index)) => index.str_attribute(bytes, level, key),
            None => self.decoded().str_attribute(level, key),
        }
    }

    /// Several attributes as strings over every row of a level, one column per key.
    pub fn str_attributes(&self, level: Level, keys: &[&str]) -> Vec<StrColumn> {
        match self.attribute_view(level, keys) {
            Some((bytes, index)) => index.str_attributes(bytes, level, keys),
            None => self.decoded().str_attributes(level, keys),
        }
    }

    /// One attribute as integers over every row of a level.
    pub fn int_attribute(&self, level: Level, key: &str) -> IntColumn {
        match self.attribute_view(level, &[key]) {
            Some((bytes, index)) => index.int_attribute(bytes, level, key),
            None => self.decoded().int_attribute(level, key),
        }
    }

    /// One attribute as floats over every row of a level.
    pub fn double_attribute(&self, level: Level, key: &str) -> DoubleColumn {
        match self.attribute_view(level, &[key]) {
            Some((bytes, index)) => index.double_attribute(bytes, level, key),
            None => self.decoded().double_attribute(level, key),
        }
    }

    /// One attribute as booleans over every row of a level.
    pub fn bool_attribute(&self, level: Level, key: &str) -> BoolColumn {
        match self.attribute_view(level, &[key]) {
            Some((bytes, index)) => index.bool_attribute(bytes, level, key),
            None => self.decoded().bool_attribute(level, key),
        }
    }

    /// One attribute of any type over every row of a level.
    pub fn attribute(&self, level: Level, key: &str) -> Vec<Option<Value>> {
        match self.attribute_view(level, &[key]) {
            Some((bytes, index)) => index.attribute(bytes, level, key),
            None => self.decoded().attribute(level, key),
        }
    }

    /// The number of spans.
    pub fn len(&self) -> usize {
        match (&self.wire, self.decoded.get()) {
            (Some(wire), _) => wire.spans,
            (None, Some(decoded)) => decoded.len(),
            (None, None) => 0,
        }
    }

    /// Whether the batch holds no span.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of resource spans (resources, as sent: one may repeat).
    pub fn resource_count(&self) -> usize {
        match &self.wire {
            Some(wire) => wire.resources,
            None => self.decoded().resource_spans.len(),
        }
    }

    /// Move every span of `other` to the end of this batch. Two batches in wire form stay in
    /// wire form (their bytes one after the other).
    pub fn append(&mut self, other: Batch) {
        if other.wire.is_none() && other.decoded.get().is_none() {
            return;
        }
        if self.wire.is_none() && self.decoded.get().is_none() {
            *self = other;
            return;
        }
        if let (Some(mine), Some(theirs)) = (&self.wire, &other.wire) {
            let (spans, resources) = (mine.spans + theirs.spans, mine.resources + theirs.resources);
            let second = other.to_bytes();
            let first = self.to_bytes();
            // With the batch's own handle gone, the bytes of an earlier append are held only
            // here, and become a `Vec` again without a copy: a batch that many small ones are
            // appended to (the `batch` processor after `tail_sampling`) grows by doubling
            // instead of being copied whole at every append.
            *self = Batch::default();
            let mut bytes = Vec::from(first);
            bytes.extend_from_slice(&second);
            let wire = Wire {
                bytes: bytes.into(),
                spans,
                resources,
                index: None,
            };
            *self = Self {
                decoded: OnceLock::new(),
                wire: Some(wire),
            };
            return;
        }
        let other = other.into_decoded();
        self.decoded_mut().append(other);
    }

    /// Split off the spans from row `at` onwards into a new batch, keeping rows `0..at` here.
    ///
    /// Spans are moved, not copied; only the resource and scope that the split cuts through are
    /// cloned (their attributes, not their spans). The cost is linear in the rows that move.
    pub fn split_off(&mut self, at: usize) -> Batch {
        if at >= self.len() {
            return Batch::default();
        }
        if at == 0 {
            return std::mem::take(self);
        }
        Batch::from_decoded(self.decoded_mut().split_off(at))
    }

    /// Cut the batch into batches of at most `size` spans, in order (`size` 0 means one
    /// batch). Linear in the batch: each split moves only the spans of the last chunk.
    pub fn into_chunks(mut self, size: usize) -> Vec<Batch> {
        if size == 0 || self.len() <= size {
            return vec![self];
        }
        let mut chunks = Vec::with_capacity(self.len().div_ceil(size));
        while self.len() > size {
            let start = (self.len() - 1) / size * size;
            chunks.push(self.split_off(start));
        }
        chunks.push(self);
        chunks.reverse();
        chunks
    }
}

impl Deref for Batch {
    type Target = Decoded;

    fn deref(&self) -> &Decoded {
        self.decoded()
    }
}

impl DerefMut for Batch {
    fn deref_mut(&mut self) -> &mut Decoded {
        self.decoded_mut()
    }
}

/// Decoded spans: the OTLP tree and its row index.
///
/// The spans stay in their OTLP shape (resources holding scopes holding spans) so that encoding
/// for export needs no regrouping; a row index numbers the spans `0..len()` in the order they
/// were received. Every read is a column over the rows of one [`Level`].
#[derive(Debug, Clone, Default)]
pub struct Decoded {
    resource_spans: Vec<ResourceSpans>,
    rows: Vec<SpanRef>,
}

impl Decoded {
    fn from_resource_spans(resource_spans: Vec<ResourceSpans>) -> Self {
        let mut decoded = Self {
            resource_spans,
            rows: Vec::new(),
        };
        decoded.reindex();
        decoded
    }

    /// The spans as an export request, without giving up ownership.
    pub fn to_request(&self) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: self.resource_spans.clone(),
        }
    }

    /// The spans in their OTLP shape.
    pub fn resource_spans(&self) -> &[ResourceSpans] {
        &self.resource_spans
    }

    /// The number of spans.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the batch holds no span.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn append(&mut self, other: Decoded) {
        let offset = self.resource_spans.len() as u32;
        self.rows.extend(other.rows.iter().map(|at| SpanRef {
            resource: at.resource + offset,
            ..*at
        }));
        self.resource_spans.extend(other.resource_spans);
    }

    /// The spans from row `at` (in `1..len()`) onwards, moved out.
    fn split_off(&mut self, at: usize) -> Decoded {
        let SpanRef {
            resource: r,
            scope: s,
            span: i,
        } = self.rows[at];
        let (r, s, i) = (r as usize, s as usize, i as usize);
        let later_resources = self.resource_spans.split_off(r + 1);
        let resource = &mut self.resource_spans[r];
        let later_scopes = resource.scope_spans.split_off(s + 1);
        let scope = &mut resource.scope_spans[s];
        let moved_spans = scope.spans.split_off(i);
        let mut tail_scopes = Vec::with_capacity(later_scopes.len() + 1);
        tail_scopes.push(ScopeSpans {
            scope: scope.scope.clone(),
            spans: moved_spans,
            schema_url: scope.schema_url.clone(),
        });
        tail_scopes.extend(later_scopes);
        // The row at `at` opened its scope (and maybe its resource): nothing of it stays here.
        if i == 0 {
            resource.scope_spans.pop();
        }
        let mut tail_resources = Vec::with_capacity(later_resources.len() + 1);
        tail_resources.push(ResourceSpans {
            resource: resource.resource.clone(),
            scope_spans: tail_scopes,
            schema_url: resource.schema_url.clone(),
        });
        tail_resources.extend(later_resources);
        if resource.scope_spans.is_empty() {
            self.resource_spans.pop();
        }
        // Rows before `at` point at resources, scopes and spans that did not move.
        self.rows.truncate(at);
        Decoded::from_resource_spans(tail_resources)
    }

    fn reindex(&mut self) {
        self.rows.clear();
        for (r, resource) in self.resource_spans.iter().enumerate() {
            for (s, scope) in resource.scope_spans.iter().enumerate() {
                for i in 0..scope.spans.len() {
                    self.rows.push(SpanRef {
                        resource: r as u32,
                        scope: s as u32,
                        span: i as u32,
                    });
                }
            }
        }
    }

    fn span_mut(&mut self, row: usize) -> &mut Span {
        let at = self.rows[row];
        &mut self.resource_spans[at.resource as usize].scope_spans[at.scope as usize].spans
            [at.span as usize]
    }

    fn spans(&self) -> impl Iterator<Item = &Span> + '_ {
        self.resource_spans
            .iter()
            .flat_map(|r| r.scope_spans.iter())
            .flat_map(|s| s.spans.iter())
    }

    /// Trace ids, 16 bytes per span; an id of another length is padded or cut to 16 bytes.
    pub fn trace_ids(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * 16);
        for span in self.spans() {
            push_fixed(&mut out, &span.trace_id, 16);
        }
        out
    }

    /// Span ids, 8 bytes per span.
    pub fn span_ids(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * 8);
        for span in self.spans() {
            push_fixed(&mut out, &span.span_id, 8);
        }
        out
    }

    /// Parent span ids, 8 bytes per span, zero for roots.
    pub fn parent_span_ids(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len() * 8);
        for span in self.spans() {
            push_fixed(&mut out, &span.parent_span_id, 8);
        }
        out
    }

    /// Span flags, one per span.
    pub fn flags(&self) -> Vec<u32> {
        self.spans().map(|s| s.flags).collect()
    }

    /// Span kinds as OTLP numbers.
    pub fn kinds(&self) -> Vec<u8> {
        self.spans().map(|s| s.kind.clamp(0, 255) as u8).collect()
    }

    /// Start times in nanoseconds.
    pub fn start_times(&self) -> Vec<u64> {
        self.spans().map(|s| s.start_time_unix_nano).collect()
    }

    /// End times in nanoseconds.
    pub fn end_times(&self) -> Vec<u64> {
        self.spans().map(|s| s.end_time_unix_nano).collect()
    }

    /// Durations in nanoseconds, 0 where the end precedes the start.
    pub fn durations(&self) -> Vec<u64> {
        self.spans()
            .map(|s| s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano))
            .collect()
    }

    /// Status codes as OTLP numbers.
    pub fn status_codes(&self) -> Vec<u8> {
        self.spans()
            .map(|s| {
                s.status
                    .as_ref()
                    .map_or(0, |st| st.code.clamp(0, 255) as u8)
            })
            .collect()
    }

    /// One string field over every row of its level.
    pub fn str_field(&self, field: StrField) -> StrColumn {
        let mut out = StrColumn::with_capacity(self.len(), 0);
        match field {
            StrField::Name => self.spans().for_each(|s| out.push(Some(&s.name))),
            StrField::StatusMessage => self
                .spans()
                .for_each(|s| out.push(s.status.as_ref().map(|st| st.message.as_str()))),
            StrField::TraceState => self.spans().for_each(|s| out.push(Some(&s.trace_state))),
            StrField::ScopeName | StrField::ScopeVersion => {
                for at in &self.rows {
                    let scope = self.resource_spans[at.resource as usize].scope_spans
                        [at.scope as usize]
                        .scope
                        .as_ref();
                    out.push(scope.map(|sc| match field {
                        StrField::ScopeName => sc.name.as_str(),
                        _ => sc.version.as_str(),
                    }));
                }
            }
            StrField::SchemaUrl => {
                for at in &self.rows {
                    out.push(Some(&self.resource_spans[at.resource as usize].schema_url));
                }
            }
            StrField::EventName => self
                .spans()
                .flat_map(|s| s.events.iter())
                .for_each(|e| out.push(Some(&e.name))),
            StrField::LinkTraceState => self
                .spans()
                .flat_map(|s| s.links.iter())
                .for_each(|l| out.push(Some(&l.trace_state))),
        }
        out
    }

    /// The number of rows of [`Decoded::str_field`]'s column whose value is a non-empty string.
    pub fn str_field_count(&self, field: StrField) -> usize {
        match field {
            StrField::Name => self.spans().filter(|s| !s.name.is_empty()).count(),
            StrField::StatusMessage => self
                .spans()
                .filter(|s| s.status.as_ref().is_some_and(|st| !st.message.is_empty()))
                .count(),
            StrField::TraceState => self.spans().filter(|s| !s.trace_state.is_empty()).count(),
            _ => self.str_field(field).non_empty(),
        }
    }

    /// For each span row, the number of its resource in batch order.
    pub fn resource_ids(&self) -> Vec<u32> {
        self.rows.iter().map(|at| at.resource).collect()
    }

    /// For each span row, the number of its scope, counting every scope of the batch.
    pub fn scope_ids(&self) -> Vec<u32> {
        let mut first_scope = Vec::with_capacity(self.resource_spans.len());
        let mut scopes = 0u32;
        for resource in &self.resource_spans {
            first_scope.push(scopes);
            scopes += resource.scope_spans.len() as u32;
        }
        self.rows
            .iter()
            .map(|at| first_scope[at.resource as usize] + at.scope)
            .collect()
    }

    /// For each event row, the span row it belongs to.
    pub fn event_spans(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (row, span) in self.spans().enumerate() {
            out.extend(std::iter::repeat_n(row as u32, span.events.len()));
        }
        out
    }

    /// For each event row, its time in nanoseconds.
    pub fn event_times(&self) -> Vec<u64> {
        self.spans()
            .flat_map(|s| s.events.iter().map(|e| e.time_unix_nano))
            .collect()
    }

    /// For each link row, the span row it belongs to.
    pub fn link_spans(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (row, span) in self.spans().enumerate() {
            out.extend(std::iter::repeat_n(row as u32, span.links.len()));
        }
        out
    }

    /// For each link row, the linked trace id, 16 bytes each.
    pub fn link_trace_ids(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for link in self.spans().flat_map(|s| s.links.iter()) {
            push_fixed(&mut out, &link.trace_id, 16);
        }
        out
    }

    /// For each link row, the linked span id, 8 bytes each.
    pub fn link_span_ids(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for link in self.spans().flat_map(|s| s.links.iter()) {
            push_fixed(&mut out, &link.span_id, 8);
        }
        out
    }

    /// The number of rows at a level.
    pub fn row_count(&self, level: Level) -> usize {
        match level {
            Level::Resource | Level::Scope | Level::Span => self.len(),
            Level::Event => self.spans().map(|s| s.events.len()).sum(),
            Level::Link => self.spans().map(|s| s.links.len()).sum(),
        }
    }

    /// Visit the attribute list of every row of a level, in row order.
    fn for_each_attributes<'a>(&'a self, level: Level, mut visit: impl FnMut(&'a [KeyValue])) {
        match level {
            Level::Resource => {
                for at in &self.rows {
                    let resource = &self.resource_spans[at.resource as usize];
                    visit(resource.resource.as_ref().map_or(&[], |r| &r.attributes));
                }
            }
            Level::Scope => {
                for at in &self.rows {
                    let scope =
                        &self.resource_spans[at.resource as usize].scope_spans[at.scope as usize];
                    visit(scope.scope.as_ref().map_or(&[], |s| &s.attributes));
                }
            }
            Level::Span => self.spans().for_each(|s| visit(&s.attributes)),
            Level::Event => self
                .spans()
                .flat_map(|s| s.events.iter())
                .for_each(|e| visit(&e.attributes)),
            Level::Link => self
                .spans()
                .flat_map(|s| s.links.iter())
                .for_each(|l| visit(&l.attributes)),
        }
    }

    /// The distinct attribute keys at a level, in first-seen order.
    pub fn attribute_keys(&self, level: Level) -> Vec<String> {
        let mut keys = DistinctKeys::new();
        self.for_each_attributes(level, |attributes| keys.row(attributes));
        keys.into_keys()
    }

    /// One attribute as strings over every row of a level: absent where missing or not a string.
    pub fn str_attribute(&self, level: Level, key: &str) -> StrColumn {
        let mut out = StrColumn::with_capacity(self.row_count(level), 0);
        self.for_each_attributes(level, |attributes| {
            let value = find(attributes, key).and_then(|kv| match kv.value.as_ref()?.value {
                Some(any_value::Value::StringValue(ref s)) => Some(s.as_str()),
                _ => None,
            });
            out.push(value);
        });
        out
    }

    /// For each of `keys`, the rows of a level that have it, whatever its type, ascending.
    pub fn attribute_rows(&self, level: Level, keys: &[&str]) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); keys.len()];
        let mut index = RowKeys::new(keys);
        let mut row = 0u32;
        self.for_each_attributes(level, |attributes| {
            index.each(attributes, |i, _| {
                // A key twice in one row (which OTLP forbids but a client may send) counts the
                // row once.
                if out[i].last() != Some(&row) {
                    out[i].push(row);
                }
            });
            row += 1;
        });
        out
    }

    /// One attribute as integers over every row of a level: absent where missing or not an
    /// integer.
    pub fn int_attribute(&self, level: Level, key: &str) -> IntColumn {
        self.scalar_column(level, key, |v| match v {
            any_value::Value::IntValue(i) => Some(*i),
            _ => None,
        })
    }

    /// One attribute as floats: absent where missing or not a double.
    pub fn double_attribute(&self, level: Level, key: &str) -> DoubleColumn {
        self.scalar_column(level, key, |v| match v {
            any_value::Value::DoubleValue(d) => Some(*d),
            _ => None,
        })
    }

    /// One attribute as booleans: absent where missing or not a boolean.
    pub fn bool_attribute(&self, level: Level, key: &str) -> BoolColumn {
        self.scalar_column(level, key, |v| match v {
            any_value::Value::BoolValue(b) => Some(*b),
            _ => None,
        })
    }

    fn scalar_column<T, C>(
        &self,
        level: Level,
        key: &str,
        pick: impl Fn(&any_value::Value) -> Option<T>,
    ) -> C
    where
        C: ScalarColumn<T>,
    {
        let mut out = C::with_rows(self.row_count(level));
        self.for_each_attributes(level, |attributes| {
            out.push_value(
                find(attributes, key)
                    .and_then(|kv| kv.value.as_ref()?.value.as_ref())
                    .and_then(&pick),
            );
        });
        out
    }

    /// Several attributes as strings over every row of a level, one column per key, in one pass:
    /// each row's attributes are visited once, whatever the number of keys.
    pub fn str_attributes(&self, level: Level, keys: &[&str]) -> Vec<StrColumn> {
        let rows = self.row_count(level);
        let mut out: Vec<StrColumn> = keys
            .iter()
            .map(|_| StrColumn::with_capacity(rows, 0))
            .collect();
        // Per key: not seen yet (`None`), or the first value seen (a string or not).
        let mut found: Vec<Option<Option<&str>>> = vec![None; keys.len()];
        let mut index = RowKeys::new(keys);
        self.for_each_attributes(level, |attributes| {
            found.iter_mut().for_each(|f| *f = None);
            index.each(attributes, |i, kv| {
                // The first occurrence wins, as `str_attribute` finds it.
                if found[i].is_none() {
                    found[i] = Some(match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                        Some(any_value::Value::StringValue(text)) => Some(text.as_str()),
                        _ => None,
                    });
                }
            });
            for (column, value) in out.iter_mut().zip(&found) {
                column.push(value.flatten());
            }
        });
        out
    }

    /// One attribute of any type over every row of a level.
    pub fn attribute(&self, level: Level, key: &str) -> Vec<Option<Value>> {
        let mut out = Vec::with_capacity(self.row_count(level));
        self.for_each_attributes(level, |attributes| {
            out.push(find(attributes, key).and_then(|kv| match &kv.value {
                Some(any) => value::from_any(any),
                // A key with no value at all: present, and empty.
                None => Some(Value::Complex(Vec::new())),
            }));
        });
        out
    }

    /// Apply every edit of a journal, in order, drops last.
    ///
    /// The journal checked every edit in full as it was recorded (rows, fields, columns, and
    /// decoded every value), so once the journal is found to belong to this batch nothing can
    /// fail: the batch ends up with every edit or, on `Err`, exactly as it was.
    pub fn apply(&mut self, journal: Journal) -> Result<Applied, crate::EditError> {
        journal.check_shape(self)?;
        let mut applied = Applied::default();
        let mut dropped: Vec<bool> = Vec::new();
        let mut dropped_events: Vec<bool> = Vec::new();
        let mut event_rows: Option<Vec<(u32, u32)>> = None;
        let mut link_rows: Option<Vec<(u32, u32)>> = None;
        for edit in journal.into_edits() {
            match edit {
                Edit::SetAttribute {
                    level,
                    key,
                    rows,
                    values,
                } => {
                    for (row, any) in rows.into_iter().zip(values) {
                        let attrs =
                            self.attributes_mut(level, row, &mut event_rows, &mut link_rows);
                        upsert(attrs, &key, any);
                    }
                }
                Edit::SetStrAttribute {
                    level,
                    key,
                    rows,
                    values,
                } => {
                    for (row, text) in rows.into_iter().zip(values.iter()) {
                        let text = text.unwrap_or_default().to_owned();
                        let attrs =
                            self.attributes_mut(level, row, &mut event_rows, &mut link_rows);
                        upsert(
                            attrs,
                            &key,
                            AnyValue {
                                value: Some(any_value::Value::StringValue(text)),
                            },
                        );
                    }
                }
                Edit::RemoveAttribute { level, key, rows } => {
                    for row in rows {
                        let attrs =
                            self.attributes_mut(level, row, &mut event_rows, &mut link_rows);
                        attrs.retain(|kv| kv.key != key);
                    }
                }
                Edit::SetStrField {
                    field,
                    rows,
                    values,
                } => {
                    for (row, text) in rows.into_iter().zip(values.iter()) {
                        let text = text.unwrap_or_default().to_owned();
                        self.set_str_field(field, row, text, &mut event_rows);
                    }
                }
                Edit::FillStrField { field, rows, value } => {
                    for row in rows {
                        self.set_str_field(field, row, value.clone(), &mut event_rows);
                    }
                }
                Edit::HashAttributes {
                    level,
                    keys,
                    rows,
                    secret,
                } => {
                    let hasher = crate::hash::ValueHasher::new(secret.as_ref().map(|s| &s.0[..]));
                    let keys = crate::hash::KeySet::new(&keys);
                    // A resource or scope is shared by its spans: hash it once.
                    let mut done = std::collections::HashSet::new();
                    for row in rows {
                        if matches!(level, Level::Resource | Level::Scope) {
                            let at = self.rows[row as usize];
                            let scope = if level == Level::Scope { at.scope } else { 0 };
                            if !done.insert((at.resource, scope)) {
                                continue;
                            }
                        }
                        let attrs =
                            self.attributes_mut(level, row, &mut event_rows, &mut link_rows);
                        for kv in attrs.iter_mut().filter(|kv| keys.contains(&kv.key)) {
                            hasher.hash_value(&mut kv.value);
                            applied.hashed += 1;
                        }
                    }
                }
                Edit::DropSpans { rows } => {
                    if dropped.is_empty() {
                        dropped = vec![false; self.len()];
                    }
                    for row in rows {
                        dropped[row as usize] = true;
                    }
                }
                Edit::DropEvents { rows } => {
                    if dropped_events.is_empty() {
                        dropped_events = vec![false; self.row_count(Level::Event)];
                    }
                    for row in rows {
                        dropped_events[row as usize] = true;
                    }
                }
            }
        }
        // Event rows keep their numbers until every edit is applied; then the events go.
        if dropped_events.iter().any(|&d| d) {
            let mut event = 0usize;
            for row in 0..self.len() {
                self.span_mut(row).events.retain(|_| {
                    let keep = !dropped_events[event];
                    event += 1;
                    keep
                });
            }
        }
        if dropped.iter().any(|&d| d) {
            self.retain_rows(|row| !dropped[row]);
        }
        Ok(applied)
    }

    fn attributes_mut(
        &mut self,
        level: Level,
        row: u32,
        event_rows: &mut Option<Vec<(u32, u32)>>,
        link_rows: &mut Option<Vec<(u32, u32)>>,
    ) -> &mut Vec<KeyValue> {
        match level {
            Level::Resource => {
                let at = self.rows[row as usize];
                &mut self.resource_spans[at.resource as usize]
                    .resource
                    .get_or_insert_with(Default::default)
                    .attributes
            }
            Level::Scope => {
                let at = self.rows[row as usize];
                &mut self.resource_spans[at.resource as usize].scope_spans[at.scope as usize]
                    .scope
                    .get_or_insert_with(Default::default)
                    .attributes
            }
            Level::Span => &mut self.span_mut(row as usize).attributes,
            Level::Event => {
                let (span, index) = nested_rows(self, event_rows, |s| s.events.len())[row as usize];
                &mut self.span_mut(span as usize).events[index as usize].attributes
            }
            Level::Link => {
                let (span, index) = nested_rows(self, link_rows, |s| s.links.len())[row as usize];
                &mut self.span_mut(span as usize).links[index as usize].attributes
            }
        }
    }

    fn set_str_field(
        &mut self,
        field: StrField,
        row: u32,
        text: String,
        event_rows: &mut Option<Vec<(u32, u32)>>,
    ) {
        match field {
            StrField::Name => self.span_mut(row as usize).name = text,
            StrField::TraceState => self.span_mut(row as usize).trace_state = text,
            StrField::StatusMessage => {
                self.span_mut(row as usize)
                    .status
                    .get_or_insert_with(Default::default)
                    .message = text
            }
            StrField::EventName => {
                let (span, index) = nested_rows(self, event_rows, |s| s.events.len())[row as usize];
                self.span_mut(span as usize).events[index as usize].name = text;
            }
            // The journal refuses edits of read-only fields when they are recorded.
            StrField::ScopeName
            | StrField::ScopeVersion
            | StrField::SchemaUrl
            | StrField::LinkTraceState => {}
        }
    }

    /// Keep only the rows for which `keep(row)` holds; empty scopes and resources go too.
    fn retain_rows(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut row = 0usize;
        for resource in &mut self.resource_spans {
            for scope in &mut resource.scope_spans {
                scope.spans.retain(|_| {
                    let k = keep(row);
                    row += 1;
                    k
                });
            }
            resource.scope_spans.retain(|s| !s.spans.is_empty());
        }
        self.resource_spans.retain(|r| !r.scope_spans.is_empty());
        self.reindex();
    }
}

/// The `(span row, index within the span)` of every event or link row, computed once per apply.
fn nested_rows<'a>(
    batch: &Decoded,
    cache: &'a mut Option<Vec<(u32, u32)>>,
    count: impl Fn(&Span) -> usize,
) -> &'a [(u32, u32)] {
    cache.get_or_insert_with(|| {
        let mut out = Vec::new();
        for (row, span) in batch.spans().enumerate() {
            out.extend((0..count(span)).map(|i| (row as u32, i as u32)));
        }
        out
    })
}

fn find<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a KeyValue> {
    attributes.iter().find(|kv| kv.key == key)
}

fn upsert(attributes: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match attributes.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = Some(value),
        None => attributes.push(KeyValue {
            key: key.to_owned(),
            value: Some(value),
            ..Default::default()
        }),
    }
}

pub(crate) fn push_fixed(out: &mut Vec<u8>, id: &[u8], len: usize) {
    let take = id.len().min(len);
    out.extend_from_slice(&id[..take]);
    out.extend(std::iter::repeat_n(0, len - take));
}

/// The scalar columns of `spanwise-abi`, as `Decoded::scalar_column` fills them.
trait ScalarColumn<T> {
    fn with_rows(rows: usize) -> Self;
    fn push_value(&mut self, value: Option<T>);
}

macro_rules! scalar_column {
    ($column:ty, $ty:ty) => {
        impl ScalarColumn<$ty> for $column {
            fn with_rows(rows: usize) -> Self {
                Self {
                    values: Vec::with_capacity(rows),
                    present: Vec::with_capacity(rows),
                }
            }
            fn push_value(&mut self, value: Option<$ty>) {
                self.push(value);
            }
        }
    };
}
scalar_column!(IntColumn, i64);
scalar_column!(DoubleColumn, f64);
scalar_column!(BoolColumn, bool);
