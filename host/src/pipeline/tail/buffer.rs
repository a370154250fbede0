//! [`TraceBuffer`]: spans held by trace until their trace is due for a decision.
//!
//! Spans are held encoded, as they arrived: a batch still in its wire form is cut into its spans
//! by copying their bytes (no decoding); a decoded one has each span encoded on its own. Each span costs its
//! encoded size and a small entry (see `benches/src/buffer_memory.rs`), not the several times
//! its size that a decoded span owns in strings and lists. Due traces go back as one batch in
//! indexed wire form: the sampler's reads (span and resource attributes among them) and the
//! decisions' drops and tracestates are answered there, without decoding it.
//!
//! Time is given by the caller (`now`, the time since the processor started), so tests drive the
//! buffer with a logical clock and nothing here sleeps. A trace is due `decision_wait` after its
//! first span arrived; the oldest traces are due early when more than `num_traces` are held or
//! their spans take more than `max_bytes`: each span counted at its bytes and its place in its
//! trace's list, each trace at [`TRACE_OVERHEAD`], so the limit bounds the heap the buffer
//! really holds (the `buffer-memory` bench checks the count against a counting allocator). Once
//! the sampler has decided a trace, [`TraceBuffer::remember`] keeps the decision in one of two
//! bounded caches (kept, dropped), so spans that arrive after it follow it instead of starting a
//! new trace.

use foldhash::HashMap;
use spanwise_abi::{Decided, TraceDecision, TraceDecisions, TraceRows};
use spanwise_batch::Batch;
use spanwise_batch::decode::split::{Assembler, Origin, Piece, split_spans};
use std::collections::VecDeque;
use std::mem::size_of;
use std::sync::Arc;
use std::time::Duration;

/// A trace id: 16 bytes (ids of another length are padded or cut, as the batch reads them).
pub type TraceId = [u8; 16];

/// Bytes counted for each held trace: its entry in the map of traces and in the arrival order.
pub const TRACE_OVERHEAD: usize =
    size_of::<Trace>() + size_of::<TraceId>() + size_of::<(TraceId, u64)>() + 8;

impl Trace {
    /// Hold `span`; returns the bytes it adds: its encoded bytes, and the room its trace's list
    /// grew by (a list with room to spare counts it).
    fn push(&mut self, origin: Arc<Origin>, span: Box<[u8]>) -> usize {
        let before = self.spans.capacity();
        let heap = span.len();
        self.spans.push(Held { origin, span });
        let bytes = heap + (self.spans.capacity() - before) * size_of::<Held>();
        self.bytes += bytes;
        bytes
    }
}

/// The buffer's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BufferLimits {
    /// How long after its first span a trace is decided.
    pub decision_wait: Duration,
    /// The most traces held; past it the oldest is decided early.
    pub num_traces: usize,
    /// The most bytes held; past it the oldest traces are decided early.
    pub max_bytes: usize,
    /// How many kept trace ids are remembered for late spans.
    pub sampled_cache_size: usize,
    /// How many dropped trace ids are remembered for late spans.
    pub non_sampled_cache_size: usize,
}

/// A span, encoded, with the resource and scope it was sent under (shared by the spans of one
/// scope of a request).
#[derive(Debug)]
struct Held {
    origin: Arc<Origin>,
    span: Box<[u8]>,
}

#[derive(Debug)]
struct Trace {
    spans: Vec<Held>,
    bytes: usize,
    /// When its first span arrived.
    arrived: Duration,
    /// Its place in arrival order (see `TraceBuffer::order`).
    sequence: u64,
}

/// What [`TraceBuffer::add`] did with a batch.
#[derive(Debug, Default)]
pub struct Added {
    /// Spans of traces already decided and kept, by trace: they go on now, with their trace's
    /// decision (`late_decisions`, one per trace of `late_kept`).
    pub late_kept: Due,
    /// The remembered decision of each trace of `late_kept`.
    pub late_decisions: TraceDecisions,
    /// How many spans of traces already decided and dropped were dropped.
    pub late_dropped: usize,
    /// How many spans are now held.
    pub held: usize,
}

/// Traces to decide: their spans as one batch, and the rows of each.
#[derive(Debug, Default)]
pub struct Due {
    /// Every span of the due traces.
    pub batch: Batch,
    /// For each trace, its rows in `batch`, ascending.
    pub traces: TraceRows,
    /// The trace ids, in the order of `traces`.
    pub trace_ids: Vec<TraceId>,
    /// How many of them were decided before their `decision_wait` because of a limit.
    pub early: usize,
}

impl Due {
    /// Whether there is nothing to decide.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
    }
}

/// At most `capacity` trace ids with a value each, forgetting the oldest first.
#[derive(Debug)]
struct Bounded<V> {
    capacity: usize,
    map: HashMap<TraceId, V>,
    order: VecDeque<TraceId>,
}

