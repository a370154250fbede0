//! The collector's own OTTL parser (contrib v0.161.0, span context, standard converters) against
//! this one, on `testdata/conditions.json`: every condition it accepts parses here, and every
//! one it refuses as invalid syntax is refused here too. (It also refuses conditions for what
//! they name, an unknown path such as `duration`; naming is the plugin's business, not the
//! parser's.) `testdata/reference-parse.json` is its output; `testdata/reference/` makes it.

use spanwise_ottl::parse_condition;

#[test]
fn the_collector_and_this_parser_agree_on_syntax() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/reference-parse.json"
    ))
    .expect("the reference output exists");
    let results: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JSON");
    let (mut accepted, mut refused) = (0, 0);
    for result in &results {
        let condition = result["condition"].as_str().expect("a condition");
        let ours = parse_condition(condition);
        if result["accepted"].as_bool() == Some(true) {
            assert!(
                ours.is_ok(),
                "{condition:?}: the collector accepts it, we say {ours:?}"
            );
            accepted += 1;
        } else if result["error"]
            .as_str()
            .is_some_and(|e| e.contains("invalid syntax"))
        {
            assert!(
                ours.is_err(),
                "{condition:?}: the collector refuses its syntax, we accept it"
            );
            refused += 1;
        }
    }
    assert!(
        accepted >= 30 && refused >= 15,
        "{accepted} accepted, {refused} refused"
    );
}
