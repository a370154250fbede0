//! `head-sampler`: a spanwise processor that keeps a share of traces, with decisions
//! bit-identical to the OpenTelemetry Collector's `probabilistic_sampler` (contrib v0.161.0)
//! and read from the same configuration (`sampling_percentage`, `hash_seed`, `mode`,
//! `fail_closed`, `sampling_precision`), plus per-rule rates. See `README.md`.
//!
//! A decision depends on the span's trace id, its tracestate and its `sampling.priority`
//! attribute (and, with rules, on which rule matches), so the spans of a trace get the same
//! decision in every process that samples at the same rate. Each call reads the trace ids and
//! counts the spans with a tracestate and with a priority (reading those columns only when the
//! counts are not 0), decides span by span into one reused buffer, and records one `drop-spans`
//! and one edit of the tracestates that change: `set-str-field`, or `fill-str-field` when every
//! kept span gets the same one (a batch without tracestates).
//!
//! Counters it reports: `sampling_errors` (spans whose randomness or tracestate was in error:
//! dropped under `fail_closed`, kept otherwise), `rule_errors` (rule conditions that failed on
//! a span, counted as not matching). The host counts dropped spans as `spans_dropped`.

#[cfg(any(test, feature = "cases"))]
#[doc(hidden)]
pub mod cases;
pub mod config;
pub mod priority;
pub mod sampler;

use config::Config;
use priority::Priority;
use sampler::{Sampler, SpanError, SpanInput};
use spanwise_sampling::{Randomness, Threshold};
use spanwise_sdk::ottl::{Columns, Conditions, Context, Spans};
use spanwise_sdk::{
    ConfigError, Level, LogLevel, ProcessError, Processor, SpanBatch, StrColumn, StrField,
};

/// The `sampling.priority` attribute (the one the host reads for the `head-sampler` world).
pub const PRIORITY_KEY: &str = spanwise_sdk::SAMPLING_PRIORITY;

/// The head sampler.
#[derive(Debug)]
pub struct HeadSampler {
    fail_closed: bool,
    default: Sampler,
    /// The rules' conditions and, in the same order, their samplers.
    rules: Option<(Conditions, Vec<Sampler>)>,
    /// What the last call decided (its lists are reused).
    outcome: Outcome,
}

/// What one call decided: kept between calls, so that its lists are allocated once, not once
/// per call.
#[derive(Debug, Default)]
struct Outcome {
    /// The rows to drop.
    dropped: Vec<u32>,
    /// The rows whose tracestate changes, and (in the same order) their new tracestates.
    rewritten: Vec<u32>,
    states: StrColumn,
    /// The tracestates being written (moved into `states` at the end of each row).
    buffer: String,
    /// Spans decided on an error, and the first error.
    errors: u64,
    first_error: Option<SpanError>,
}

/// For each set of four decisions (bit `i` set when the `i`th is kept): how many are set, and
/// where they are, first to last (the places past the count are 0 and written over later).
const SPREAD: [(usize, [u32; 4]); 16] = {
    let mut table = [(0, [0; 4]); 16];
    let mut mask = 0;
    while mask < 16 {
        let (mut count, mut bit) = (0, 0);
        while bit < 4 {
            if mask & (1 << bit) != 0 {
                table[mask].1[count] = bit as u32;
                count += 1;
            }
            bit += 1;
        }
        table[mask].0 = count;
        mask += 1;
    }
    table
};

/// One round of [`Outcome::decide_uniform`] over four trace ids: the bits (`i` for the `i`th
/// id) of those whose randomness has its top 16 bits (bytes 9 and 10) above `top`, and whether
/// any has them equal to `top` or zero, when only the whole value decides.
#[cfg(not(all(target_family = "wasm", target_feature = "simd128")))]
#[inline(always)]
fn round(ids: &[u8; 64], top: u16) -> (usize, bool) {
    let high = |i: usize| u16::from(ids[16 * i + 9]) << 8 | u16::from(ids[16 * i + 10]);
    let highs = [high(0), high(1), high(2), high(3)];
    let above = highs
        .iter()
        .enumerate()
        .fold(0, |mask, (i, &h)| mask | usize::from(h > top) << i);
    (above, highs.iter().any(|&h| h == top || h == 0))
}

