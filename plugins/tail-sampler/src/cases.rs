//! The collector's reference results (`testdata/reference-output.json`, made by running its own
//! `tail_sampling` processor over `testdata/reference-cases.json`), shared by the unit tests and
//! the test that runs them through the `.wasm`.

use spanwise_batch::Batch;
use spanwise_sdk::{TraceDecisions, TraceRows};
use std::collections::BTreeSet;

/// The cases and their shared input.
const CASES: &str = include_str!("../testdata/reference-cases.json");
/// What the collector made of each case.
const OUTPUT: &str = include_str!("../testdata/reference-output.json");

/// One config and what the collector kept of the shared input under it.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The case's name.
    pub name: String,
    /// The sampler config, as JSON: the case's `policies` and `sample_on_first_match`.
    pub config: String,
    /// The span ids kept (hex); or the collector refused the config (its message).
    pub expected: Result<BTreeSet<String>, String>,
}

/// The shared input: 80 traces of 1 to 6 spans over three resources.
pub fn reference_input() -> Batch {
    spanwise_sdk::reference::input(CASES)
}

/// Every reference case with the collector's result.
pub fn reference() -> Vec<Reference> {
    spanwise_sdk::reference::pairs(CASES, OUTPUT)
        .into_iter()
        .map(|(case, output)| {
            let mut config = case["config"].clone();
            // The processor's own key; the sampler takes the rest.
            config.as_object_mut().unwrap().remove("decision_wait");
            let expected = match output["error"].as_str() {
                Some(error) => Err(error.to_owned()),
                None => Ok(output["kept"]
                    .as_array()
                    .expect("kept spans")
                    .iter()
                    .map(|id| id.as_str().unwrap().to_owned())
                    .collect()),
            };
            Reference {
                name: case["name"].as_str().unwrap().to_owned(),
                config: config.to_string(),
                expected,
            }
        })
        .collect()
}

/// The rows of each trace of `batch`, in order of first appearance, as the host groups them.
pub fn traces_of(batch: &Batch) -> TraceRows {
    let ids = batch.trace_ids();
    let mut order: Vec<[u8; 16]> = Vec::new();
    let mut rows: std::collections::HashMap<[u8; 16], Vec<u32>> = Default::default();
    for (row, id) in ids.chunks_exact(16).enumerate() {
        let id: [u8; 16] = id.try_into().unwrap();
        rows.entry(id)
            .or_insert_with(|| {
                order.push(id);
                Vec::new()
            })
            .push(row as u32);
    }
    let lists: Vec<Vec<u32>> = order.iter().map(|id| rows.remove(id).unwrap()).collect();
    TraceRows::from_lists(&lists)
}

/// The span ids (hex) of the traces `decisions` keep.
pub fn kept(batch: &Batch, traces: &TraceRows, decisions: &TraceDecisions) -> BTreeSet<String> {
    let ids = batch.span_ids();
    traces
        .iter()
        .zip(decisions.iter())
        .filter(|(_, d)| d.keep)
        .flat_map(|(rows, _)| rows.iter())
        .map(|&row| hex::encode(&ids[row as usize * 8..row as usize * 8 + 8]))
        .collect()
}