impl<V> Bounded<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::default(),
            order: VecDeque::new(),
        }
    }

    fn insert(&mut self, id: TraceId, value: V) {
        if self.capacity == 0 {
            return;
        }
        if self.map.insert(id, value).is_some() {
            return;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
    }

    fn get(&self, id: &TraceId) -> Option<&V> {
        self.map.get(id)
    }

    fn remove(&mut self, id: &TraceId) {
        if self.map.remove(id).is_some() {
            self.order.retain(|held| held != id);
        }
    }
}

/// Spans held by trace until the trace is due.
#[derive(Debug)]
pub struct TraceBuffer {
    limits: BufferLimits,
    traces: HashMap<TraceId, Trace>,
    /// Trace ids in arrival order with their sequence number; an entry whose trace is gone (or
    /// came back under a newer sequence) is skipped when met.
    order: VecDeque<(TraceId, u64)>,
    next_sequence: u64,
    spans: usize,
    bytes: usize,
    kept: Bounded<TraceDecision>,
    dropped: Bounded<()>,
}

impl TraceBuffer {
    /// An empty buffer.
    pub fn new(limits: BufferLimits) -> Self {
        Self {
            kept: Bounded::new(limits.sampled_cache_size),
            dropped: Bounded::new(limits.non_sampled_cache_size),
            limits,
            traces: HashMap::default(),
            order: VecDeque::new(),
            next_sequence: 0,
            spans: 0,
            bytes: 0,
        }
    }

    /// How many traces are held.
    pub fn traces(&self) -> usize {
        self.traces.len()
    }

    /// How many spans are held.
    pub fn spans(&self) -> usize {
        self.spans
    }

    /// The bytes held, as the limits count them.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Hold the spans of `batch` by trace. Spans of traces already decided follow the decision.
    pub fn add(&mut self, batch: Batch, now: Duration) -> Added {
        let mut added = Added::default();
        let mut late: Vec<(TraceId, Trace)> = Vec::new();
        if let Some(bytes) = batch.wire_bytes() {
            // The bytes as received (or as a wire-form edit writes them): each span's are
            // copied.
            let mut origin: Option<Arc<Origin>> = None;
            split_spans(&bytes, |piece| match piece {
                Piece::Scope(next) => origin = Some(Arc::new(next)),
                Piece::Span {
                    bytes,
                    trace_id: id,
                } => {
                    let origin = origin.as_ref().expect("a scope comes before its spans");
                    self.place(
                        trace_id(id),
                        origin,
                        bytes.into(),
                        now,
                        &mut late,
                        &mut added,
                    );
                }
            })
            .expect("a batch's bytes are a well-formed request");
        } else {
            // Decoded (and maybe edited): each span is encoded on its own, as it would be in
            // the request.
            let mut scratch = Vec::new();
            for resource in batch.resource_spans() {
                for scope in &resource.scope_spans {
                    let origin = Arc::new(Origin::of(resource, scope));
                    for span in &scope.spans {
                        scratch.clear();
                        spanwise_batch::encode_span(span, &mut scratch);
                        let id = trace_id(&span.trace_id);
                        self.place(id, &origin, scratch[..].into(), now, &mut late, &mut added);
                    }
                }
            }
        }
        drop(batch);
        added.late_decisions = late
            .iter()
            .filter_map(|(id, _)| self.kept.get(id).cloned())
            .collect::<TraceDecisions>();
        added.late_kept = self.collect(late);
        added
    }

    /// Hold one span of trace `id`, or send it on with its trace's decision (`late`), or drop
    /// it with it.
    fn place(
        &mut self,
        id: TraceId,
        origin: &Arc<Origin>,
        span: Box<[u8]>,
        now: Duration,
        late: &mut Vec<(TraceId, Trace)>,
        added: &mut Added,
    ) {
        // Most spans join a held trace, which is never a decided one: one lookup.
        if let Some(trace) = self.traces.get_mut(&id) {
            let bytes = trace.push(origin.clone(), span);
            self.spans += 1;
            self.bytes += bytes;
            added.held += 1;
        } else if self.kept.get(&id).is_some() {
            let held = Held {
                origin: origin.clone(),
                span,
            };
            match late.iter_mut().find(|(seen, _)| *seen == id) {
                Some((_, trace)) => trace.spans.push(held),
                None => late.push((
                    id,
                    Trace {
                        spans: vec![held],
                        bytes: 0,
                        arrived: now,
                        sequence: 0,
                    },
                )),
            }
        } else if self.dropped.get(&id).is_some() {
            added.late_dropped += 1;
        } else {
            self.hold(id, origin.clone(), span, now);
            added.held += 1;
        }
    }

    fn hold(&mut self, id: TraceId, origin: Arc<Origin>, span: Box<[u8]>, now: Duration) {
        let mut bytes = 0;
        let trace = self.traces.entry(id).or_insert_with(|| {
            let sequence = self.next_sequence;
            self.next_sequence += 1;
            self.order.push_back((id, sequence));
            bytes += TRACE_OVERHEAD;
            Trace {
                spans: Vec::new(),
                bytes: TRACE_OVERHEAD,
                arrived: now,
                sequence,
            }
        });
        bytes += trace.push(origin, span);
        self.spans += 1;
        self.bytes += bytes;
    }

