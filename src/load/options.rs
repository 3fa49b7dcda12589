//! What the command line adds to a plan for one load test: the console (Goose's log, the live
//! line), the dashboard, preflight, and what the command does with the result (baseline,
//! JUnit).

use crate::plan::Shard;
use sha2::Digest;
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
    /// command, not the load.
    pub baseline: Option<PathBuf>,
    /// How far a figure may move the worse way before it is a regression, in percent.
    pub tolerance_percent: f64,
    /// Write the SLA verdicts (and regressions) as JUnit XML here (`--junit`).
    pub junit: Option<PathBuf>,
    /// This process's share of the plan's users (`--shard I/N`); the whole plan by default.
    pub shard: Shard,
    /// Shared by every shard of one load test (`--run-id`): user identities derive from it.
    pub run_id: Option<String>,
    /// Every shard waits for this instant before its load starts (`--start-at`).
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// After SIGTERM or Ctrl-C, runs in flight get this long to end (`--grace`); `None`: the
    /// default (10 s).
    pub grace: Option<std::time::Duration>,
    /// Serve the generator's own figures in the Prometheus format here (`--metrics-addr`).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// A capacity search's one load: its level (arrival rate or seats) moves while it runs,
    /// and it shows the search what it runs on.
    pub live: Option<std::sync::Arc<crate::load::level::Live>>,
}

impl RunOptions {
    /// How the baseline is named in the comparison: its folder.
    pub fn baseline_name(&self) -> String {
        self.baseline
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string())
    }

    /// The tag in every user identity of this load test (`u<n>-al<tag>`): six hex digits,
    /// from the run id when shards share one, random otherwise.
    pub fn run_tag(&self) -> String {
        match &self.run_id {
            Some(id) => {
                let digest = sha2::Sha256::digest(id.as_bytes());
                digest[..3].iter().map(|b| format!("{b:02x}")).collect()
            }
            None => format!("{:06x}", rand::random::<u32>() & 0xff_ffff),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_of_one_run_share_a_tag() {
        let with = |id: &str| RunOptions {
            run_id: Some(id.into()),
            ..Default::default()
        };
        assert_eq!(with("job-7").run_tag(), with("job-7").run_tag());
        assert_ne!(with("job-7").run_tag(), with("job-8").run_tag());
        assert_eq!(with("job-7").run_tag().len(), 6);
    }
}