/// [`round`] with WebAssembly SIMD: the four ids' bytes 9 and 10 gathered into four 16-bit
/// lanes by three shuffles, then compared at once. Cranelift compiles each WebAssembly SIMD
/// instruction to about one x86 instruction, where the scalar round's byte loads, shifts and
/// compares (with its spills) took three times as many.
#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
#[inline(always)]
fn round(ids: &[u8; 64], top: u16) -> (usize, bool) {
    use core::arch::wasm32::{
        i8x16_shuffle, i16x8_bitmask, i16x8_eq, u16x8_gt, u16x8_splat, v128_or,
    };
    let id = |i: usize| spanwise_sdk::load16(ids[16 * i..16 * i + 16].try_into().expect("16"));
    // 16-bit lanes are little-endian: byte 10 is a lane's low byte, byte 9 its high one.
    let ab = i8x16_shuffle::<10, 9, 26, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>(id(0), id(1));
    let cd = i8x16_shuffle::<10, 9, 26, 25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0>(id(2), id(3));
    let highs = i8x16_shuffle::<0, 1, 2, 3, 16, 17, 18, 19, 0, 0, 0, 0, 0, 0, 0, 0>(ab, cd);
    let above = i16x8_bitmask(u16x8_gt(highs, u16x8_splat(top))) & 15;
    let rare = v128_or(
        i16x8_eq(highs, u16x8_splat(top)),
        i16x8_eq(highs, u16x8_splat(0)),
    );
    (usize::from(above), i16x8_bitmask(rare) & 15 != 0)
}

impl Outcome {
    fn clear(&mut self) {
        self.dropped.clear();
        self.rewritten.clear();
        self.states.offsets.clear();
        self.states.offsets.push(0);
        self.states.data.clear();
        self.states.present.clear();
        self.errors = 0;
        self.first_error = None;
    }

    /// Decide row `row` as `sampler` decides `input`.
    fn decide(&mut self, row: u32, sampler: &Sampler, input: &SpanInput<'_>, fail_closed: bool) {
        self.buffer.clear();
        let decision = sampler.decide(input, fail_closed, &mut self.buffer);
        if let Some(error) = decision.error {
            self.errors += 1;
            self.first_error.get_or_insert(error);
        }
        if !decision.keep {
            self.dropped.push(row);
        } else if decision.rewritten && self.buffer != input.trace_state {
            self.rewritten.push(row);
            self.states.data.extend_from_slice(self.buffer.as_bytes());
            self.states.offsets.push(self.states.data.len() as u32);
            self.states.present.push(1);
        }
    }

