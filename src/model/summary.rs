//! The result model: every figure a run produced, collected while it runs and written as
//! `summary.json`. Reports render from this, never from raw logs.

use super::capacity::CapacityReport;
pub use super::counts::{add_failures, ConnectionCounts, FailureBucket, RunCounts};
use super::findings::{IsolationSummary, SecuritySummary};
use super::metrics::SerializedLatency;
use super::preflight::PreflightReport;
use super::resources::Resources;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RuleVerdict {
    pub rule: String,
    pub observed: String,
    pub passed: bool,
    /// `goose` (thresholds on requests) or `agentload` (checks, resources, detectors).
    pub judged_by: String,
}

/// Everything `summary.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub plan: String,
    pub started_at: String,
    pub duration_secs: f64,
    pub target: String,
    /// Over wss: `full handshakes` (each connection a new client, the default) or `sessions
    /// resumed` (`[target] tls_resumption`); none over ws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    pub peak_users: usize,
    pub runs: RunCounts,
    pub connections: ConnectionCounts,
    /// Failures by kind (runs and connections alike).
    pub failures: BTreeMap<String, FailureBucket>,
    /// Events received, by wire name.
    pub events: BTreeMap<String, u64>,
    /// Run events read after their run's verdict (the rest of a failed run, a late copy of
    /// an earlier run's event) and set aside: never charged to another run.
    #[serde(default)]
    pub stale_frames: u64,
    /// Goose's own error rate: over every Goose request (connects, first events, runs,
    /// probes), shown for reference. The plan's `error_rate` is judged on runs and connects.
    #[serde(default)]
    pub goose_error_rate_percent: Option<f64>,
    /// How many runs reached each of the five required events, in order.
    pub funnel: Vec<(String, u64)>,
    pub latency: LatencySection,
    /// Width of a timeline bucket, seconds.
    pub timeline_bucket_secs: f64,
    /// When the timeline's second 0 was, in Unix milliseconds (wall clock), so shards line up.
    #[serde(default)]
    pub timeline_origin_unix_ms: Option<i64>,
    /// Throughput and run-time percentiles over time (by when runs ended).
    pub timeline: Vec<TimelinePoint>,
    /// Result checks: share of completed runs meeting each, and the values seen.
    pub checks: Vec<CheckSummary>,
    pub sla: Vec<RuleVerdict>,
    pub resources: Option<Resources>,
    pub isolation: Option<IsolationSummary>,
    pub security: Option<SecuritySummary>,
    /// The preflight checks, when the run began with them (`run --preflight`).
    pub preflight: Option<PreflightReport>,
    /// The capacity search, for `agentload capacity`.
    pub capacity: Option<CapacityReport>,
    /// The target's own counters at the end (`/stats`), when it has them.
    pub target_counters: Option<serde_json::Value>,
    /// This run against a baseline run (`run --baseline DIR`).
    #[serde(default)]
    pub comparison: Option<super::comparison::Comparison>,
    /// Figures per scenario of the workload mix.
    #[serde(default)]
    pub scenarios: Vec<super::mix::ScenarioSummary>,
    /// This run as one shard of a distributed test (`run --shard I/N`).
    #[serde(default)]
    pub shard: Option<super::shard::ShardInfo>,
    /// The shards this report was merged from (`report merge`).
    #[serde(default)]
    pub merge: Option<super::shard::MergeInfo>,
    /// Windows in which the target could not be reached (connects failed, nothing succeeded).
    #[serde(default)]
    pub outages: Vec<super::incidents::Outage>,
    /// What the deployment published while the load ran (`[[target.metrics]]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<super::server::ServerMetrics>,
    /// Attempts the platform shed (429, close 1013, rate-limit errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttled: Option<super::incidents::Throttled>,
    /// The plan stopped the test before its stages ended (a guard or a limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<super::incidents::EarlyStop>,
    /// The test was stopped early (SIGTERM, Ctrl-C): its figures cover part of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<super::incidents::Interrupted>,
    /// Where the time goes: per tool, per agent, per phase, delivery lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<super::breakdown::Breakdown>,
    /// A test that failed its SLA: the figure that grew the most from its first stage to its
    /// peak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_first: Option<String>,
    /// Sessions (`[session]`, the open model's arrivals): counts, lengths, runs by turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<super::sessions::SessionsSummary>,
    /// A checkpoint written while the test ran (`summary.partial.json`), not its end.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    pub passed: bool,
}

