//! `retry_on_failure`: sending a batch again after a failure that may pass, waiting longer each
//! time, as the collector's exporters do. Whether a failure may pass is the exporter's to say
//! ([`Retry`] in its [`ExportError`]): a destination that is down, overloaded or slow may take
//! the batch later; one that refused the data itself (HTTP 400, gRPC `INVALID_ARGUMENT`) will
//! refuse it again.

use super::{ExportError, Exporter};
use crate::config::RetryConfig;
use crate::telemetry::Counters;
use spanwise_batch::Batch;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Whether an export that failed may succeed if sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Not again: the destination refused the data itself.
    Never,
    /// Again, after the backoff's next wait, or after `after` if the destination asked for
    /// longer (`Retry-After`, gRPC `RetryInfo`).
    Later {
        /// The wait the destination asked for.
        after: Option<Duration>,
    },
}

/// The waits between attempts: the collector's exponential backoff.
#[derive(Debug)]
pub struct Backoff {
    settings: RetryConfig,
    current: Duration,
}

impl Backoff {
    /// The waits of `settings`, starting at `initial_interval`.
    pub fn new(settings: RetryConfig) -> Self {
        Self {
            current: settings.initial_interval,
            settings,
        }
    }

    /// The wait before the next attempt, `elapsed` after the first one began, when the
    /// destination asked for `asked`; `None` once `max_elapsed_time` would be passed. `random`
    /// is uniform in [0, 1).
    pub fn next(
        &mut self,
        asked: Option<Duration>,
        elapsed: Duration,
        random: f64,
    ) -> Option<Duration> {
        let factor = self.settings.randomization_factor;
        let spread = self.current.mul_f64(factor);
        let randomized = (self.current - spread) + spread.mul_f64(2.0 * random);
        self.current = self
            .current
            .mul_f64(self.settings.multiplier)
            .min(self.settings.max_interval);
        let wait = asked.map_or(randomized, |asked| asked.max(randomized));
        let limit = self.settings.max_elapsed_time;
        if !limit.is_zero() && elapsed + wait > limit {
            None
        } else {
            Some(wait)
        }
    }
}

/// How sending one batch ended.
#[derive(Debug)]
pub struct Sent {
    /// The attempts made after the first.
    pub retries: u64,
    /// The last attempt's error, if none succeeded.
    pub error: Option<ExportError>,
}

/// Send `request` through `exporter`; after a failure that may pass, wait and send again (if
/// `settings.enabled`) until it is sent, refused for good, or `max_elapsed_time` is up. Once
/// `stopping` turns true, no more waits: the attempt in hand is the last. Each attempt is
/// counted in `stats` as it begins (`attempts`, and `retries` for all but the first).
pub async fn send(
    exporter: &dyn Exporter,
    request: &Batch,
    settings: &RetryConfig,
    stopping: &mut watch::Receiver<bool>,
    stats: &Counters,
) -> Sent {
    let started = Instant::now();
    let mut backoff = Backoff::new(*settings);
    let mut retries = 0;
    loop {
        stats.add("attempts", 1);
        let error = match exporter.export(request).await {
            Ok(()) => {
                return Sent {
                    retries,
                    error: None,
                };
            }
            Err(error) => error,
        };
        let asked = match error.retry() {
            Retry::Later { after } if settings.enabled && !*stopping.borrow() => after,
            _ => {
                return Sent {
                    retries,
                    error: Some(error),
                };
            }
        };
        let Some(wait) = backoff.next(asked, started.elapsed(), fastrand::f64()) else {
            return Sent {
                retries,
                error: Some(error),
            };
        };
        tracing::debug!(exporter = %exporter.id(), ?wait, "{error}; sending again");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stopping.wait_for(|stop| *stop) => {
                return Sent { retries, error: Some(error) };
            }
        }
        retries += 1;
        stats.add("retries", 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RetryConfig {
        RetryConfig::default()
    }

    #[test]
    fn waits_grow_by_the_multiplier_up_to_the_longest_and_stop_at_the_time_limit() {
        let mut backoff = Backoff::new(settings());
        // random 0.5 is the middle of the spread: the waits themselves.
        let waits: Vec<f64> = (0..7)
            .map(|_| {
                backoff
                    .next(None, Duration::ZERO, 0.5)
                    .unwrap()
                    .as_secs_f64()
            })
            .collect();
        assert_eq!(waits, [5.0, 7.5, 11.25, 16.875, 25.3125, 30.0, 30.0]);
        // 290 s in, a 30 s wait would pass 300 s.
        assert_eq!(backoff.next(None, Duration::from_secs(290), 0.5), None);
        let endless = RetryConfig {
            max_elapsed_time: Duration::ZERO,
            ..settings()
        };
        assert!(
            Backoff::new(endless)
                .next(None, Duration::from_secs(1_000_000), 0.5)
                .is_some()
        );
    }

    #[test]
    fn a_wait_is_spread_by_the_randomization_factor_and_a_longer_asked_wait_wins() {
        let at = |random| {
            Backoff::new(settings())
                .next(None, Duration::ZERO, random)
                .unwrap()
        };
        assert_eq!(at(0.0), Duration::from_millis(2500));
        assert!((at(0.999_999).as_secs_f64() - 7.5).abs() < 1e-4);
        let mut backoff = Backoff::new(settings());
        assert_eq!(
            backoff.next(Some(Duration::from_secs(12)), Duration::ZERO, 0.5),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            backoff.next(Some(Duration::from_secs(1)), Duration::ZERO, 0.5),
            Some(Duration::from_millis(7500))
        );
    }
}