    /// The usual batch: no rules, no priority, no tracestate, and a consistent mode. Each
    /// span's decision is then its trace id's randomness against one threshold, and each kept
    /// span gets the same tracestate (what [`Sampler::decide`] decides and writes of such a
    /// span): the rows to write it on are left in `rewritten`, and `states` stays empty.
    /// `false`, with the outcome unfinished, at a zero trace id (an error, which the general
    /// path handles).
    fn decide_uniform(&mut self, threshold: Threshold, trace_ids: &[u8]) -> bool {
        // Each round of four ids writes four rows to the end of both lists and advances each
        // end by how many of them it keeps ([`SPREAD`]), so the loop has no branch on the
        // decisions and one slice check per list a round. The randomness is compared
        // by its top 16 bits (bytes 9 and 10 of the id), which decide unless they equal the
        // threshold's or are zero: WebAssembly has no byte swap to read all 56 bits at once.
        // The whole value decides in those rare cases (about 2 ids in 65,536), and a zero
        // trace id shows there.
        let rows = trace_ids.len() / 16;
        let top = (threshold.0 >> 40) as u16;
        let (kept, dropped) = (&mut self.rewritten, &mut self.dropped);
        // Room for a whole round past the last row: a round writes four rows to each list.
        kept.resize(rows + 4, 0);
        dropped.resize(rows + 4, 0);
        let (mut k, mut d, mut row) = (0, 0, 0u32);
        let exact = |id: &[u8]| {
            let id: &[u8; 16] = id.try_into().expect("16 bytes per trace id");
            (*id != [0; 16]).then(|| threshold.keeps(Randomness::from_trace_id(id)))
        };
        // Four ids a round, the rare cases looked for once a round (a round with one goes id
        // by id), then the ids left over one by one.
        let mut rounds = trace_ids.chunks_exact(64);
        for ids in rounds.by_ref() {
            let (above, rare) = round(ids.try_into().expect("64 bytes a round"), top);
            let mask = if rare {
                let mut mask = 0;
                for (i, id) in ids.chunks_exact(16).enumerate() {
                    let Some(keep) = exact(id) else {
                        return false;
                    };
                    mask |= usize::from(keep) << i;
                }
                mask
            } else {
                above
            };
            // The round's kept rows go to the end of one list and the others to the end of
            // the other, four values written to each whatever the decisions: the ends advance
            // by how many each got.
            let (keep, drop) = (&SPREAD[mask], &SPREAD[!mask & 15]);
            kept[k..k + 4].copy_from_slice(&keep.1.map(|at| row + at));
            dropped[d..d + 4].copy_from_slice(&drop.1.map(|at| row + at));
            k += keep.0;
            d += drop.0;
            row += 4;
        }
        for id in rounds.remainder().chunks_exact(16) {
            let Some(keep) = exact(id) else {
                return false;
            };
            kept[k] = row;
            dropped[d] = row;
            k += usize::from(keep);
            d += usize::from(!keep);
            row += 1;
        }
        kept.truncate(k);
        dropped.truncate(d);
        true
    }
}

impl Processor for HeadSampler {
    fn configure(json: &str) -> Result<Self, ConfigError> {
        let config = Config::parse(json)?;
        let mode = config.mode();
        let precision = config.sampling_precision as u32;
        let sampler = |percentage| Sampler::new(mode, percentage, config.hash_seed, precision);
        let rules = if config.rules.is_empty() {
            None
        } else {
            let conditions =
                Conditions::compile_fields(
                    Context::Span,
                    config.rules.iter().enumerate().map(|(i, rule)| {
                        (format!("rules[{i}].condition"), rule.condition.as_str())
                    }),
                )?;
            let samplers = config
                .rules
                .iter()
                .map(|rule| sampler(rule.sampling_percentage))
                .collect();
            Some((conditions, samplers))
        };
        Ok(Self {
            fail_closed: config.fail_closed,
            default: sampler(config.sampling_percentage),
            rules,
            outcome: Outcome::default(),
        })
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        // The trace ids tell the number of spans too (one call to the host fewer).
        let trace_ids = batch.trace_ids();
        if trace_ids.is_empty() {
            return Ok(());
        }
        // Most batches carry no tracestate at all: then the column is not read (a count
        // crosses, not 1,001 offsets). Otherwise it is checked as UTF-8 once, not row by row.
        let states = (batch.str_field_count(StrField::TraceState) > 0)
            .then(|| batch.str_field(StrField::TraceState).into_rows());
        let priorities = priorities(batch);
        let rule_of = self.rules_of(batch);

        let out = &mut self.outcome;
        out.clear();
        let uniform = match (&states, &priorities, &rule_of) {
            (None, None, None) => self.default.fresh(),
            _ => None,
        };
        let done = uniform.is_some_and(|(threshold, _)| out.decide_uniform(threshold, &trace_ids));
        if !done {
            out.clear();
            for (row, trace_id) in trace_ids.chunks_exact(16).enumerate() {
                let trace_id: &[u8; 16] = trace_id.try_into().expect("16 bytes per trace id");
                let trace_state = states
                    .as_ref()
                    .and_then(|states| states.get(row))
                    .unwrap_or("");
                let input = SpanInput {
                    trace_id,
                    trace_state,
                    priority: priorities.as_ref().map_or(Priority::Defer, |all| all[row]),
                };
                let sampler = match (&rule_of, &self.rules) {
                    (Some(rule_of), Some((_, samplers))) => {
                        samplers.get(rule_of[row] as usize).unwrap_or(&self.default)
                    }
                    _ => &self.default,
                };
                out.decide(row as u32, sampler, &input, self.fail_closed);
            }
        }
        match uniform {
            _ if out.rewritten.is_empty() => {}
            // Every kept span gets the same tracestate: one value crosses, not a column of
            // copies (WIT 0.1.6's `fill-str-field`).
            Some((_, fresh)) if done => {
                batch.fill_str_field(StrField::TraceState, &out.rewritten, fresh);
            }
            _ => batch.set_str_field(StrField::TraceState, &out.rewritten, &out.states),
        }
        if !out.dropped.is_empty() {
            batch.drop_spans(&out.dropped);
        }
        let (errors, first_error) = (out.errors, out.first_error);
        if let Some(error) = first_error {
            spanwise_sdk::count("sampling_errors", errors);
            let outcome = if self.fail_closed { "dropped" } else { "kept" };
            spanwise_sdk::log(
                LogLevel::Debug,
                &format!(
                    "{errors} span(s) {outcome} on a sampling error (fail_closed: {}); first: {}",
                    self.fail_closed,
                    error.message()
                ),
            );
        }
        Ok(())
    }
}

