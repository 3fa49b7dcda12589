//! What the command line adds to a plan for one load test: the console (Goose's log, the live
//! line), the dashboard, preflight, and what the command does with the result (baseline,
//! JUnit).

use std::path::PathBuf;

/// Command-line options of `run` beside the plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Goose's live dashboard while the test runs.
    pub dashboard: bool,
    /// Validate the deployment first; a failing check stops the run before any load.
    pub preflight: bool,
    /// 0: Goose's log shows warnings only and its end tables are not printed (agentload's own
    /// verdict is the end of a run); 1 (`-v`): Goose's INFO log and tables; 2+: its debug log.
    pub verbose: u8,
    /// The live line on stderr, every this often (`None`: `--quiet`).
    pub progress: Option<std::time::Duration>,
    /// Compare the run with this earlier run's report folder (`--baseline`); read by the
    /// command, not the engine.
    pub baseline: Option<PathBuf>,
    /// How far a figure may move the worse way before it is a regression, in percent.
    pub tolerance_percent: f64,
    /// Write the SLA verdicts (and regressions) as JUnit XML here (`--junit`).
    pub junit: Option<PathBuf>,
}

impl RunOptions {
    /// How the baseline is named in the comparison: its folder.
    pub fn baseline_name(&self) -> String {
        self.baseline
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string())
    }
}
