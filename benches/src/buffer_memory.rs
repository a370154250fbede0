//! `buffer-memory`: what the tail sampler's buffer holds in memory, measured with a counting
//! allocator over 100,000 spans (20,000 traces of five): the heap per span, its overhead beyond
//! the span's encoded size, and how close the buffer's own count (what `max_buffer_mib` limits)
//! is to the heap it really holds. Exits non-zero when the count is off by more than TOLERANCE
//! percent (default 10) either way.
//!
//! Usage: buffer-memory [TOLERANCE]

use prost::Message;
use spanwise::pipeline::tail::buffer::{BufferLimits, TraceBuffer};
use spanwise_benches::traced_batch;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// The `spanwise` binary's allocator, counting the bytes asked for and not yet given back.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// A global allocator is an unsafe trait; this one only counts and forwards every call.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { spanwise::ALLOCATOR.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { spanwise::ALLOCATOR.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { spanwise::ALLOCATOR.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { spanwise::ALLOCATOR.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    let tolerance: f64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("TOLERANCE is a percentage"))
        .unwrap_or(10.0);
    const SPANS: usize = 100_000;
    let limits = BufferLimits {
        decision_wait: Duration::from_secs(30),
        num_traces: 50_000,
        max_bytes: usize::MAX,
        sampled_cache_size: 50_000,
        non_sampled_cache_size: 50_000,
    };
    let before = LIVE.load(Ordering::SeqCst);
    let batch = traced_batch(SPANS);
    let encoded: usize = batch
        .resource_spans()
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.encoded_len())
        .sum();
    let mut buffer = TraceBuffer::new(limits);
    buffer.add(batch, Duration::ZERO);
    let held = (LIVE.load(Ordering::SeqCst) - before) as f64;
    let per_span = held / SPANS as f64;
    let encoded_per_span = encoded as f64 / SPANS as f64;
    let counted = buffer.bytes() as f64;
    let off = 100.0 * (counted - held) / held;
    println!(
        "tail buffer, {SPANS} spans of {} traces: {per_span:.0} bytes of heap per span, \
         {encoded_per_span:.0} encoded ({:.0} bytes of overhead per span); the buffer counts \
         {:.0} per span ({off:+.1}% of the heap, tolerance {tolerance}%)",
        buffer.traces(),
        per_span - encoded_per_span,
        counted / SPANS as f64,
    );
    if off.abs() > tolerance {
        eprintln!("buffer-memory: the buffer's count is {off:+.1}% off the heap it holds");
        std::process::exit(1);
    }
}
