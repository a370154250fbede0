//! Time for the stateful policies: a clock that tests can set, and the token bucket of
//! `rate_limiting` (the collector's `golang.org/x/time/rate` limiter: it starts full, refills at
//! `spans_per_second`, holds at most `burst_capacity`, and lets a trace through only if all its
//! spans fit now).

use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Monotonic time since some fixed instant.
#[derive(Clone)]
pub struct Clock(Rc<dyn Fn() -> Duration>);

impl Clock {
    /// The process's monotonic clock (in WebAssembly, the host's `wasi:clocks`).
    pub fn monotonic() -> Clock {
        static START: OnceLock<Instant> = OnceLock::new();
        Clock(Rc::new(|| START.get_or_init(Instant::now).elapsed()))
    }

    /// A clock that reads `now` (for tests).
    pub fn from_fn(now: impl Fn() -> Duration + 'static) -> Clock {
        Clock(Rc::new(now))
    }

    /// The time now.
    pub fn now(&self) -> Duration {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// A token bucket of spans.
#[derive(Debug)]
pub struct TokenBucket {
    per_second: f64,
    burst: i64,
    tokens: f64,
    last: Option<Duration>,
    clock: Clock,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens that refills at `per_second`.
    pub fn new(per_second: i64, burst: i64, clock: Clock) -> TokenBucket {
        TokenBucket {
            per_second: per_second as f64,
            burst,
            tokens: 0.0,
            last: None,
            clock,
        }
    }

    /// Take `n` tokens if there are that many now.
    pub fn allow(&mut self, n: i64) -> bool {
        let now = self.clock.now();
        let burst = self.burst as f64;
        let tokens = match self.last {
            None => burst,
            Some(last) => {
                let elapsed = now.saturating_sub(last).as_secs_f64();
                (self.tokens + elapsed * self.per_second).min(burst)
            }
        };
        let left = tokens - n as f64;
        if n <= self.burst && left >= 0.0 {
            self.tokens = left;
            self.last = Some(now);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn bucket_starts_full_refills_and_refuses_what_does_not_fit() {
        let now = Rc::new(Cell::new(Duration::ZERO));
        let read = now.clone();
        let mut bucket = TokenBucket::new(10, 20, Clock::from_fn(move || read.get()));
        assert!(!bucket.allow(21), "more than the burst never fits");
        assert!(bucket.allow(15));
        assert!(!bucket.allow(6), "5 left");
        assert!(bucket.allow(5));
        now.set(Duration::from_millis(500));
        assert!(bucket.allow(5), "half a second refills 5");
        assert!(!bucket.allow(1));
        now.set(Duration::from_secs(100));
        assert!(bucket.allow(20), "refills up to the burst");
        assert!(!bucket.allow(1));
    }
}
