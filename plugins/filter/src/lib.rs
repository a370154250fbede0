//! `filter`: a spanwise processor that drops spans and span events matching the OpenTelemetry
//! Collector `filter` processor's OTTL conditions, read from the same configuration
//! (`error_mode`, `traces.span`, `traces.spanevent`). See `README.md` for what it reads.
//!
//! Conditions are parsed, compiled and their regexes built once, at `configure`. Each call loads
//! the columns the conditions read (an attribute is one packed string read), evaluates the span
//! conditions on every span and the span event conditions on every event of the spans that stay,
//! and records one `drop-spans` and one `drop-events` edit.
//!
//! Counters it reports: `events_dropped`, `condition_errors` (the host counts dropped spans as
//! `spans_dropped`).

#[cfg(any(test, feature = "cases"))]
#[doc(hidden)]
pub mod cases;
pub mod columns;
pub mod conditions;
pub mod config;

use columns::Columns;
use conditions::Conditions;
use config::{Config, ErrorMode};
use spanwise_ottl::Context;
use spanwise_sdk::{ConfigError, LogLevel, ProcessError, Processor, SpanBatch};

/// The filter processor.
#[derive(Debug)]
pub struct Filter {
    error_mode: ErrorMode,
    span: Conditions,
    spanevent: Conditions,
}

impl Processor for Filter {
    fn configure(json: &str) -> Result<Self, ConfigError> {
        let config = Config::parse(json)?;
        Ok(Self {
            error_mode: config.error_mode,
            span: Conditions::compile(Context::Span, "traces.span", &config.traces.span)?,
            spanevent: Conditions::compile(
                Context::SpanEvent,
                "traces.spanevent",
                &config.traces.spanevent,
            )?,
        })
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        let mut failures = Failures::new(self.error_mode);
        let spans = batch.len();
        let mut dropped = vec![false; spans];
        if !self.span.is_empty() {
            let columns = Columns::load(batch, &self.span.sources, &self.span.strings_only);
            for (row, dropped) in dropped.iter_mut().enumerate() {
                *dropped = matches(&self.span, &columns.row(row, 0), &mut failures)?;
            }
        }
        let mut events = Vec::new();
        if !self.spanevent.is_empty() {
            let event_spans = batch.event_spans();
            if !event_spans.is_empty() {
                let columns =
                    Columns::load(batch, &self.spanevent.sources, &self.spanevent.strings_only);
                for (event, &span) in event_spans.iter().enumerate() {
                    // The events of a dropped span go with it.
                    if !dropped[span as usize]
                        && matches(
                            &self.spanevent,
                            &columns.row(span as usize, event),
                            &mut failures,
                        )?
                    {
                        events.push(event as u32);
                    }
                }
            }
        }
        let rows: Vec<u32> = (0..spans as u32)
            .filter(|&row| dropped[row as usize])
            .collect();
        if !events.is_empty() {
            batch.drop_events(&events);
        }
        if !rows.is_empty() {
            batch.drop_spans(&rows);
        }
        spanwise_sdk::count("events_dropped", events.len() as u64);
        failures.report();
        Ok(())
    }
}

/// Whether any condition holds on `row`: the first that does decides. A condition that fails
/// is false under `ignore` and `silent`, and fails the call under `propagate`.
fn matches<R: spanwise_ottl::Row>(
    conditions: &Conditions,
    row: &R,
    failures: &mut Failures,
) -> Result<bool, ProcessError> {
    for (index, condition) in conditions.list.iter().enumerate() {
        match condition.program.eval(row) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(error) => {
                if failures.mode == ErrorMode::Propagate {
                    return Err(ProcessError::InvalidData(format!(
                        "{} {:?} failed (error_mode: propagate): {error}",
                        condition.field, condition.text
                    )));
                }
                failures.note(conditions, index, error);
            }
        }
    }
    Ok(false)
}

/// Conditions that failed during one call, for one log line per condition and a counter.
struct Failures {
    mode: ErrorMode,
    /// `(field, text, rows, first error)`.
    seen: Vec<(String, String, u64, String)>,
    total: u64,
}

impl Failures {
    fn new(mode: ErrorMode) -> Self {
        Self {
            mode,
            seen: Vec::new(),
            total: 0,
        }
    }

    fn note(&mut self, conditions: &Conditions, index: usize, error: spanwise_ottl::EvalError) {
        self.total += 1;
        if self.mode == ErrorMode::Silent {
            return;
        }
        let condition = &conditions.list[index];
        match self.seen.iter_mut().find(|seen| seen.0 == condition.field) {
            Some(seen) => seen.2 += 1,
            None => self
                .seen
                .push((condition.field.clone(), condition.text.clone(), 1, error.0)),
        }
    }

    fn report(self) {
        for (field, text, rows, error) in &self.seen {
            spanwise_sdk::log(
                LogLevel::Warn,
                &format!(
                    "{field} {text:?} failed on {rows} row(s), counted as false (error_mode: ignore); first error: {error}"
                ),
            );
        }
        spanwise_sdk::count("condition_errors", self.total);
    }
}

spanwise_sdk::export_processor!(Filter);

#[cfg(test)]
mod tests;