impl HeadSampler {
    /// For each span, the index of the first rule whose condition holds (the number of rules
    /// when none does), or `None` without rules.
    fn rules_of<B: SpanBatch + ?Sized>(&self, batch: &B) -> Option<Vec<u32>> {
        let (conditions, _) = self.rules.as_ref()?;
        let columns = Columns::load(batch, &conditions.sources, &conditions.strings_only);
        let table = Spans(&columns);
        let mut rule_of = vec![conditions.list.len() as u32; batch.len()];
        let mut rows: Vec<u32> = (0..batch.len() as u32).collect();
        let mut errors = Vec::new();
        let mut failed = 0u64;
        for (index, rule) in conditions.list.iter().enumerate() {
            if rows.is_empty() {
                break;
            }
            let held = rule.program.select(&table, &rows, &mut errors);
            if let Some((_, error)) = errors.first() {
                failed += errors.len() as u64;
                spanwise_sdk::log(
                    LogLevel::Warn,
                    &format!(
                        "{} {:?} failed on {} span(s), counted as not matching; first error: {error}",
                        rule.field,
                        rule.text,
                        errors.len()
                    ),
                );
                errors.clear();
            }
            for &row in &held {
                rule_of[row as usize] = index as u32;
            }
            let mut held = held.iter().peekable();
            rows.retain(|row| held.next_if_eq(&row).is_none());
        }
        if failed > 0 {
            spanwise_sdk::count("rule_errors", failed);
        }
        Some(rule_of)
    }
}

/// Each span's `sampling.priority`, or `None` when no span has one (the usual case: the host
/// counts the rows with the key, no list crosses and no value is read).
fn priorities<B: SpanBatch + ?Sized>(batch: &B) -> Option<Vec<Priority>> {
    if batch.attribute_count(Level::Span, PRIORITY_KEY) == 0 {
        return None;
    }
    Some(
        batch
            .attribute(Level::Span, PRIORITY_KEY)
            .iter()
            .map(|value| value.as_ref().map_or(Priority::Defer, Priority::of))
            .collect(),
    )
}

spanwise_sdk::export_head_sampler!(HeadSampler);

#[cfg(test)]
mod tests;
