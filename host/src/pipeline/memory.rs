//! The `memory_limiter` processor: while the process's resident memory is above the soft limit,
//! requests are refused with a retryable answer, so the clients keep their data and send it
//! again instead of the host growing until the kernel kills it.
//!
//! Wherever it is listed in a pipeline, the check runs when a request arrives, before any
//! processor of any pipeline the receiver feeds: a request is refused whole or taken whole. The
//! memory is measured (resident set size, from `/proc/self/statm`) at most once per
//! `check_interval`, on the request that finds the last measurement stale, so the limiter costs
//! nothing between measurements and needs no task of its own.

use crate::telemetry::Counters;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// A configured limiter.
pub struct MemoryLimiter {
    id: String,
    soft: u64,
    hard: u64,
    check_interval: Duration,
    /// The last measurement: when, and the bytes then in use (`None`: cannot be measured).
    last: Mutex<Option<(Instant, Option<u64>)>>,
    refusing: AtomicBool,
    /// `batches_refused`, `spans_refused`, `measurements`.
    pub stats: Arc<Counters>,
}

impl MemoryLimiter {
    /// A limiter refusing above `soft` bytes (the hard limit `hard` is reported with it),
    /// measuring at most once per `check_interval`.
    pub fn new(id: &str, soft: u64, hard: u64, check_interval: Duration) -> Self {
        if resident_memory().is_none() {
            tracing::warn!(processor = %id, "the process's memory cannot be read on this system; memory_limiter never refuses");
        }
        Self {
            id: id.to_owned(),
            soft,
            hard,
            check_interval,
            last: Mutex::new(None),
            refusing: AtomicBool::new(false),
            stats: Arc::new(Counters::default()),
        }
    }

    /// The processor id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The soft and hard limits, in bytes.
    pub fn limits(&self) -> (u64, u64) {
        (self.soft, self.hard)
    }

    /// The bytes in use, measured again if the last measurement is older than the interval.
    fn in_use(&self) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match *last {
            Some((at, used)) if now.duration_since(at) < self.check_interval => used,
            _ => {
                let used = resident_memory();
                self.stats.add("measurements", 1);
                *last = Some((now, used));
                used
            }
        }
    }

    /// Why a request of `spans` spans is refused now, if it is (and counted as refused).
    pub fn refusal(&self, spans: usize) -> Option<String> {
        let used = self.in_use()?;
        let over = used > self.soft;
        if over != self.refusing.swap(over, Ordering::Relaxed) {
            if over {
                tracing::warn!(processor = %self.id, used_mib = used / MIB, soft_limit_mib = self.soft / MIB, hard_limit_mib = self.hard / MIB, "memory use is over the soft limit: refusing data until it falls");
            } else {
                tracing::info!(processor = %self.id, used_mib = used / MIB, "memory use is back under the soft limit: taking data again");
            }
        }
        if !over {
            return None;
        }
        self.stats.add("batches_refused", 1);
        self.stats.add("spans_refused", spans as u64);
        Some(format!(
            "{}: the collector is using {} MiB, over its soft limit of {} MiB; retry later",
            self.id,
            used / MIB,
            self.soft / MIB
        ))
    }
}

/// The resident memory of this process in bytes; `None` where `/proc` is not there.
pub fn resident_memory() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64)
}

/// The memory available to this process in bytes: the cgroup's limit when there is one (as in
/// a container), else the machine's; `None` where neither can be read.
pub fn available_memory() -> Option<u64> {
    let machine = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        });
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| {
        std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    });
    match (cgroup, machine) {
        (Some(limit), Some(machine)) => Some(limit.min(machine)),
        (limit, machine) => limit.or(machine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_memory_can_be_read_here() {
        let used = resident_memory().expect("/proc/self/statm");
        assert!(used > MIB, "{used} bytes resident");
        assert!(available_memory().expect("/proc/meminfo") > used);
    }

    #[test]
    fn refuses_above_the_soft_limit_and_counts_it() {
        let used = resident_memory().unwrap();
        let under = MemoryLimiter::new("memory_limiter", used * 4, used * 5, Duration::ZERO);
        assert_eq!(under.refusal(10), None);
        let over = MemoryLimiter::new("memory_limiter", used / 4, used / 2, Duration::ZERO);
        let reason = over.refusal(10).expect("refused");
        assert!(reason.contains("over its soft limit"), "{reason}");
        assert_eq!(over.stats.get("spans_refused"), 10);
        assert_eq!(over.stats.get("batches_refused"), 1);
    }

    #[test]
    fn measures_at_most_once_per_interval() {
        let limiter = MemoryLimiter::new("m", u64::MAX, u64::MAX, Duration::from_secs(3600));
        for _ in 0..100 {
            assert_eq!(limiter.refusal(1), None);
        }
        assert_eq!(limiter.stats.get("measurements"), 1);
    }
}
