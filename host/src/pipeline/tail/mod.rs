//! The `tail_sampling` processor's parts: [`buffer`] holds spans by trace until their trace is
//! due for a decision.

pub mod buffer;

#[cfg(test)]
mod tests;
