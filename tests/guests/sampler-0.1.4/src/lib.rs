//! A tail sampler as it was built against the released WIT 0.1.4 (the `tail-sampler` world: a
//! list of rows per trace in, a `trace-decision` per trace out), with wit-bindgen and no SDK:
//! the proof that a host of 0.1.7 still runs it. It keeps a trace with an error span with
//! probability 1 (`errors`), a trace whose id ends in an even byte with 0.5 (`default`), and
//! drops the rest (`default`), as the SDK-built `sampler` guest does, without edits.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)] // the generated exports
mod component {
    #[allow(missing_docs, clippy::all)]
    mod bindings {
        wit_bindgen::generate!({
            world: "tail-sampler",
            path: "../../../wit/v0.1.4",
        });
    }

    use bindings::spanwise::processor::batch::SpanBatch;
    use bindings::spanwise::processor::types::{ConfigError, ProcessError, TraceDecision};

    struct Component;

    impl bindings::Guest for Component {
        fn configure(_config: String) -> Result<(), ConfigError> {
            Ok(())
        }

        fn decide(
            batch: &SpanBatch,
            traces: Vec<Vec<u32>>,
        ) -> Result<Vec<TraceDecision>, ProcessError> {
            let status = batch.status_codes();
            let trace_ids = batch.trace_ids();
            let decide = |rows: &Vec<u32>| {
                let (keep, probability, policy) = match rows.first() {
                    None => (false, 0.0, "empty"),
                    Some(_) if rows.iter().any(|&row| status[row as usize] == 2) => {
                        (true, 1.0, "errors")
                    }
                    Some(&first) if trace_ids[first as usize * 16 + 15].is_multiple_of(2) => {
                        (true, 0.5, "default")
                    }
                    Some(_) => (false, 0.0, "default"),
                };
                TraceDecision {
                    keep,
                    probability,
                    policy: policy.into(),
                }
            };
            Ok(traces.iter().map(decide).collect())
        }
    }

    bindings::export!(Component with_types_in bindings);
}
