//! Timing the two sides of a [`Pair`] in alternating rounds, for a ratio that a shared, noisy
//! machine does not move much.
//!
//! Criterion measures one function for seconds, then the next: when the machine's load changes
//! in between, a ratio of the two means moves with it (by 0.3-0.9 between runs of the same
//! code here). The gate instead runs a round of each side back to back, about
//! [`Settings::round`] each, swapping which goes first every round, takes the ratio of each round,
//! and judges the median: a burst of load spoils the rounds it falls in, not the verdict.

use crate::pairs::{Pair, Side};
use std::time::Duration;

/// How long and how often the sides are timed.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Time spent running both sides before the rounds, also used to size them.
    pub warm_up: Duration,
    /// About how long each side runs per round.
    pub round: Duration,
    /// How many rounds (odd, so the median is one round's ratio).
    pub rounds: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            warm_up: Duration::from_millis(300),
            round: Duration::from_millis(25),
            rounds: 21,
        }
    }
}

/// What the rounds measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Median time per iteration of (the first side, the second side), in nanoseconds.
    pub times: (f64, f64),
    /// Median over the rounds of second / first (time per iteration).
    pub ratio: f64,
    /// The lower and upper quartile of the rounds' ratios.
    pub quartiles: (f64, f64),
}

/// Time `pair`'s sides in alternating rounds.
pub fn measure(pair: &mut Pair, settings: Settings) -> Measurement {
    measure_sides(&mut pair.first, &mut pair.second, settings)
}

/// Time two sides in alternating rounds (see the module's documentation).
pub fn measure_sides(first: &mut Side, second: &mut Side, settings: Settings) -> Measurement {
    // Warm up both, one iteration at a time, until the warm-up time is spent (at least one
    // iteration each); the per-iteration times size the rounds.
    let mut spent = [Duration::ZERO; 2];
    let mut iterations = [0u64; 2];
    while iterations[0] == 0 || spent[0] + spent[1] < settings.warm_up {
        spent[0] += first(1);
        spent[1] += second(1);
        iterations[0] += 1;
        iterations[1] += 1;
    }
    let per_round = |side: usize| {
        let each = spent[side].as_secs_f64() / iterations[side] as f64;
        ((settings.round.as_secs_f64() / each.max(1e-9)) as u64).max(1)
    };
    let n = [per_round(0), per_round(1)];

    let rounds = settings.rounds.max(1);
    let mut firsts = Vec::with_capacity(rounds);
    let mut seconds = Vec::with_capacity(rounds);
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = first(n[0]);
            (a, second(n[1]))
        } else {
            let b = second(n[1]);
            (first(n[0]), b)
        };
        let a = a.as_secs_f64() * 1e9 / n[0] as f64;
        let b = b.as_secs_f64() * 1e9 / n[1] as f64;
        firsts.push(a);
        seconds.push(b);
        ratios.push(b / a.max(f64::MIN_POSITIVE));
    }
    Measurement {
        times: (median(&mut firsts), median(&mut seconds)),
        ratio: median(&mut ratios),
        quartiles: (quantile(&ratios, 0.25), quantile(&ratios, 0.75)),
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile(values, 0.5)
}

/// The `q` quantile of sorted `values` (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A side on a made-up clock: `nanos` per iteration, except the rounds `slow` names (counted
    /// from the first call after the warm-up), which take ten times as long.
    fn side(nanos: u64, slow: &'static [usize], calls: Rc<Cell<usize>>) -> Side {
        Box::new(move |n| {
            let call = calls.get();
            calls.set(call + 1);
            let factor = if n > 1 && slow.contains(&call) { 10 } else { 1 };
            Duration::from_nanos(nanos * n * factor)
        })
    }

    #[test]
    fn the_median_round_sets_the_ratio_and_bursts_are_outvoted() {
        let settings = Settings {
            warm_up: Duration::from_micros(10),
            round: Duration::from_micros(100),
            rounds: 9,
        };
        // Warm-up: 100 ns + 250 ns per pass, 29 passes to reach 10 µs; rounds then run 1,000 and
        // 400 iterations. The first side is slow in three rounds: three low ratios, outvoted by six.
        let first_calls = Rc::new(Cell::new(0));
        let mut first = side(100, &[29, 31, 33], first_calls.clone());
        let mut second = side(250, &[], Rc::new(Cell::new(0)));
        let measured = measure_sides(&mut first, &mut second, settings);
        assert_eq!(
            first_calls.get(),
            29 + 9,
            "29 warm-up calls, then one per round"
        );
        assert!((measured.ratio - 2.5).abs() < 1e-9, "{measured:?}");
        assert!((measured.times.0 - 100.0).abs() < 1e-9, "{measured:?}");
        assert!((measured.times.1 - 250.0).abs() < 1e-9, "{measured:?}");
        assert!((measured.quartiles.0 - 0.25).abs() < 1e-9, "{measured:?}");
        assert!((measured.quartiles.1 - 2.5).abs() < 1e-9, "{measured:?}");

        // Slow in five rounds of nine, the first side's slowness is what the median sees.
        let mut first = side(100, &[29, 30, 31, 32, 33], Rc::new(Cell::new(0)));
        let mut second = side(250, &[], Rc::new(Cell::new(0)));
        let measured = measure_sides(&mut first, &mut second, settings);
        assert!((measured.ratio - 0.25).abs() < 1e-9, "{measured:?}");
    }

    #[test]
    fn a_side_slower_than_a_round_still_runs_once_per_round() {
        let settings = Settings {
            warm_up: Duration::ZERO,
            round: Duration::from_nanos(10),
            rounds: 3,
        };
        let calls = Rc::new(Cell::new(0));
        let mut first = side(1_000, &[], calls.clone());
        let mut second = side(3_000, &[], Rc::new(Cell::new(0)));
        let measured = measure_sides(&mut first, &mut second, settings);
        assert_eq!(calls.get(), 1 + 3);
        assert!((measured.ratio - 3.0).abs() < 1e-9, "{measured:?}");
    }
}
