//! Splitting a batch moves its spans; it does not copy the batch. Counted in bytes allocated
//! (deterministic), not in time: a split that cloned the batch, as the batch processor's splits
//! once did, allocates at least one deep copy per split.

#![allow(unsafe_code)]

use spanwise_batch::{Batch, BatchBuilder, kv};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the bytes this thread asks for while counting is on.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    if COUNTING.with(Cell::get) {
        BYTES.with(|b| b.set(b.get() + bytes));
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
    BYTES.with(|b| b.set(0));
    COUNTING.with(|c| c.set(true));
    let result = f();
    COUNTING.with(|c| c.set(false));
    (result, BYTES.with(Cell::get))
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
