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
    /// Runs the step started, ramp and hold (the target's own count can be set beside it).
    #[serde(default)]
    pub runs_started: u64,
    /// The hold window's completed run times (HdrHistogram V2-deflate, base64) and length, so
    /// shards' steps add up exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
    #[serde(default)]
    pub window_secs: f64,
    /// A shard's step: the users it ran of the step's `users`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard_users: Option<usize>,
    /// The step's own report folder, relative to the capacity report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// A rate step (the open model): its arrival rate (test-wide), and its hold's arrivals,
    /// those dropped, and the P95 of its sessions' first turns.
    #[serde(default)]
    pub rate: Option<f64>,
    #[serde(default)]
    pub sessions_arrived: u64,
    #[serde(default)]
    pub sessions_dropped: u64,
    #[serde(default)]
    pub first_turn_p95_ms: Option<f64>,
    /// The step was stopped (Ctrl-C, SIGTERM): the search ends with what it measured.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Where the step's time went (histograms: shards' steps add up), and the peaks of the
    /// deployment's polled series: what the search compares to name what degraded first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breakdown: Option<super::breakdown::Breakdown>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub server_peaks: std::collections::BTreeMap<String, f64>,
}

impl StepResult {
    /// The figures what-degraded-first compares: the breakdown's P95s, the server's peaks.
    pub fn figures(&self) -> std::collections::BTreeMap<String, f64> {
        let mut figures = self
            .breakdown
            .as_ref()
            .map(|b| b.figures())
            .unwrap_or_default();
        for (name, peak) in &self.server_peaks {
            figures.insert(format!("server `{name}` peak"), *peak);
        }
        figures
    }

    /// What the step stepped: its rate, or its users.
    pub fn level(&self) -> f64 {
        self.rate.unwrap_or(self.users as f64)
    }

    /// The step's level as people read it: `40 users`, `2.5/s`.
    pub fn level_text(&self) -> String {
        match self.rate {
            Some(rate) => format!("{}/s", round3(rate)),
            None => format!("{} users", self.users),
        }
    }
}

/// A rate for people: at most three decimals.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The shards' runs of each step of one ladder, added: counts, exact histograms (so the merged
/// P95 is the P95 of every recorded run time), rates added, the target's figures from the
/// first shard that sampled it, the generator's worst. Judged afterwards.
pub fn merge_steps(shards: &[&[StepResult]]) -> Result<Vec<StepResult>, String> {
    // Steps line up by level: users, or (rate steps) the rate's exact bits.
    let mut by_level: std::collections::BTreeMap<(usize, u64), Vec<&StepResult>> =
        Default::default();
    for step in shards.iter().flat_map(|s| s.iter()) {
        let rate = step.rate.map_or(0, f64::to_bits);
        by_level.entry((step.users, rate)).or_default().push(step);
    }
    let mut steps: Vec<StepResult> = by_level
        .into_values()
        .map(|parts| merge_one(parts[0].users, &parts))
        .collect::<Result<_, _>>()?;
    steps.sort_by(|a, b| a.level().total_cmp(&b.level()));
    Ok(steps)
}

