//! A scaling study: a capacity search at each of several deployment sizes, the resources the
//! deployment's polled metrics show at each, the curve fitted through the sizes' answers,
//! the bounds the resources set, and what an enterprise needs.

use serde::{Deserialize, Serialize};

/// One size's search, as the study reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SizeResult {
    pub size: u32,
    /// The search's answer: sessions per second (rate searches) or users; `None`: even the
    /// first step failed.
    pub answer: Option<f64>,
    /// No limit was found up to the search's ceiling: the answer is a floor.
    #[serde(default)]
    pub at_least: bool,
    /// The most runs per second a step completed, and whether a saturated step completed it
    /// (the deployment's ceiling) or it is only a floor.
    pub ceiling: Option<f64>,
    #[serde(default)]
    pub ceiling_measured: bool,
    /// Runs a second per unit of the answer at the answer's step (the turns of a session, or a
    /// user's runs a second): what turns a bound in runs/s into the answer's units.
    pub runs_per_unit: Option<f64>,
    /// Each resource's demand per run at this size.
    #[serde(default)]
    pub resources: Vec<ResourceAtSize>,
    /// The size's capacity folder (relative to the study's, or as given).
    pub folder: String,
}

/// A resource at one size: its demand per run, the bound it sets, how busy it was at the
/// step that completed the most.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceAtSize {
    pub name: String,
    pub servers: f64,
    /// Seconds of it a completed run takes (utilization law, over the size's steps).
    pub demand_secs: f64,
    /// Runs per second it allows at most: servers / demand.
    pub bound_runs_per_sec: f64,
    pub utilization_at_most: f64,
}

/// The curve fitted through the sizes' answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    /// `usl` (three sizes or more), `amdahl` (two), `none` (one).
    pub kind: String,
    /// The answer of one replica alone (λ), contention (σ) and coherency (κ).
    pub lambda: f64,
    pub sigma: f64,
    pub kappa: f64,
    /// The size past which more replicas hold less (κ > 0).
    pub peak_size: Option<f64>,
}

impl Fit {
    /// The Universal Scalability Law's value at `n` replicas: λn / (1 + σ(n − 1) + κn(n − 1)).
    pub fn at(&self, n: f64) -> f64 {
        self.lambda * n / (1.0 + self.sigma * (n - 1.0) + self.kappa * n * (n - 1.0))
    }
}

/// A resource across sizes: its demand per run grows as `demand_secs + growth_secs × (size − 1)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceTrend {
    pub name: String,
    /// Its servers at size 1, and whether they grow with the size (one set a replica).
    pub servers: f64,
    #[serde(default)]
    pub per_replica: bool,
    pub demand_secs: f64,
    pub growth_secs: f64,
    /// The smallest size at which its bound falls under what the replicas would complete
    /// without it (`None`: not up to the largest size considered).
    pub binds_at: Option<u32>,
}

impl ResourceTrend {
    /// Runs per second it allows at `size` replicas: its servers there over its demand there.
    pub fn bound_at(&self, size: u32) -> f64 {
        let n = f64::from(size);
        let servers = match self.per_replica {
            true => self.servers * n,
            false => self.servers,
        };
        servers / (self.demand_secs + self.growth_secs * (n - 1.0)).max(1e-9)
    }
}

/// What the study says of a size, measured or not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub size: u32,
    pub measured: Option<f64>,
    /// Division: the answer of one size scaled by the size.
    pub division: Option<f64>,
    /// The fitted curve's value (none with one size).
    pub fitted: Option<f64>,
    /// The tightest resource bound, in runs/s and in the answer's units, and which resource.
    pub bound_runs_per_sec: Option<f64>,
    pub bound: Option<f64>,
    pub bound_by: Option<String>,
    /// What the study expects: the fitted curve (or division), never above a bound.
    pub expected: Option<f64>,
}

/// An enterprise's peak sized across the study.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScaledEnterprise {
    pub seats: u64,
    pub peak_rate: f64,
    pub headroom_percent: f64,
    /// The smallest measured size that holds the peak with the headroom.
    pub measured_size: Option<u32>,
    /// Past the sizes measured: the smallest size expected to (an extrapolation), and the
    /// size division would say.
    pub extrapolated_size: Option<u32>,
    pub division_size: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScalingStudy {
    pub plan: String,
    /// `sessions/s` or `users`.
    pub unit: String,
    pub sizes: Vec<SizeResult>,
    pub fit: Fit,
    pub resources: Vec<ResourceTrend>,
    pub predictions: Vec<Prediction>,
    pub enterprise: Option<ScaledEnterprise>,
    /// Sizes the study set out to measure that it could not (why), when it stopped early.
    #[serde(default)]
    pub stopped: Option<String>,
    pub conclusion: String,
    /// Wall-clock seconds the study took (its sizes' searches, scaling between them).
    #[serde(default)]
    pub duration_secs: f64,
}
