use super::*;
use serde_json::Value;

/// Go's own results (`testdata/reference-output.json`, written by `testdata/reference` from
/// `testdata/reference-cases.json`): each pattern with its texts, and its compile error or the
/// leftmost-first match of each text.
fn reference() -> Vec<(String, Vec<String>, Value)> {
    let outputs: Vec<Value> =
        serde_json::from_str(include_str!("../testdata/reference-output.json")).unwrap();
    outputs
        .into_iter()
        .map(|output| {
            let pattern = output["pattern"].as_str().unwrap().to_owned();
            let texts = serde_json::from_value(output["texts"].clone()).unwrap();
            (pattern, texts, output)
        })
        .collect()
}

/// Patterns Go refuses that compile here (see the crate's documentation).
const ACCEPTED_HERE: &[&str] = &["(?x) a b ", "a{1001}"];

#[test]
fn matches_what_go_matches() {
    let mut compared = 0;
    for (pattern, texts, output) in reference() {
        let compiled = compile(&pattern);
        if let Some(error) = output["error"].as_str() {
            if !ACCEPTED_HERE.contains(&pattern.as_str()) {
                assert!(
                    compiled.is_err(),
                    "{pattern:?}: Go refuses it ({error}), it compiled as {:?}",
                    translate(&pattern)
                );
            }
            continue;
        }
        let regex = compiled.unwrap_or_else(|e| panic!("{pattern:?} (Go compiles it): {e}"));
        for (text, expected) in texts.iter().zip(output["matches"].as_array().unwrap()) {
            let found = regex.find(text).map(|m| vec![m.start(), m.end()]);
            let expected: Option<Vec<usize>> = serde_json::from_value(expected.clone()).unwrap();
            assert_eq!(
                found,
                expected,
                "{pattern:?} (as {:?}) over {text:?}",
                translate(&pattern)
            );
            compared += 1;
        }
    }
    assert!(compared >= 80, "only {compared} comparisons");
}

#[test]
fn untouched_where_the_syntaxes_agree() {
    for pattern in [
        "^http\\.(request|response)\\.body$",
        "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+",
        "\\pL\\p{Greek}\\x{41}\\n\\.",
        "(?i)a(?P<x>b)*?[^a-z]{2,3}",
    ] {
        assert_eq!(translate(pattern), pattern);
    }
}

#[test]
fn the_rust_regex_defaults_differ_from_go_where_it_is_rewritten() {
    // Without the rewriting these would match differently: the cases above test something.
    for (pattern, text) in [
        ("\\bP-\\d{4,}\\b", "患者P-48213"),
        ("\\d+", "٣٤٥"),
        ("\\s", "\u{a0}"),
    ] {
        let plain = Regex::new(pattern).unwrap().find(text).map(|m| m.range());
        let go = compile(pattern).unwrap().find(text).map(|m| m.range());
        assert_ne!(plain, go, "{pattern:?} over {text:?}");
    }
}
