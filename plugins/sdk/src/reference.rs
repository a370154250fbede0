//! The OpenTelemetry Collector's reference results, as the plugins keep them in `testdata/`:
//! `reference-cases.json` holds the OTLP JSON `input` every case runs over and the `cases`
//! (each with a `name` and a `config`), `reference-output.json` what the collector made of each
//! case, in the same order (written by the Go program beside them). Each plugin's `cases`
//! module reads its own cases' results; the files' shape is read here once.

use serde_json::Value;
use spanwise_batch::Batch;

/// The shared input of the cases in `cases` (the text of a `reference-cases.json`).
pub fn input(cases: &str) -> Batch {
    let cases: Value = serde_json::from_str(cases).expect("reference cases in JSON");
    Batch::from_request(serde_json::from_value(cases["input"].clone()).expect("OTLP JSON"))
}

/// Each case of `cases` with the collector's output for it (`output`, the text of a
/// `reference-output.json`), after checking that the two list the same cases in the same
/// order.
pub fn pairs(cases: &str, output: &str) -> Vec<(Value, Value)> {
    let cases: Value = serde_json::from_str(cases).expect("reference cases in JSON");
    let outputs: Vec<Value> = serde_json::from_str(output).expect("reference output in JSON");
    let cases = cases["cases"].as_array().expect("a list of cases");
    assert_eq!(
        cases.len(),
        outputs.len(),
        "regenerate testdata/reference-output.json"
    );
    cases
        .iter()
        .cloned()
        .zip(outputs)
        .inspect(|(case, output)| {
            assert_eq!(
                case["name"], output["name"],
                "regenerate testdata/reference-output.json"
            )
        })
        .collect()
}
