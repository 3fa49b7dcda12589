//! Capacity search results: each step's own figures and verdicts, the most users held within
//! the SLA, the limiting rule, the projection.

mod merge;
mod step;

pub use merge::merge_steps;
pub use step::*;

use serde::{Deserialize, Serialize};

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
    /// A second pass's fine ladder (`--between LO HI`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<(usize, usize)>,
    /// The search was stopped (Ctrl-C) before it had its answer.
    #[serde(default)]
    pub interrupted: bool,
    /// Rate steps: the highest arrival rate that held every rule, and the first that failed.
    #[serde(default)]
    pub max_rate: Option<f64>,
    #[serde(default)]
    pub first_failing_rate: Option<f64>,
    /// Rate steps: the highest rate tried (the ceiling); `None`: the steps are users.
    #[serde(default)]
    pub max_rate_tried: Option<f64>,
    /// The enterprise's seats, sized in deployments (`[capacity.enterprise]`).
    #[serde(default)]
    pub enterprise: Option<EnterpriseSizing>,
    /// The figure that grew the most from the first step to the first that broke.
    #[serde(default)]
    pub degraded_first: Option<String>,
    /// The most runs per second a step completed in its hold, and that step; `measured` when
    /// that step was saturated (the figure is the deployment's ceiling, which bounds any
    /// answer) and not only a floor under it; whether any step saturated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_throughput: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_throughput_at: Option<String>,
    #[serde(default)]
    pub max_throughput_measured: bool,
    #[serde(default)]
    pub saturated_any: bool,
    /// The answer's load (offered runs/s, or the runs/s its users completed) as a share of a
    /// measured ceiling; `None` when the ceiling was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_percent: Option<f64>,
    /// A step past the knee that completed clearly less (throughput falls under overload):
    /// its runs per second and its level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_fallen: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput_fallen_at: Option<String>,
    /// The SLA's run-time P95 limit the steps were judged against, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_p95_limit_ms: Option<f64>,
    /// The deployment's size (replicas) the search measured, when a scaling study (or
    /// `--size`) says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// The passes the rate answer stands on when it is theirs together (`capacity::pool`);
    /// `None`: it stands on one step's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled: Option<Pooled>,
    /// One sentence for people.
    pub conclusion: String,
}

/// Passes at neighbouring rates, each shown within the SLA, taken together: the load their
/// holds carried over all their seconds, less the slow swing of that many seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    /// The rates the pooled steps asked, ascending.
    pub rates: Vec<f64>,
    /// Their holds' seconds, in all.
    pub held_secs: f64,
    /// The sessions per second their holds carried together, and the rate they asked
    /// together (each weighted by its hold).
    pub carried_rate: f64,
    pub asked_rate: f64,
    /// The sessions open's slow swing over `held_secs` (one standard deviation, a share).
    pub slow_sd: f64,
    /// The rate the answer stands for: `carried_rate` less `MIXTURE_SIGMAS` of `slow_sd`,
    /// never above `asked_rate`.
    pub shown_rate: f64,
}

/// Seats turned into a peak arrival rate, and the deployments that hold it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseSizing {
    pub seats: u64,
    pub active_share_percent: f64,
    pub sessions_per_active_hour: f64,
    /// Sessions per second at the peak hour.
    pub peak_rate: f64,
    /// The rate one deployment holds within the SLA.
    pub deployment_rate: f64,
    /// Deployments needed, keeping the plan's headroom free (at most this many when no
    /// limit was found).
    pub deployments: u64,
    pub at_most: bool,
    /// The share of those deployments' capacity the peak leaves free.
    pub spare_percent: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Projection {
    pub users: usize,
    /// Deployments like this one needed (at most this many when no limit was found).
    pub instances: u64,
    pub at_most: bool,
}
