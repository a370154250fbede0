//! OpenTelemetry consistent probability sampling as the collector's `pkg/sampling` (contrib
//! v0.161.0) does it, shared by the head sampler plugin and the host's tail sampling: 56-bit
//! thresholds and randomness ([`threshold`]) and W3C tracestate with its `ot` entry, read and
//! written byte for byte as the collector does ([`tracestate`]). No dependencies, so a
//! WebAssembly guest pays nothing for it.

pub mod threshold;
pub mod tracestate;

pub use threshold::{Randomness, Threshold};
pub use tracestate::{OtelState, Text, TraceState, Unreadable};
