//! The overhead gate's table (`benches/gate.txt`) and its verdicts over criterion's estimates.
//!
//! Each line of the table names a bench group and what is checked of it:
//!
//! - `GROUP max RATIO`: the group's `wasm` function may cost at most RATIO times its `native`
//!   function (mean times of the same run);
//! - `GROUP min FRACTION`: the group's `platform` function must reach at least FRACTION of the
//!   throughput of its `pass_through` function (the pass-through time over the platform time);
//! - `GROUP report`: the `wasm` / `native` ratio is printed, not gated.
//!
//! `#` starts a comment.

use std::path::Path;

/// What a line of the table checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Check {
    /// `wasm` / `native` at most this.
    Max(f64),
    /// `pass_through` / `platform` at least this.
    Min(f64),
    /// Printed only.
    Report,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The criterion group.
    pub group: String,
    /// What is checked.
    pub check: Check,
}

/// Parse the table; an error names the line.
pub fn parse(text: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let number = |w: &str| {
            w.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("line {}: {w:?} is not a positive number", n + 1))
        };
        let check = match words.as_slice() {
            [_, "max", ratio] => Check::Max(number(ratio)?),
            [_, "min", fraction] => Check::Min(number(fraction)?),
            [_, "report"] => Check::Report,
            _ => {
                return Err(format!(
                    "line {}: {line:?} is not `GROUP max RATIO`, `GROUP min FRACTION` or `GROUP report`",
                    n + 1
                ));
            }
        };
        rules.push(Rule {
            group: words[0].to_owned(),
            check,
        });
    }
    Ok(rules)
}

/// The mean time of `group/function` in criterion's latest run, in nanoseconds.
pub fn mean_ns(dir: &Path, group: &str, function: &str) -> Result<f64, String> {
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

/// The figures of one rule and whether they pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The rule.
    pub rule: Rule,
    /// Mean times: (`native` or `pass_through`, `wasm` or `platform`), in nanoseconds.
    pub times: (f64, f64),
    /// The ratio compared with the limit: `wasm / native`, or `pass_through / platform`.
    pub ratio: f64,
    /// Whether it is within the limit.
    pub passed: bool,
}

impl Verdict {
    /// One line for the log: the figures, per span for 1,000-span groups, and the limit.
    pub fn line(&self) -> String {
        let (a, b) = self.times;
        let (names, what) = match self.rule.check {
            Check::Min(_) => (("pass", "platform"), "platform/pass throughput"),
            _ => (("native", "wasm"), "wasm/native"),
        };
        let limit = match self.rule.check {
            Check::Max(r) => format!("(at most {r})"),
            Check::Min(f) => format!("(at least {f})"),
            Check::Report => "(reported)".to_owned(),
        };
        let per_span = if self.rule.group == "empty_call" {
            String::new()
        } else {
            format!(
                "   per span: {} {:.0} ns, {} {:.0} ns",
                names.0,
                a / 1e3,
                names.1,
                b / 1e3
            )
        };
        format!(
            "{:<22} {} {:>9.1} µs  {} {:>9.1} µs  {what} {:>5.2} {limit}{}{per_span}",
            self.rule.group,
            names.0,
            a / 1e3,
            names.1,
            b / 1e3,
            self.ratio,
            if self.passed { "" } else { "  FAILED" },
        )
    }
}

/// Judge `rule` on the times `mean` gives for a group and function.
pub fn judge(
    rule: &Rule,
    mut mean: impl FnMut(&str, &str) -> Result<f64, String>,
) -> Result<Verdict, String> {
    let pipeline = matches!(rule.check, Check::Min(_));
    let names = if pipeline {
        ("pass_through", "platform")
    } else {
        ("native", "wasm")
    };
    let times = (mean(&rule.group, names.0)?, mean(&rule.group, names.1)?);
    // Throughput of the platform against the pass-through; cost of wasm against native.
    let ratio = if pipeline {
        times.0 / times.1
    } else {
        times.1 / times.0
    };
    let passed = match rule.check {
        Check::Max(limit) => ratio <= limit,
        Check::Min(limit) => ratio >= limit,
        Check::Report => true,
    };
    Ok(Verdict {
        rule: rule.clone(),
        times,
        ratio,
        passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_bad_lines_are_named() {
        let rules = parse("# c\nempty_call report\nurl_w1 max 2.0 # two\n\npipeline_w1 min 0.25\n")
            .unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[1].check, Check::Max(2.0));
        assert_eq!(rules[2].check, Check::Min(0.25));
        assert!(
            parse("x\nurl_w1 max two")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(parse("url_w1 max two").unwrap_err().contains("\"two\""));
        assert!(parse("url_w1 max -1").is_err());
        assert!(parse("url_w1 at_most 2").is_err());
    }

    #[test]
    fn ratios_are_judged_against_their_limits() {
        let times = |native: f64, wasm: f64| {
            move |_: &str, f: &str| {
                Ok(match f {
                    "native" | "pass_through" => native,
                    _ => wasm,
                })
            }
        };
        let max = Rule {
            group: "url_w1".into(),
            check: Check::Max(2.0),
        };
        assert!(judge(&max, times(100.0, 199.0)).unwrap().passed);
        let slow = judge(&max, times(100.0, 201.0)).unwrap();
        assert!(!slow.passed);
        assert!(slow.line().contains("FAILED"), "{}", slow.line());
        let min = Rule {
            group: "pipeline_w1".into(),
            check: Check::Min(0.25),
        };
        assert!(judge(&min, times(100.0, 400.0)).unwrap().passed);
        assert!(!judge(&min, times(100.0, 401.0)).unwrap().passed);
        let missing = judge(&max, |_: &str, _: &str| Err("no estimates".to_owned()));
        assert_eq!(missing.unwrap_err(), "no estimates");
    }
}
