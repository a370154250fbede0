//! What the batch and the head sampler allocate, counted (deterministic), not timed.
//!
//! Splitting a batch moves its spans; it does not copy the batch: a split that cloned the
//! batch, as the batch processor's splits once did, allocates at least one deep copy per split.
//! A batch taken from request bytes and given back as bytes (the pass-through path) allocates
//! the same number of times for ten spans as for a thousand: nothing per span. And the head
//! sampler deciding on a batch in indexed wire form (as a receiver hands it over when the
//! sampler is the first plugin) allocates nothing per span either.

#![allow(unsafe_code)]

use spanwise_batch::{Batch, BatchBuilder, kv};
use spanwise_head_sampler::HeadSampler;
use spanwise_sdk::{Processor, native};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the bytes this thread asks for while counting is on.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    if COUNTING.with(Cell::get) {
        BYTES.with(|b| b.set(b.get() + bytes));
        CALLS.with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// const-initialised thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The bytes `f` allocates on this thread, with its result.
fn allocated<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let (result, bytes, _) = allocations(f);
    (result, bytes)
}

/// The bytes `f` allocates on this thread and in how many calls, with its result.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize, usize) {
    BYTES.with(|b| b.set(0));
    CALLS.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (result, BYTES.with(Cell::get), CALLS.with(Cell::get))
}

/// 40,000 spans of ten attributes, in two resources: the batch of the issue that found the
/// quadratic split.
fn big() -> Batch {
    let mut builder = BatchBuilder::new();
    for i in 0..40_000u32 {
        if i % 20_000 == 0 {
            builder = builder.resource(vec![kv("service.name", format!("svc-{i}").as_str())]);
        }
        let attributes = (0..10)
            .map(|a| kv(&format!("attribute.{a}"), format!("value {i} {a}").as_str()))
            .collect();
        builder = builder.span(&format!("span {i}"), attributes);
    }
    builder.build()
}

#[test]
fn split_off_moves_the_tail_instead_of_copying_the_batch() {
    let mut batch = big();
    let (copy, deep_copy) = allocated(|| batch.clone());
    drop(copy);
    let (tail, split) = allocated(|| batch.split_off(1_000));
    assert_eq!((batch.len(), tail.len()), (1_000, 39_000));
    eprintln!("split_off(1000) of 40,000 spans: {split} bytes; a deep copy: {deep_copy} bytes");
    assert!(
        split * 2 < deep_copy,
        "split_off allocated {split} bytes; one deep copy of the batch is {deep_copy}"
    );
}

#[test]
fn cutting_into_chunks_is_linear_in_the_batch() {
    let batch = big();
    let (copy, deep_copy) = allocated(|| batch.clone());
    drop(copy);
    let (chunks, cut) = allocated(|| batch.into_chunks(1_000));
    assert_eq!(chunks.len(), 40);
    assert!(chunks.iter().all(|c| c.len() == 1_000));
    eprintln!("into_chunks(1000) of 40,000 spans: {cut} bytes; a deep copy: {deep_copy} bytes");
    assert!(
        cut * 2 < deep_copy,
        "40 chunks allocated {cut} bytes; one deep copy of the batch is {deep_copy}"
    );
}

/// `spans` spans of ten attributes as request bytes.
fn request_bytes(spans: u32) -> bytes::Bytes {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "svc")]);
    for i in 0..spans {
        let attributes = (0..10)
            .map(|a| kv(&format!("attribute.{a}"), format!("value {i} {a}").as_str()))
            .collect();
        builder = builder.span(&format!("span {i}"), attributes);
    }
    use prost::Message;
    builder.build().into_request().encode_to_vec().into()
}

#[test]
fn bytes_in_and_out_allocate_nothing_per_span() {
    let pass = |bytes: &bytes::Bytes| {
        allocations(|| {
            let mut batch = Batch::from_encoded(bytes.clone()).expect("a valid request");
            batch.append(Batch::from_encoded(bytes.clone()).expect("a valid request"));
            let out = batch.to_bytes();
            (batch.len(), batch.resource_count(), out.len())
        })
    };
    let (small_bytes, large_bytes) = (request_bytes(10), request_bytes(1_000));
    let ((spans, resources, out), _, small) = pass(&small_bytes);
    assert_eq!((spans, resources, out), (20, 2, 2 * small_bytes.len()));
    let ((spans, _, _), _, large) = pass(&large_bytes);
    assert_eq!(spans, 2_000);
    eprintln!("bytes in, appended, bytes out: {small} allocations for 20 spans, {large} for 2,000");
    assert_eq!(small, large, "allocations that grow with the spans");
    assert!(large <= 4, "{large} allocations");
}

#[test]
fn the_head_sampler_allocates_nothing_per_span_in_wire_form() {
    // Run as a processor, and as the `head-sampler` world runs it (the view read first, the
    // fill and the drop kept back for the result).
    type Run = fn(&mut HeadSampler, &mut Batch) -> Result<(), spanwise_sdk::ProcessError>;
    for (how, run) in [
        ("as a processor", native::process as Run),
        ("as a head-sampler", native::sample as Run),
    ] {
        let mut sampler =
            HeadSampler::configure(r#"{"mode": "proportional", "sampling_percentage": 30}"#)
                .unwrap();
        let mut decide = |bytes: &bytes::Bytes| {
            let mut batch = Batch::from_encoded_indexed(bytes.clone()).expect("a valid request");
            let (kept, _, calls) = allocations(|| {
                run(&mut sampler, &mut batch).unwrap();
                batch.len()
            });
            assert!(batch.is_indexed(), "{how}: decided without decoding");
            (kept, calls)
        };
        let (small_bytes, large_bytes) = (traced_bytes(100), traced_bytes(10_000));
        // Warm up: the sampler's lists grow to the largest batch once, then are reused.
        decide(&large_bytes);
        let (small_kept, small) = decide(&small_bytes);
        let (large_kept, large) = decide(&large_bytes);
        eprintln!(
            "head sampler in wire form, {how}: {small} allocations for 100 spans ({small_kept} \
             kept), {large} for 10,000 ({large_kept} kept)"
        );
        assert!(
            large_kept > 2_000 && large_kept < 4_000,
            "{how}: {large_kept} kept of 10,000"
        );
        assert_eq!(small, large, "{how}: allocations that grow with the spans");
    }
}

/// [`request_bytes`] with trace ids as random as an SDK's (a fixed-seed xorshift).
fn traced_bytes(spans: u32) -> bytes::Bytes {
    use prost::Message;
    let mut request = spanwise_batch::decode_request(&request_bytes(spans)).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for span in request.resource_spans[0].scope_spans[0].spans.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        span.trace_id[8..].copy_from_slice(&state.to_be_bytes());
    }
    request.encode_to_vec().into()
}
