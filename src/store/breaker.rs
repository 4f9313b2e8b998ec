//! A circuit breaker for the database: after a run of failures, writes are refused at once
//! for a while instead of each waiting out its own timeout; then one write is let through to
//! try again, and a success closes the breaker.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::observability;

pub struct Breaker {
    /// Consecutive failures that open the breaker.
    threshold: u32,
    /// How long an open breaker refuses before it lets one call try.
    cool_down: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    failures: u32,
    open_until: Option<Instant>,
}

impl Breaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self { threshold: threshold.max(1), cool_down, state: Mutex::default() }
    }

    /// Whether a call may go to the database now. While open, no; once the cool-down is
    /// over, one caller gets through (the breaker re-opens until that call reports).
    pub fn allow(&self) -> bool {
        let mut state = self.lock();
        match state.open_until {
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                state.open_until = Some(Instant::now() + self.cool_down);
                true
            }
            None => true,
        }
    }

    pub fn is_open(&self) -> bool {
        self.lock().open_until.is_some()
    }

    pub fn succeeded(&self) {
        let mut state = self.lock();
        state.failures = 0;
        if state.open_until.take().is_some() {
            tracing::info!("database answered again: breaker closed");
            metrics::gauge!(observability::DB_BREAKER_OPEN).set(0.0);
        }
    }

    pub fn failed(&self) {
        let mut state = self.lock();
        state.failures = state.failures.saturating_add(1);
        if state.failures >= self.threshold {
            if state.open_until.is_none() {
                tracing::warn!(failures = state.failures, "database failing: breaker open");
            }
            state.open_until = Some(Instant::now() + self.cool_down);
            metrics::gauge!(observability::DB_BREAKER_OPEN).set(1.0);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_lets_one_call_try_after_the_cool_down() {
        let breaker = Breaker::new(2, Duration::from_millis(30));
        breaker.failed();
        assert!(breaker.allow(), "one failure is below the threshold");
        breaker.failed();
        assert!(!breaker.allow(), "open");
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.allow(), "half open: one call tries");
        assert!(!breaker.allow(), "the others wait for it");
        breaker.succeeded();
        assert!(breaker.allow() && !breaker.is_open());
    }
}
