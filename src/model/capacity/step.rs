//! One capacity step's own figures and verdicts, from its hold window only, and how they read.

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
    pub breakdown: Option<crate::model::breakdown::Breakdown>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub server_peaks: std::collections::BTreeMap<String, f64>,
    /// The hold the step was judged on (the load sampled through it, each half's run times:
    /// shards' holds add up), and whether it was steady.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<crate::model::hold::HoldFigures>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steadiness: Option<crate::model::hold::Steadiness>,
    /// The step's load could not be held (why: `failed_rule`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_sustainable: bool,
    /// Not run: it offered more than the deployment ever completed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    /// Runs per second the step's rate offers (the rate × the mean turns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_runs_per_sec: Option<f64>,
    /// Seconds the step ramped from the step before, and was held (extensions included).
    #[serde(default)]
    pub ramp_secs: f64,
    #[serde(default)]
    pub held_secs: f64,
    /// The hold's first turns (HdrHistogram V2-deflate, base64), so shards' steps add up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_turn_histogram: Option<String>,
    /// The run-time quantiles the SLA names, each with the interval its verdict was read on:
    /// P95, P99, the mean, the first turn's P95.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_interval: Option<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_interval: Option<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_interval: Option<Interval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_turn_interval: Option<Interval>,
    /// Passed on its figures, every one under half its limit, before its runs could bound them
    /// (a step far below the answer need not be shown within): held again until shown if it
    /// becomes the answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub provisional: bool,
    /// Neither shown within the SLA nor over it when its hold ended (a `failed_rule` says
    /// which interval straddled its limit): not a level shown to hold.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undecided: bool,
    /// Why the step's hold ended (`shown within the SLA after 24 s`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_end: Option<String>,
    /// A rate step: the arrival rate its hold's runs stand for (runs begun per second over
    /// the mean turns): a pass holds for the load its hold carried (`shown_level`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_rate: Option<f64>,
    /// Its runs waited or slowed together: its median run twice the fastest step's, or
    /// (open model) it completed clearly less than it offered. Set when the step is held,
    /// never unset by a later step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saturated: bool,
    /// The deployment's resources over its hold (`[[capacity.resources]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceUse>,
}

/// A resource of the deployment over a step's hold, by the utilization law (U = X·D).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceUse {
    pub name: String,
    /// Its servers at the step's deployment size.
    pub servers: f64,
    /// The share of its servers' time it was busy (0–1).
    pub utilization: f64,
    /// Seconds of it a completed run took (`None`: no run completed).
    pub demand_secs: Option<f64>,
}

/// A quantile (or the mean) of a step's run times and its interval, ms: what the step's
/// verdict on that rule was read on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub point_ms: f64,
    pub low_ms: f64,
    /// `None`: too few independent runs to bound it from above.
    pub high_ms: Option<f64>,
    /// The hold's runs counted as independent ones (its design effect taken out).
    #[serde(default)]
    pub effective_runs: f64,
}

impl Interval {
    /// `820–950 ms`, `1.9–2.4 s`, `820 ms – unbounded`.
    pub fn text(&self) -> String {
        match self.high_ms {
            Some(high) if high >= 1000.0 && self.low_ms >= 1000.0 => {
                format!("{:.1}–{:.1} s", self.low_ms / 1000.0, high / 1000.0)
            }
            Some(high) => format!("{}–{} ms", thousands_ms(self.low_ms), thousands_ms(high)),
            None => format!("{} ms – unbounded", thousands_ms(self.low_ms)),
        }
    }
}

/// Milliseconds for people: `880`, `1,210`.
pub fn thousands_ms(ms: f64) -> String {
    crate::model::metrics::thousands(ms.round().max(0.0) as u64)
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

    /// The step's load could not be held (why): it fails on that, whatever its figures.
    pub fn not_sustainable_because(&mut self, why: &str) {
        self.not_sustainable = true;
        self.failed_rule = Some(format!("not sustainable: {why}"));
    }

    /// What the step stepped: its rate, or its users.
    pub fn level(&self) -> f64 {
        self.rate.unwrap_or(self.users as f64)
    }

    /// The level its verdict holds for. A rate step's pass shown within the SLA stands for
    /// the load its hold carried, less `MIXTURE_SIGMAS` of the sessions' slow swing (never
    /// more than its rate); a provisional pass, a failure, and a user step stand for their
    /// level.
    pub fn shown_level(&self) -> f64 {
        match (self.carried_rate, self.passed && !self.provisional) {
            (Some(carried), true) => credited(self.level(), carried, self.slow_sd()),
            _ => self.level(),
        }
    }

    /// The sessions' slow swing over its hold, as a share of its rate (0 when not known).
    pub fn slow_sd(&self) -> f64 {
        self.steadiness
            .as_ref()
            .and_then(|s| s.slow_sd)
            .unwrap_or(0.0)
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

/// A hold shorter than a session's length sees one state of the sessions open (a Poisson
/// count drifting over a session's length), where the long run averages over all of them,
/// and near the knee its P95 is set by the heavier ones: in a simulation of 8 slots of
/// 0.31 s with people's think times at 4.3/s (long-run P95 1.02 s), minute-long windows
/// that carried the rate's own load read 0.78 s, those carrying 0.7 standard deviations
/// more read what the long run does. So a pass stands for the rate this many standard
/// deviations of the slow swing under what its hold carried. (Without it, a search once
/// passed 4.404/s, where the long-run P95 is ~1.1 s, on a 90-s hold reading 665 ms.)
pub const MIXTURE_SIGMAS: f64 = 0.7;

/// The rate a pass (or passes together) stands for, having asked `asked` and carried
/// `carried` with the sessions' slow swing `slow` over the hold: what it carried less
/// `MIXTURE_SIGMAS` of that swing, never more than it asked.
pub fn credited(asked: f64, carried: f64, slow: f64) -> f64 {
    asked.min(carried * (1.0 - MIXTURE_SIGMAS * slow))
}

/// Generator CPU above which a step's figures may be the generator's, not the target's.
pub const GENERATOR_CPU_LIMIT: f64 = 80.0;
