//! The collector's reference results (`testdata/reference-output.json`, made by running its own
//! `probabilistic_sampler` over `testdata/reference-cases.json`), shared by the unit tests and
//! the test that runs them through the `.wasm`.

use crate::sampler::{Mode, Sampler};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use spanwise_batch::{Batch, BatchBuilder, kv};
use spanwise_sampling::Threshold;

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

/// 2,003 spans without tracestates or priorities (the batch the head sampler decides in one
/// pass over its trace ids), with random trace ids (span `zero`'s all zero) except that the
/// spans of some rounds of four have randomness at the edges of that pass for `percentage` in
/// `mode` (`proportional` or `equalizing`).
pub fn edge_request(mode: &str, percentage: f64, zero: Option<usize>) -> ExportTraceServiceRequest {
    let mut request = plain(2003, zero);
    let mode = match mode {
        "proportional" => Mode::Proportional,
        _ => Mode::Equalizing,
    };
    let sampler = Sampler::new(mode, percentage as f32, 0, 4);
    set_randomness(
        &mut request,
        &edges(sampler.fresh().expect("a consistent mode").0),
    );
    request
}

/// Randomness values at the edges of the one-pass decision for `threshold`: the threshold and
/// its neighbours, values whose top 16 bits are the threshold's or zero, and the extremes.
fn edges(threshold: Threshold) -> Vec<u64> {
    let t = threshold.0;
    let top = t & !((1 << 40) - 1);
    let mut values = vec![0, 1, (1 << 40) - 1, 1 << 40, (1 << 56) - 1, top, top | 0xff];
    values.extend(
        [t.wrapping_sub(1), t, t + 1]
            .into_iter()
            .filter(|&v| v < 1 << 56),
    );
    values
}

/// Give spans 1900, 1904, 1908, ... (one to each round of four ids the one-pass decision reads)
/// the randomness `values` (bytes 9 to 15 of their trace ids), their other bytes left as they
/// were.
fn set_randomness(request: &mut ExportTraceServiceRequest, values: &[u64]) {
    let spans = &mut request.resource_spans[0].scope_spans[0].spans;
    for (span, value) in spans[1900..].iter_mut().step_by(4).zip(values) {
        span.trace_id[9..].copy_from_slice(&value.to_be_bytes()[1..]);
    }
}

fn plain(n: usize, zero: Option<usize>) -> ExportTraceServiceRequest {
    let mut builder = BatchBuilder::new().resource(vec![kv("service.name", "sleep-api")]);
    for _ in 0..n {
        builder = builder.span("op", vec![]);
    }
    let mut request = builder.build().into_request();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for (i, span) in request.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        let mut id = [0u8; 16];
        for chunk in id.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.copy_from_slice(&state.to_le_bytes());
        }
        if zero == Some(i) {
            id = [0; 16];
        }
        span.trace_id = id.to_vec();
        span.span_id = (i as u64 + 1).to_be_bytes().to_vec();
    }
    request
}
