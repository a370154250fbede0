//! The WebAssembly runtime: one wasmtime [`Engine`](wasmtime::Engine) per process, components
//! compiled once and cached on disk, one `Store` per plugin instance with a deadline, a memory
//! cap and an output cap per call.
//!
//! The embed sequence follows wasmtime's `examples/component`: `bindgen!` ([`bindings`]) →
//! [`Runtime::load`] (a `Component` and its `InstancePre`) → [`Plugin::instantiate`] (a `Store`,
//! `configure`) → [`PluginInstance::process`] (one `call_process` per batch).

pub mod bindings;
mod cache;
mod digests;
mod engine;
mod error;
mod instance;
mod log;
pub mod state;

pub use cache::CacheDirError;
pub use engine::{EPOCH_TICK, Plugin, Runtime, RuntimeSettings};
pub use error::{CallError, LoadError};
pub use instance::{Limits, PluginInstance};
pub use log::PluginLog;
pub use state::PluginContext;
