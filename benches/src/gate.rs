//! `overhead-gate GATE_TABLE [GROUP...]`: time every group of the table (or only the groups
//! named) in alternating rounds of its two sides (`spanwise_benches::interleave`), print the
//! figures, and fail when a ratio (or a time per span) is past its limit in two measurements in
//! a row (`benches/gate.txt`, see `spanwise_benches::overhead`). Exit 0: within the limits; 1:
//! past one; 2: a bad table or argument.

// The allocator of the `spanwise` binary, so the figures are those of what ships.
#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

use spanwise_benches::interleave::{Settings, measure};
use spanwise_benches::overhead::{Check, Rule, judge_twice, parse};
use spanwise_benches::pairs::{Pair, Setup};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((table, only)) = args.split_first() else {
        eprintln!("usage: overhead-gate GATE_TABLE [GROUP...]");
        return ExitCode::from(2);
    };
    let rules = match std::fs::read_to_string(table)
        .map_err(|e| e.to_string())
        .and_then(|text| parse(&text))
    {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("overhead-gate: {table}: {e}");
            return ExitCode::from(2);
        }
    };
    let rules: Vec<&Rule> = rules
        .iter()
        .filter(|rule| only.is_empty() || only.contains(&rule.group))
        .collect();
    if let Some(missing) = only.iter().find(|g| !rules.iter().any(|r| &r.group == *g)) {
        eprintln!("overhead-gate: {table} has no line for group {missing:?}");
        return ExitCode::from(2);
    }

    let setup = Setup::new();
    let mut pairs: Vec<Pair> = setup.plugin_pairs();
    pairs.extend(setup.pipeline_pairs());
    let settings = Settings::default();
    let mut failed = Vec::new();
    for rule in rules {
        let Some(pair) = pairs.iter_mut().find(|p| p.group == rule.group) else {
            eprintln!(
                "overhead-gate: {table}: no bench group {:?} (groups: {})",
                rule.group,
                pairs
                    .iter()
                    .map(|p| p.group.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return ExitCode::from(2);
        };
        let pipeline = pair.names.0 == "pass_through";
        if pipeline != matches!(rule.check, Check::Min(_)) {
            eprintln!(
                "overhead-gate: {table}: group {:?} compares {} with {}: use `{}`",
                rule.group,
                pair.names.1,
                pair.names.0,
                if pipeline {
                    "min FRACTION"
                } else {
                    "max RATIO` or `report"
                }
            );
            return ExitCode::from(2);
        }
        let verdicts = judge_twice(rule, pair.spans, || measure(pair, settings));
        for (n, verdict) in verdicts.iter().enumerate() {
            if n > 0 {
                println!("{:<18} measured again:", "");
            }
            println!("{}", verdict.line());
        }
        if verdicts.last().is_some_and(|v| !v.passed) {
            failed.push(rule.group.clone());
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "overhead-gate: past the limits of {table}: {}",
            failed.join(", ")
        );
        ExitCode::FAILURE
    }
}
