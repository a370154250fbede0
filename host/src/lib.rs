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
pub mod pipeline;
pub mod receiver;
pub mod runtime;
pub mod service;
pub mod telemetry;

pub use spanwise_batch as batch;
