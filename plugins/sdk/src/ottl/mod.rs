//! OTTL conditions over a batch (feature `ottl`): the collector's condition language, as the
//! filter plugin and the head sampler's rules read it.
//!
//! [`Conditions::compile`] parses and compiles a list of conditions at `configure`, naming the
//! bad one by its field, text and column; [`Columns::load`] reads what they need from a batch
//! once per call; [`Spans`] and [`Events`] lend the loaded columns to
//! [`spanwise_ottl::Program::select`], which evaluates a condition a column at a time.

mod columns;
mod conditions;

pub use columns::{At, Columns, Events, Spans};
pub use conditions::{Compiled, Conditions};
pub use spanwise_ottl::{Context, Program, Table};
