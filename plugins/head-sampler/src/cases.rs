//! The collector's reference results (`testdata/reference-output.json`, made by running its own
//! `probabilistic_sampler` over `testdata/reference-cases.json`), shared by the unit tests and
//! the test that runs them through the `.wasm`.

use spanwise_batch::Batch;

/// The cases and their shared input.
const CASES: &str = include_str!("../testdata/reference-cases.json");
/// What the collector made of each case.
const OUTPUT: &str = include_str!("../testdata/reference-output.json");

/// One config and what the collector did with the shared input under it.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The case's name.
    pub name: String,
    /// The config, as JSON.
    pub config: String,
    /// The spans kept, in order, as `(span id in hex, tracestate)`; or the collector refused
    /// the config (its message).
    pub expected: Result<Vec<(String, String)>, String>,
}

/// The shared input: 156 spans of every trace id, tracestate and priority shape.
pub fn reference_input() -> Batch {
    spanwise_sdk::reference::input(CASES)
}

/// Every reference case with the collector's result.
pub fn reference() -> Vec<Reference> {
    spanwise_sdk::reference::pairs(CASES, OUTPUT)
        .into_iter()
        .map(|(case, output)| {
            let expected = match output["error"].as_str() {
                Some(error) => Err(error.to_owned()),
                None => Ok(output["kept"]
                    .as_array()
                    .expect("kept spans")
                    .iter()
                    .map(|kept| {
                        (
                            kept["span_id"].as_str().unwrap().to_owned(),
                            kept["trace_state"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()),
            };
            Reference {
                name: case["name"].as_str().unwrap().to_owned(),
                config: case["config"].to_string(),
                expected,
            }
        })
        .collect()
}

/// The spans of `batch` as `(span id in hex, tracestate)`, in order.
pub fn kept(batch: &Batch) -> Vec<(String, String)> {
    batch
        .resource_spans()
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|span| (hex::encode(&span.span_id), span.trace_state.clone()))
        .collect()
}
