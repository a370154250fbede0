//! A test-only head sampler, exported as the `head-sampler` world (WIT 0.1.7); see
//! `tests/guests/README.md`.

use spanwise_sdk::{
    ConfigError, Level, ProcessError, Processor, SAMPLING_PRIORITY, SpanBatch, StrColumn, StrField,
};

/// Edits by the first span's name.
pub struct HeadView;

impl Processor for HeadView {
    fn configure(_: &str) -> Result<Self, ConfigError> {
        Ok(Self)
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        let len = batch.len() as u32;
        let names = batch.str_field(StrField::Name);
        match names.get(0).unwrap_or("") {
            // Returned edits the host must refuse.
            "bad-drop" => batch.drop_spans(&[len]),
            "bad-fill" => batch.fill_str_field(StrField::TraceState, &[0, len + 7], "x=1"),
            // What it was handed, written on every span (an edit that crosses at once).
            "view" => {
                let seen = format!(
                    "len={} ids={} states={} priorities={}",
                    batch.len(),
                    batch.trace_ids().len(),
                    batch.str_field_count(StrField::TraceState),
                    batch.attribute_count(Level::Span, SAMPLING_PRIORITY),
                );
                let rows: Vec<u32> = (0..len).collect();
                let values = StrColumn::from_options(rows.iter().map(|_| Some(seen.as_str())));
                batch.set_str_attribute(Level::Span, "guest.view", &rows, &values);
            }
            // A head sampler's usual edits, both returned: the first span dropped, the others
            // given one tracestate.
            _ => {
                let kept: Vec<u32> = (1..len).collect();
                batch.fill_str_field(StrField::TraceState, &kept, "ot=th:8");
                batch.drop_spans(&[0]);
            }
        }
        Ok(())
    }
}

spanwise_sdk::export_head_sampler!(HeadView);
