//! A test-only processor that does nothing: the cost of one call into a plugin.

use spanwise_sdk::{ConfigError, ProcessError, Processor, SpanBatch};

/// Does nothing.
pub struct Noop;

impl Processor for Noop {
    fn configure(_config: &str) -> Result<Self, ConfigError> {
        Ok(Noop)
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, _batch: &mut B) -> Result<(), ProcessError> {
        Ok(())
    }
}

spanwise_sdk::export_processor!(Noop);