    /// The traces due at `now`: those whose `decision_wait` has passed, then the oldest others
    /// while more than `num_traces` or `max_bytes` are held.
    pub fn due(&mut self, now: Duration) -> Due {
        let mut due = Vec::new();
        let mut early = 0;
        while let Some(&(id, sequence)) = self.order.front() {
            let Some(trace) = self.traces.get(&id).filter(|t| t.sequence == sequence) else {
                self.order.pop_front();
                continue;
            };
            let waited = now.saturating_sub(trace.arrived) >= self.limits.decision_wait;
            let over =
                self.traces.len() > self.limits.num_traces || self.bytes > self.limits.max_bytes;
            if !waited && !over {
                break;
            }
            if !waited {
                early += 1;
            }
            self.order.pop_front();
            due.push(self.take(&id));
        }
        let mut out = self.collect(due);
        out.early = early;
        out
    }

    /// Every held trace, oldest first (on shutdown: nothing is lost).
    pub fn drain(&mut self) -> Due {
        let mut due = Vec::new();
        while let Some((id, sequence)) = self.order.pop_front() {
            if self.traces.get(&id).is_some_and(|t| t.sequence == sequence) {
                due.push(self.take(&id));
            }
        }
        self.collect(due)
    }

    /// Remember the decision on trace `id`, for the spans of it that arrive later.
    pub fn remember(&mut self, id: TraceId, decision: Decided<'_>) {
        if decision.keep {
            self.dropped.remove(&id);
            self.kept.insert(id, decision.to_owned());
        } else {
            self.kept.remove(&id);
            self.dropped.insert(id, ());
        }
    }

    fn take(&mut self, id: &TraceId) -> (TraceId, Trace) {
        let trace = self.traces.remove(id).expect("the order names held traces");
        self.spans -= trace.spans.len();
        self.bytes -= trace.bytes;
        (*id, trace)
    }

    fn collect(&self, due: Vec<(TraceId, Trace)>) -> Due {
        // Spans sent under one resource and scope go back under one, across traces.
        // Per origin: its spans, each with the index of its trace in `due`.
        let mut groups: Vec<Group<(usize, Box<[u8]>)>> = Vec::new();
        let mut slot: HashMap<*const Origin, usize> = HashMap::default();
        let mut trace_ids = Vec::with_capacity(due.len());
        for (index, (id, trace)) in due.into_iter().enumerate() {
            trace_ids.push(id);
            for held in trace.spans {
                let key = Arc::as_ptr(&held.origin);
                let at = *slot.entry(key).or_insert_with(|| {
                    groups.push((held.origin.clone(), Vec::new()));
                    groups.len() - 1
                });
                groups[at].1.push((index, held.span));
            }
        }
        // Rows are numbered origin by origin; each trace's rows, ascending, go in its own span
        // of one flat list (counted first, then filled).
        let mut ends = vec![0u32; trace_ids.len()];
        for (_, spans) in &groups {
            for (index, _) in spans {
                ends[*index] += 1;
            }
        }
        let mut total = 0u32;
        for end in &mut ends {
            total += *end;
            *end = total;
        }
        let mut next: Vec<u32> = std::iter::once(0)
            .chain(ends.iter().copied())
            .take(ends.len())
            .collect();
        let mut rows = vec![0u32; total as usize];
        let mut row = 0u32;
        let mut assembled = Vec::with_capacity(groups.len());
        for (origin, spans) in groups {
            let mut list = Vec::with_capacity(spans.len());
            for (index, span) in spans {
                rows[next[index] as usize] = row;
                next[index] += 1;
                row += 1;
                list.push(span);
            }
            assembled.push((origin, list));
        }
        let traces = TraceRows { rows, ends };
        Due {
            batch: assemble(assembled),
            traces,
            trace_ids,
            early: 0,
        }
    }
}

/// Spans sent under one origin.
type Group<T> = (Arc<Origin>, Vec<T>);

/// One resource spans per origin, holding one scope spans, in order: a batch in wire form.
fn assemble(groups: Vec<Group<Box<[u8]>>>) -> Batch {
    if groups.is_empty() {
        return Batch::default();
    }
    let mut assembler = Assembler::new();
    for (origin, spans) in &groups {
        assembler.group(origin, spans.iter().map(|span| &span[..]));
    }
    Batch::from_encoded_indexed(assembler.finish().into())
        .expect("spans of well-formed requests, under their own resources and scopes")
}

/// A trace id as 16 bytes, padded or cut as the batch's `trace_ids` read does.
fn trace_id(bytes: &[u8]) -> TraceId {
    let mut id = [0u8; 16];
    let n = bytes.len().min(16);
    id[..n].copy_from_slice(&bytes[..n]);
    id
}
