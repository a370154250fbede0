//! What a processor does about a plugin that keeps trapping. The first trap costs only the
//! batch that caused it (the instance is replaced at once). After the second trap in a row, the
//! plugin is left alone for `backoff`, doubling with each further trap up to `max_backoff`;
//! batches that arrive meanwhile get the processor's `on_error` without a call. After
//! `disable_after` traps in a row the plugin is disabled until spanwise restarts: `on_error`
//! applies to every batch, and an error is logged once. Any call that does not trap resets the
//! count. A deadline overrun counts as a trap.

use crate::config::TrapsConfig;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The trap record of one processor (shared by its pool of instances).
#[derive(Debug, Default)]
pub struct Traps {
    policy: TrapsConfig,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    in_a_row: u32,
    resume_at: Option<Instant>,
    disabled: bool,
}

/// What the latest trap led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterTrap {
    /// The next batch calls the plugin again.
    Retry,
    /// Batches skip the plugin for this long.
    BackOff(Duration),
    /// The plugin is disabled.
    Disabled,
}

impl Traps {
    /// A record under `policy`.
    pub fn new(policy: TrapsConfig) -> Self {
        Self {
            policy,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why a batch arriving at `now` must not call the plugin, if it must not.
    pub fn refuse(&self, now: Instant) -> Option<String> {
        let state = self.state();
        if state.disabled {
            return Some(format!(
                "the plugin is disabled after {} traps in a row",
                state.in_a_row
            ));
        }
        match state.resume_at {
            Some(at) if now < at => Some(format!(
                "the plugin is left alone for {:?} after {} traps in a row",
                at - now,
                state.in_a_row
            )),
            _ => None,
        }
    }

    /// A call trapped at `now`.
    pub fn trapped(&self, now: Instant) -> AfterTrap {
        let mut state = self.state();
        state.in_a_row += 1;
        let n = state.in_a_row;
        if self.policy.disable_after > 0 && n >= self.policy.disable_after {
            state.disabled = true;
            return AfterTrap::Disabled;
        }
        if n < 2 {
            return AfterTrap::Retry;
        }
        let wait = self
            .policy
            .backoff
            .saturating_mul(1 << (n - 2).min(20))
            .min(self.policy.max_backoff);
        state.resume_at = Some(now + wait);
        AfterTrap::BackOff(wait)
    }

    /// A call ended without a trap.
    pub fn succeeded(&self) {
        let mut state = self.state();
        state.in_a_row = 0;
        state.resume_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(disable_after: u32) -> TrapsConfig {
        TrapsConfig {
            disable_after,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        }
    }

    #[test]
    fn the_wait_doubles_from_the_second_trap_up_to_the_longest_then_the_plugin_is_disabled() {
        let traps = Traps::new(policy(6));
        let now = Instant::now();
        let after: Vec<AfterTrap> = (0..6).map(|_| traps.trapped(now)).collect();
        let ms = |n| AfterTrap::BackOff(Duration::from_millis(n));
        assert_eq!(
            after,
            [
                AfterTrap::Retry,
                ms(100),
                ms(200),
                ms(300),
                ms(300),
                AfterTrap::Disabled
            ]
        );
        assert!(traps.refuse(now + Duration::from_secs(3600)).is_some());
    }

    #[test]
    fn a_call_that_does_not_trap_resets_the_count_and_the_wait_ends() {
        let traps = Traps::new(policy(3));
        let now = Instant::now();
        traps.trapped(now);
        assert_eq!(
            traps.trapped(now),
            AfterTrap::BackOff(Duration::from_millis(100))
        );
        assert!(traps.refuse(now).is_some());
        assert!(traps.refuse(now + Duration::from_millis(100)).is_none());
        traps.succeeded();
        assert_eq!(traps.trapped(now), AfterTrap::Retry);
        assert!(traps.refuse(now).is_none());
        let never = Traps::new(policy(0));
        for _ in 0..100 {
            assert_ne!(never.trapped(now), AfterTrap::Disabled);
        }
    }
}
