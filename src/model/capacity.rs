//! Capacity search results: each step's own figures and verdicts, the most users held within
//! the SLA, the limiting rule, the projection.

use serde::{Deserialize, Serialize};

/// A step's own figures, from its hold window only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub users: usize,
    pub runs: u64,
    pub completed: u64,
    pub error_rate_percent: f64,
    pub runs_per_sec: f64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub target_cpu_percent: Option<f64>,
    pub target_rss_bytes: Option<u64>,
    pub generator_cpu_percent: Option<f64>,
    pub passed: bool,
    /// The first SLA rule this step broke, and what was observed.
    pub failed_rule: Option<String>,
    /// The generator itself was busy (CPU over 80 %): the step may measure the generator.
    pub generator_saturated: bool,
    /// Attempts the platform shed during the step (ramp and hold), as a share of its
    /// attempts, the users' sockets open at the first, and the platform's reasons.
    #[serde(default)]
    pub throttled: u64,
    #[serde(default)]
    pub throttled_percent: f64,
    #[serde(default)]
    pub throttled_first_at_users: Option<u64>,
    #[serde(default)]
    pub throttle_reasons: Vec<String>,
    /// The first `server.NAME` rule the step's polled metrics broke (the resource that ran out).
    #[serde(default)]
    pub server_failed: Option<String>,
    /// Of the shed attempts, connects refused (else runs).
    #[serde(default)]
    pub throttled_connects: u64,
}

/// Generator CPU above which a step's figures may be the generator's, not the target's.
pub const GENERATOR_CPU_LIMIT: f64 = 80.0;

/// What the search found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityReport {
    pub steps: Vec<StepResult>,
    /// Most users that held every rule; `None` when even the first step failed.
    pub max_users: Option<usize>,
    /// The first failing step's users (the knee lies between `max_users` and this).
    pub first_failing_users: Option<usize>,
    /// The rule that broke first: the limiting factor.
    pub limiting_rule: Option<String>,
    pub ceiling: usize,
    /// True when every step up to the ceiling held.
    pub no_limit_up_to_ceiling: bool,
    pub headroom_percent: f64,
    pub projection: Option<Projection>,
    /// Steps where the generator's CPU passed 80 %.
    pub generator_saturated_steps: Vec<usize>,
    /// Where the platform began to shed load: the users open at its first refusal, the step
    /// it came in, and why (`None`: it never shed).
    #[serde(default)]
    pub shedding_at_users: Option<u64>,
    #[serde(default)]
    pub shedding_step_users: Option<usize>,
    #[serde(default)]
    pub shedding_reason: Option<String>,
    /// The search was stopped (Ctrl-C) before it had its answer.
    #[serde(default)]
    pub interrupted: bool,
    /// One sentence for people.
    pub conclusion: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub users: usize,
    /// Deployments like this one needed (at most this many when no limit was found).
    pub instances: u64,
    pub at_most: bool,
}
