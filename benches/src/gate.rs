//! `overhead-gate CRITERION_DIR GATE_TABLE`: judge the latest criterion estimates by the table
//! (`benches/gate.txt`, see `spanwise_benches::overhead`), print every figure of the run, and
//! fail when any ratio is past its limit.

use spanwise_benches::overhead::{judge, mean_ns, parse};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, table] = args.as_slice() else {
        eprintln!("usage: overhead-gate CRITERION_DIR GATE_TABLE");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
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
    let mut failed = Vec::new();
    for rule in &rules {
        match judge(rule, |group, function| mean_ns(&dir, group, function)) {
            Ok(verdict) => {
                println!("{}", verdict.line());
                if !verdict.passed {
                    failed.push(rule.group.clone());
                }
            }
            Err(e) => {
                eprintln!("overhead-gate: {e}");
                return ExitCode::from(2);
            }
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
