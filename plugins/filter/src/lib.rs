//! `filter`: a spanwise processor that drops spans and span events matching the OpenTelemetry
//! Collector `filter` processor's OTTL conditions, read from the same configuration
//! (`error_mode`, `traces.span`, `traces.spanevent`). See `README.md` for what it reads.
//!
//! Conditions are parsed, compiled and their regexes built once, at `configure`. Each call loads
//! the columns the conditions read (an attribute is one packed string read), evaluates each span
//! condition column by column over the spans no earlier one matched and the span event
//! conditions over the events of the spans that stay, and records one `drop-spans` and one
//! `drop-events` edit.
//!
//! Counters it reports: `events_dropped`, `condition_errors` (the host counts dropped spans as
//! `spans_dropped`).

#[cfg(any(test, feature = "cases"))]
#[doc(hidden)]
pub mod cases;
pub mod config;

use config::{Config, ErrorMode};
use spanwise_sdk::ottl::{Columns, Conditions, Context, Events, Spans, Table};
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
        let mut dropped = Vec::new();
        if !self.span.is_empty() {
            let columns = Columns::load(batch, &self.span.sources, &self.span.strings_only);
            let all = (0..batch.len() as u32).collect();
            dropped = matching(&self.span, &Spans(&columns), all, &mut failures)?;
        }
        let mut events = Vec::new();
        if !self.spanevent.is_empty() {
            let event_spans = batch.event_spans();
            if !event_spans.is_empty() {
                let columns =
                    Columns::load(batch, &self.spanevent.sources, &self.spanevent.strings_only);
                // The events of a dropped span go with it: they are not evaluated.
                let mut gone = dropped.iter().peekable();
                let rows = (0..event_spans.len() as u32)
                    .filter(|&event| {
                        let span = event_spans[event as usize];
                        while gone.next_if(|&&row| row < span).is_some() {}
                        gone.peek() != Some(&&span)
                    })
                    .collect();
                let table = Events {
                    columns: &columns,
                    event_spans: &event_spans,
                };
                events = matching(&self.spanevent, &table, rows, &mut failures)?;
            }
        }
        if !events.is_empty() {
            batch.drop_events(&events);
        }
        if !dropped.is_empty() {
            batch.drop_spans(&dropped);
        }
        spanwise_sdk::count("events_dropped", events.len() as u64);
        failures.report();
        Ok(())
    }
}

/// The rows of `rows` (ascending) on which any condition holds, ascending. Each condition runs
/// column by column over the rows no earlier condition matched, so the first that holds
/// decides as it does row by row. A condition that fails on a row counts as false there under
/// `ignore` and `silent`, and fails the call under `propagate`.
fn matching<T: Table + ?Sized>(
    conditions: &Conditions,
    table: &T,
    mut rows: Vec<u32>,
    failures: &mut Failures,
) -> Result<Vec<u32>, ProcessError> {
    let mut matched = Vec::new();
    let mut errors = Vec::new();
    for (index, condition) in conditions.list.iter().enumerate() {
        if rows.is_empty() {
            break;
        }
        let held = condition.program.select(table, &rows, &mut errors);
        if let Some((_, error)) = errors.iter().min_by_key(|(row, _)| *row) {
            if failures.mode == ErrorMode::Propagate {
                return Err(ProcessError::InvalidData(format!(
                    "{} {:?} failed (error_mode: propagate): {error}",
                    condition.field, condition.text
                )));
            }
            failures.note(conditions, index, errors.len() as u64, error);
            errors.clear();
        }
        if !held.is_empty() {
            let mut held_rows = held.iter().peekable();
            rows.retain(|row| held_rows.next_if_eq(&row).is_none());
            matched.extend(held);
        }
    }
    matched.sort_unstable();
    Ok(matched)
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

    /// Condition number `index` failed on `rows` rows, the first with `error`.
    fn note(
        &mut self,
        conditions: &Conditions,
        index: usize,
        rows: u64,
        error: &spanwise_ottl::EvalError,
    ) {
        self.total += rows;
        if self.mode == ErrorMode::Silent {
            return;
        }
        let condition = &conditions.list[index];
        match self.seen.iter_mut().find(|seen| seen.0 == condition.field) {
            Some(seen) => seen.2 += rows,
            None => self.seen.push((
                condition.field.clone(),
                condition.text.clone(),
                rows,
                error.0.clone(),
            )),
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