fn merge_one(users: usize, parts: &[&StepResult]) -> Result<StepResult, String> {
    use super::metrics::{Latency, SerializedLatency};
    let mut hist = Latency::default();
    for part in parts {
        if let Some(text) = &part.histogram {
            let decoded = Latency::decode(text).map_err(|e| format!("step {users}: {e}"))?;
            hist.add(&decoded);
        }
    }
    let sum = |f: fn(&StepResult) -> u64| parts.iter().map(|p| f(p)).sum::<u64>();
    let (runs, completed) = (sum(|p| p.runs), sum(|p| p.completed));
    let stats = (hist.count() > 0).then(|| hist.stats());
    let first_shed = parts.iter().filter_map(|p| p.throttled_first_at_users);
    let mut reasons: Vec<String> = parts
        .iter()
        .flat_map(|p| p.throttle_reasons.clone())
        .collect();
    reasons.sort();
    reasons.dedup();
    let attempts = runs + sum(|p| p.throttled_connects);
    Ok(StepResult {
        users,
        runs,
        completed,
        runs_started: sum(|p| p.runs_started),
        error_rate_percent: match runs {
            0 => 0.0,
            n => 100.0 * (n - completed) as f64 / n as f64,
        },
        runs_per_sec: parts.iter().map(|p| p.runs_per_sec).sum(),
        mean_ms: stats.as_ref().map(|s| s.mean_ms),
        p50_ms: stats.as_ref().map(|s| s.p50_ms),
        p95_ms: stats.as_ref().map(|s| s.p95_ms),
        p99_ms: stats.as_ref().map(|s| s.p99_ms),
        target_cpu_percent: parts.iter().find_map(|p| p.target_cpu_percent),
        target_rss_bytes: parts.iter().find_map(|p| p.target_rss_bytes),
        generator_cpu_percent: parts
            .iter()
            .filter_map(|p| p.generator_cpu_percent)
            .reduce(f64::max),
        generator_saturated: parts.iter().any(|p| p.generator_saturated),
        throttled: sum(|p| p.throttled),
        throttled_connects: sum(|p| p.throttled_connects),
        throttled_percent: match attempts {
            0 => 0.0,
            n => 100.0 * sum(|p| p.throttled) as f64 / n as f64,
        },
        throttled_first_at_users: first_shed.reduce(|a, b| a + b),
        throttle_reasons: reasons,
        server_failed: parts.iter().find_map(|p| p.server_failed.clone()),
        window_secs: parts.iter().map(|p| p.window_secs).fold(0.0, f64::max),
        histogram: (hist.count() > 0).then(|| SerializedLatency::from(&hist).histogram),
        rate: parts[0].rate,
        sessions_arrived: sum(|p| p.sessions_arrived),
        sessions_dropped: sum(|p| p.sessions_dropped),
        // The worst shard's: a merged P95 of first turns has no histogram to come from.
        first_turn_p95_ms: parts
            .iter()
            .filter_map(|p| p.first_turn_p95_ms)
            .reduce(f64::max),
        interrupted: parts.iter().any(|p| p.interrupted),
        breakdown: merge_breakdowns(parts)?,
        // The deployment is one: its peaks are the first shard's that polled it.
        server_peaks: parts
            .iter()
            .map(|p| p.server_peaks.clone())
            .find(|p| !p.is_empty())
            .unwrap_or_default(),
        ..Default::default()
    })
}

fn merge_breakdowns(parts: &[&StepResult]) -> Result<Option<super::breakdown::Breakdown>, String> {
    let mut merged: Option<super::breakdown::Breakdown> = None;
    for b in parts.iter().filter_map(|p| p.breakdown.as_ref()) {
        merged.get_or_insert_with(Default::default).add(b)?;
    }
    Ok(merged)
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
    /// One sentence for people.
    pub conclusion: String,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::Latency;
    use std::time::Duration;

    fn shard(users: usize, times_ms: &[u64]) -> StepResult {
        let mut hist = Latency::default();
        times_ms
            .iter()
            .for_each(|ms| hist.record(Duration::from_millis(*ms)));
        StepResult {
            users,
            runs: times_ms.len() as u64,
            completed: times_ms.len() as u64,
            runs_per_sec: times_ms.len() as f64 / 3.0,
            histogram: Some(hist.encode()),
            ..Default::default()
        }
    }

    #[test]
    fn a_slow_shard_drags_the_merged_step_exactly_as_its_histogram_says() {
        // Two fast shards (100 ms runs) and one slowed (900 ms): a tenth of the runs are slow.
        let fast: Vec<u64> = vec![100; 45];
        let slow: Vec<u64> = vec![900; 10];
        let (a, b, c) = (shard(30, &fast), shard(30, &fast), shard(30, &slow));
        let merged = merge_steps(&[&[a][..], &[b][..], &[c][..]]).unwrap();
        let step = &merged[0];
        assert_eq!((step.users, step.runs, step.completed), (30, 100, 100));
        // The P95 of all 100 run times is a slow one; the P50 a fast one.
        let mut all = Latency::default();
        fast.iter()
            .chain(&fast)
            .chain(&slow)
            .for_each(|ms| all.record(Duration::from_millis(*ms)));
        assert_eq!(step.p95_ms, all.quantile_ms(0.95));
        assert!(
            step.p95_ms.unwrap() > 890.0 && step.p50_ms.unwrap() < 110.0,
            "{step:?}"
        );
        assert!((step.runs_per_sec - 100.0 / 3.0).abs() < 1e-9);
        // Without the slow shard the step holds a 500 ms P95.
        let quick = merge_steps(&[&[shard(30, &fast)][..]]).unwrap();
        assert!(quick[0].p95_ms.unwrap() < 110.0);
    }
}
