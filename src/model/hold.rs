//! A capacity step's hold as its steadiness and its verdict are judged on: the load sampled
//! through the hold (runs begun and ended, runs in flight, sessions open) and the run times
//! by time slice, all in forms that add up across shards; and the verdict on whether the hold
//! was steady.

use super::metrics::Latency;
use serde::{Deserialize, Serialize};

/// One look at the live load during a hold: counts since the hold began (so shards' samples
/// add up), and the gauges at that instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldSample {
    /// Seconds from the hold's start.
    pub at_secs: f64,
    pub runs_begun: u64,
    pub runs_ended: u64,
    pub in_flight: u64,
    pub sessions_open: u64,
}

/// The hold a step was judged on (the last `step_hold` seconds when it was extended).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldFigures {
    /// The judged window's length, seconds.
    pub secs: f64,
    pub samples: Vec<HoldSample>,
    /// Completed runs' times by equal time slices of the window, in order (HdrHistogram
    /// V2-deflate, base64; empty for a slice no run ended in), and the sessions' first turns
    /// likewise: the interval of a quantile and the halves are read from them.
    #[serde(default)]
    pub run_slices: Vec<String>,
    #[serde(default)]
    pub first_turn_slices: Vec<String>,
    /// Sessions that arrived in the window (the open model).
    #[serde(default)]
    pub sessions_arrived: u64,
}

impl HoldFigures {
    /// Mean of `f` over the samples of each half of the window.
    pub fn halves_mean(&self, f: impl Fn(&HoldSample) -> u64) -> [f64; 2] {
        let mid = self.secs / 2.0;
        let mut sums = [(0.0, 0u32); 2];
        for s in &self.samples {
            let half = usize::from(s.at_secs > mid);
            sums[half].0 += f(s) as f64;
            sums[half].1 += 1;
        }
        sums.map(|(sum, n)| if n == 0 { 0.0 } else { sum / f64::from(n) })
    }

    /// Runs begun and ended over the window (the last sample's counts).
    pub fn runs(&self) -> (u64, u64) {
        self.samples
            .last()
            .map_or((0, 0), |s| (s.runs_begun, s.runs_ended))
    }

    /// Slices as run times (ms; one that does not decode counts as empty).
    pub fn decode(slices: &[String]) -> Vec<Vec<f64>> {
        slices
            .iter()
            .map(|s| match s.is_empty() {
                true => Vec::new(),
                false => Latency::decode(s)
                    .map(|h| h.values_ms())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Run times (ms) by slice as slices kept (a histogram each).
    pub fn encode(slices: &[Vec<f64>]) -> Vec<String> {
        slices
            .iter()
            .map(|times| {
                let mut h = Latency::default();
                for ms in times {
                    h.record(std::time::Duration::from_secs_f64(ms / 1000.0));
                }
                match h.count() {
                    0 => String::new(),
                    _ => h.encode(),
                }
            })
            .collect()
    }

    /// Shards' holds of one step, added: samples by their place in the hold (every shard
    /// samples on the same clock from the same slot), histograms exactly.
    pub fn merge(parts: &[&HoldFigures]) -> Result<HoldFigures, String> {
        // A shard that sampled once less (its clock a hair behind) cuts the others' tail.
        let common = parts.iter().map(|p| p.samples.len()).min().unwrap_or(0);
        let samples = (0..common)
            .map(|i| {
                let mut sum = HoldSample {
                    at_secs: parts[0].samples[i].at_secs,
                    ..Default::default()
                };
                for p in parts {
                    let s = &p.samples[i];
                    sum.runs_begun += s.runs_begun;
                    sum.runs_ended += s.runs_ended;
                    sum.in_flight += s.in_flight;
                    sum.sessions_open += s.sessions_open;
                }
                sum
            })
            .collect();
        // Every shard slices the same hold alike; one with fewer slices cuts the others'.
        let add = |pick: fn(&HoldFigures) -> &Vec<String>| -> Result<Vec<String>, String> {
            let count = parts.iter().map(|p| pick(p).len()).min().unwrap_or(0);
            let mut out = vec![Latency::default(); count];
            for p in parts {
                for (slot, text) in out.iter_mut().zip(pick(p)) {
                    if !text.is_empty() {
                        slot.add(&Latency::decode(text)?);
                    }
                }
            }
            Ok(out
                .iter()
                .map(|h| match h.count() {
                    0 => String::new(),
                    _ => h.encode(),
                })
                .collect())
        };
        Ok(HoldFigures {
            secs: parts.iter().map(|p| p.secs).fold(0.0, f64::max),
            samples,
            run_slices: add(|p| &p.run_slices)?,
            first_turn_slices: add(|p| &p.first_turn_slices)?,
            sessions_arrived: parts.iter().map(|p| p.sessions_arrived).sum(),
        })
    }
}

/// Whether a step's hold was steady, with the figures it was judged on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Steadiness {
    pub steady: bool,
    /// What moved across the hold, each with its figures (`runs in flight 12 → 85`); empty
    /// when steady.
    pub moved: Vec<String>,
    /// Of those, whether one got worse (a queue growing, times rising, load falling short).
    pub worsening: bool,
    /// Runs in flight and sessions open, the means of the hold's halves.
    pub in_flight: [f64; 2],
    pub sessions_open: [f64; 2],
    /// Run time and first-turn P95 of each half, ms.
    pub run_p95_ms: [Option<f64>; 2],
    pub first_turn_p95_ms: [Option<f64>; 2],
    /// Runs begun and ended per second over the hold, and what the step's rate offers.
    pub runs_begun_per_sec: f64,
    pub runs_ended_per_sec: f64,
    pub offered_runs_per_sec: Option<f64>,
    /// Runs ended fell short of what the rate offers beyond a steady count's noise (and
    /// `FLATTENED_SHARE`): the deployment's throughput flattened under this load.
    #[serde(default)]
    pub flattened: bool,
    /// A steady hold's runs begun vary by this share of the offer (one standard deviation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_sd: Option<f64>,
    /// The sessions open's slow swing over the hold (a share of their mean, one standard
    /// deviation): what a hold shorter than sessions sees of the load's long-run states.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_sd: Option<f64>,
    /// A session's mean length the hold was judged with, seconds (how long the sessions
    /// open stay correlated): what holds pooled are judged with (`capacity::pool`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_secs: Option<f64>,
}
