//! What went wrong around the load rather than in one run: outages of the target (windows in
//! which connects failed and nothing succeeded) and a test stopped early by a signal.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A window in which users' connects failed and nothing succeeded (no connect, no run).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Outage {
    /// The first failed connect of the window, seconds from the test's start.
    pub start_s: f64,
    /// The first success after it (a connect or a completed run); `None`: the target was
    /// still unreachable when the test ended.
    pub end_s: Option<f64>,
    /// Connects that failed in the window.
    pub failed_connects: u64,
    /// Runs that failed while the window was open.
    pub runs_cut: u64,
    /// From the window's end to the first completed run after it; `None`: none completed.
    pub recovered_after_s: Option<f64>,
}

impl Outage {
    /// How long the target was unreachable (up to `test_end_s` when it never came back).
    pub fn length_s(&self, test_end_s: f64) -> f64 {
        (self.end_s.unwrap_or(test_end_s) - self.start_s).max(0.0)
    }
}

/// The test was stopped before its plan ended: by which signal, and when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Interrupted {
    /// `SIGTERM`, `SIGINT`, …
    pub signal: String,
    /// Seconds from the test's start.
    pub at_s: f64,
}

/// The plan itself stopped the test before its stages ended: a guard (`abort_on_fail`: a
/// rule failed on the figures so far) or a limit (`max_runs`, `max_duration`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EarlyStop {
    /// `abort_on_fail`, `max_runs` or `max_duration`.
    pub by: String,
    pub reason: String,
    /// Seconds from the test's start.
    pub at_s: f64,
}

/// Attempts the platform shed (`overload.throttled`: HTTP 429, 503 with `Retry-After`, close
/// 1013/1012, a rate-limit error): a finding of its own, outside the error rate.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Throttled {
    pub count: u64,
    /// Of them: connects refused, runs refused, and sockets cut between runs.
    pub connects: u64,
    pub runs: u64,
    pub other: u64,
    /// The first one, seconds from the test's start, and the sockets open then (the users the
    /// platform held when it began to shed).
    pub first_at_s: f64,
    pub first_at_users: u64,
    /// By the platform's reason (`HTTP 429`, `close 1013`, `rate_limited`).
    pub reasons: BTreeMap<String, u64>,
    /// Shed attempts per second of the test: `(second, count)`.
    pub per_second: Vec<(f64, u64)>,
}

impl Throttled {
    /// Adds another shard's, whose clock starts `shift` seconds after this one's.
    pub fn add(&mut self, other: &Throttled, shift: f64) {
        if self.count == 0 || other.first_at_s + shift < self.first_at_s {
            self.first_at_s = other.first_at_s + shift;
            self.first_at_users = other.first_at_users;
        }
        self.count += other.count;
        self.connects += other.connects;
        self.runs += other.runs;
        self.other += other.other;
        for (reason, n) in &other.reasons {
            *self.reasons.entry(reason.clone()).or_default() += n;
        }
        let mut seconds: BTreeMap<u64, u64> = self
            .per_second
            .iter()
            .map(|(s, n)| (*s as u64, *n))
            .collect();
        for (s, n) in &other.per_second {
            *seconds.entry((s + shift).max(0.0) as u64).or_default() += n;
        }
        self.per_second = seconds.into_iter().map(|(s, n)| (s as f64, n)).collect();
    }

    /// Shed attempts that were connects or runs: what `[sla] throttled` judges, and what the
    /// error rate leaves out.
    pub fn attempts(&self) -> u64 {
        self.connects + self.runs
    }
}
