//! The `tail_sampling` processor: [`buffer`] holds spans by trace until their trace is due,
//! [`stage`] runs the processor (its task, its timer, the sampler plugin), [`decisions`]
//! applies a sampler's answer to the due traces, [`reload`] swaps in new samplers.

pub mod buffer;
pub mod decisions;
pub mod reload;
pub mod stage;

pub use reload::reload_samplers;
pub use stage::{Samplers, TailSampler, TailSettings};

#[cfg(test)]
mod tests;