impl Summary {
    /// Adds `other`'s counters: runs, connects, stale frames, failures by kind (the first
    /// example kept), events and the funnel. Histograms are added by whoever holds them.
    pub fn add_counts(&mut self, other: &Summary) {
        let (r, o) = (&mut self.runs, &other.runs);
        r.started += o.started;
        r.completed += o.completed;
        r.failed += o.failed;
        r.resumed += o.resumed;
        r.interrupted += o.interrupted;
        let (c, o) = (&mut self.connections, &other.connections);
        c.attempted += o.attempted;
        c.established += o.established;
        c.failed += o.failed;
        c.closed_cleanly += o.closed_cleanly;
        self.stale_frames += other.stale_frames;
        add_failures(&mut self.failures, &other.failures);
        for (name, n) in &other.events {
            *self.events.entry(name.clone()).or_default() += n;
        }
        if self.funnel.is_empty() {
            self.funnel = other.funnel.clone();
        } else {
            for ((_, a), (_, b)) in self.funnel.iter_mut().zip(&other.funnel) {
                *a += b;
            }
        }
    }

    /// Failed runs, connects and api calls over attempts, in percent: what the plan's
    /// `error_rate` rule judges.
    /// Shed attempts (`overload.throttled`) are the platform defending itself, not failing:
    /// they are judged by `[sla] throttled`, not here.
    pub fn error_rate_percent(&self) -> f64 {
        let failed = self.runs.failed + self.connections.failed + self.api_calls().1;
        let shed = self.throttled.as_ref().map_or(0, |t| t.attempts());
        self.share_of_attempts_percent(failed.saturating_sub(shed))
    }

    /// What a user tried: runs judged (started, less those a stop interrupted), api calls, and
    /// the connects that failed (each the attempt its user could not make). A connect that
    /// succeeds is no attempt of its own: its runs are.
    pub fn attempts(&self) -> u64 {
        let runs = self.runs.started.saturating_sub(self.runs.interrupted);
        runs + self.connections.failed + self.api_calls().0
    }

    /// `n` over attempts, in percent (0 when nothing was attempted).
    pub fn share_of_attempts_percent(&self, n: u64) -> f64 {
        match self.attempts() {
            0 => 0.0,
            attempts => 100.0 * n as f64 / attempts as f64,
        }
    }

    /// The fields a collector's snapshot does not know, from `heading`: the plan's name, the
    /// start, the target, the peak users and the shard.
    pub fn take_heading(&mut self, heading: &Summary) {
        self.plan = heading.plan.clone();
        self.started_at = heading.started_at.clone();
        self.target = heading.target.clone();
        self.tls = heading.tls.clone();
        self.peak_users = heading.peak_users;
        self.shard = heading.shard.clone();
    }

    /// The test did not run its plan to the end: stopped early, or a checkpoint of it.
    pub fn incomplete(&self) -> bool {
        self.partial || self.interrupted.is_some()
    }

    /// Api users' calls and failed calls, every endpoint of every scenario.
    pub fn api_calls(&self) -> (u64, u64) {
        self.scenarios
            .iter()
            .flat_map(|s| &s.endpoints)
            .fold((0, 0), |(n, f), e| (n + e.requests, f + e.failed))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimelinePoint {
    pub at_secs: f64,
    pub runs_completed: u64,
    pub runs_failed: u64,
    pub runs_per_sec: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Completed runs' times in this bucket (HdrHistogram V2-deflate, base64, microseconds),
    /// so shards' timelines merge exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
}

/// Latency histograms, all in one place.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LatencySection {
    pub connect: Option<SerializedLatency>,
    pub time_to_first_event: Option<SerializedLatency>,
    /// Start to `agent_completed`, completed runs only.
    pub agent_run: Option<SerializedLatency>,
    /// First to last event of completed runs (the seed wants ≥ 5 s on real agents).
    pub run_span: Option<SerializedLatency>,
    /// Time from the start message to each event, by event type.
    pub from_start: BTreeMap<String, SerializedLatency>,
    /// Gap before each event (since the previous event, or since the start), by event type.
    pub gap_before: BTreeMap<String, SerializedLatency>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckSummary {
    pub name: String,
    pub rule: String,
    pub required: bool,
    /// Completed runs the check was evaluated on.
    pub runs: u64,
    pub met: u64,
    /// Runs whose result had no number at the path.
    pub missing: u64,
    pub share_met_percent: f64,
    pub values: Option<ValueStats>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ValueStats {
    pub min: f64,
    pub p50: f64,
    pub mean: f64,
    pub p95: f64,
    pub max: f64,
    /// Merged from shards: min, mean and max are exact; p50 and p95 are the shards' values
    /// weighted by their counts (a value distribution has no histogram to merge).
    #[serde(default)]
    pub approximate: bool,
}
