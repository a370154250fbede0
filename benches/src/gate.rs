//! `overhead-gate CRITERION_DIR [MAX_RATIO] [GROUP=RATIO ...]`: read the latest criterion
//! estimates of the `plugin_overhead` bench and fail when a WebAssembly run costs more than
//! `MAX_RATIO` (default 4) times its native twin, or than `RATIO` for a group given its own
//! (`redact_1000_spans=1.3`). Prints every figure, per span too for the 1,000-span groups, so the
//! numbers of one run can be quoted.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn mean_ns(dir: &Path, group: &str, function: &str) -> Result<f64, String> {
    let file = dir
        .join(group)
        .join(function)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e} (run the bench first)", file.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    json["mean"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no mean.point_estimate", file.display()))
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: overhead-gate CRITERION_DIR [MAX_RATIO]");
        return ExitCode::from(2);
    };
    let max_ratio: f64 = match args.next().map(|r| r.parse()) {
        None => 4.0,
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            eprintln!("MAX_RATIO: {e}");
            return ExitCode::from(2);
        }
    };
    let mut limits: Vec<(String, f64)> = Vec::new();
    for arg in args {
        match arg.split_once('=').map(|(g, r)| (g, r.parse::<f64>())) {
            Some((group, Ok(ratio))) => limits.push((group.to_owned(), ratio)),
            _ => {
                eprintln!("overhead-gate: {arg:?} is not GROUP=RATIO");
                return ExitCode::from(2);
            }
        }
    }
    let mut failed = false;
    for group in [
        "empty_call",
        "url_1000_spans",
        "redact_1000_spans",
        "filter_1000_spans",
        "head_sampler_1000_spans",
        "tail_sampler_1000_traces",
    ] {
        let (native, wasm) = match (mean_ns(&dir, group, "native"), mean_ns(&dir, group, "wasm")) {
            (Ok(n), Ok(w)) => (n, w),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("overhead-gate: {e}");
                return ExitCode::from(2);
            }
        };
        let ratio = wasm / native;
        let per_item = |unit: &str| {
            format!(
                "   per {unit}: native {:.0} ns, wasm {:.0} ns",
                native / 1e3,
                wasm / 1e3
            )
        };
        let per_span = if group.ends_with("_1000_spans") {
            per_item("span")
        } else if group.ends_with("_1000_traces") {
            per_item("trace")
        } else {
            String::new()
        };
        println!(
            "{group:<24} native {:>10.2} µs   wasm {:>10.2} µs   wasm/native {ratio:>6.2}{per_span}",
            native / 1e3,
            wasm / 1e3
        );
        let limit = limits
            .iter()
            .find(|(g, _)| g == group)
            .map_or(max_ratio, |(_, r)| *r);
        // The empty call is pure overhead (native is a few nanoseconds): report it, gate only
        // the real workload.
        if group != "empty_call" && ratio > limit {
            eprintln!("overhead-gate: {group} costs {ratio:.2}x native, over the allowed {limit}x");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
