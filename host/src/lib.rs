//! The spanwise host: loads trace processors compiled to WebAssembly components and runs them in
//! collector-style pipelines between OTLP receivers and exporters.
//!
//! The folders follow the data: [`receiver`] (OTLP in) → [`pipeline`] (processors in config
//! order, over a host-owned [`spanwise_batch::Batch`]) → [`exporter`] (OTLP, file, debug out).
//! [`runtime`] is the WebAssembly side, [`config`] the YAML, [`service`] wires a config into
//! running tasks, [`demo`] is `spanwise demo`.

pub mod config;
pub mod demo;
pub mod exporter;
pub mod loadgen;
pub mod metrics;
pub mod pipeline;
pub mod receiver;
pub mod reload;
pub mod runtime;
pub mod service;
pub mod summary;
pub mod telemetry;
pub mod tls;

pub use spanwise_batch as batch;

/// The allocator the `spanwise` binary runs on, which benches install too so they measure what
/// ships: mimalloc. A batch is a tree of small strings that processors replace one by one; glibc's
/// allocator spent more time on those than the SHA-256 they were hashed with (the masking
/// plugin's bench: 1.9 ms against 1.1 ms per 1,000 spans).
pub type Allocator = mimalloc::MiMalloc;

/// The value to install: `#[global_allocator] static GLOBAL: spanwise::Allocator =
/// spanwise::ALLOCATOR;`.
pub const ALLOCATOR: Allocator = mimalloc::MiMalloc;
