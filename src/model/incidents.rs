//! What went wrong around the load rather than in one run: outages of the target (windows in
//! which connects failed and nothing succeeded) and a test stopped early by a signal.

use serde::{Deserialize, Serialize};

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
