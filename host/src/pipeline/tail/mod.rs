//! The `tail_sampling` processor: [`buffer`] holds spans by trace until their trace is due,
//! [`stage`] runs the processor (its task, its timer, the sampler plugin), [`decisions`]
//! applies a sampler's answer to the due traces.

pub mod buffer;
pub mod decisions;
pub mod stage;

pub use stage::{TailSampler, TailSettings};

#[cfg(test)]
mod tests;
