//! `[capacity]`: the stepped search of `agentload capacity`.

use super::values::{Dur, Percent};
use super::workload::Rate;
use serde::Deserialize;
use std::time::Duration;

/// What the search steps: users (the closed model), or the arrival rate (the open model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CapacityBy {
    Users,
    Rate,
}

/// `[capacity.enterprise]`: an enterprise's seats, turned into its peak arrival rate.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enterprise {
    pub seats: u64,
    /// Seats in a conversation at the peak hour.
    pub active_share: Percent,
    /// Conversations an active seat begins in an hour.
    pub sessions_per_active_hour: f64,
}

impl Enterprise {
    /// Sessions per second at the peak hour.
    pub fn peak_rate(&self) -> f64 {
        self.seats as f64 * self.active_share.0 / 100.0 * self.sessions_per_active_hour / 3600.0
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityPlan {
    /// First step's users.
    #[serde(default = "default_start")]
    pub start_users: usize,
    /// Each next step has this many times the users (ignored when `steps` is given).
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// Explicit user counts to try, ascending.
    #[serde(default)]
    pub steps: Vec<usize>,
    /// Time to move the live load from one step's level to the next (default: a session's
    /// mean length as measured, for plans of sessions; 2 s otherwise).
    pub step_ramp: Option<Dur>,
    /// Time a step is held and measured.
    #[serde(default = "default_hold")]
    pub step_hold: Dur,
    /// Most a step is held in all while its hold is not steady (default: three holds, or a
    /// hold and two sessions' length, whichever is longer); still not steady, it fails.
    pub max_hold: Option<Dur>,
    /// Most users ever tried.
    #[serde(default = "default_ceiling")]
    pub ceiling: usize,
    /// Bisect until the last passing and first failing steps are this close.
    #[serde(default = "default_resolution")]
    pub resolution: usize,
    /// Users to project the deployment count for, e.g. an enterprise's 2,000.
    pub projection_users: Option<usize>,
    /// Capacity kept in reserve when projecting.
    #[serde(default = "default_headroom")]
    pub headroom: Percent,
    /// `users` or `rate` (default: `rate` for an open plan, `users` otherwise).
    pub by: Option<CapacityBy>,
    /// Rate steps: the first step's arrival rate, the highest tried, and how close the last
    /// passing and first failing rates are when the bisection stops.
    #[serde(default = "default_start_rate")]
    pub start_rate: Rate,
    #[serde(default = "default_max_rate")]
    pub max_rate: Rate,
    pub rate_resolution: Option<Rate>,
    /// Seats to size for (rate steps).
    pub enterprise: Option<Enterprise>,
    /// `[capacity.scaling]`: a search at each of several deployment sizes (a scaling study).
    pub scaling: Option<Scaling>,
    /// `[[capacity.resources]]`: the deployment's resources, read from its polled metrics.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// The deployment's size this search measures (a study's, or `capacity --size`); not a
    /// plan key.
    #[serde(skip)]
    pub size: Option<u32>,
}

/// `[capacity.scaling]`: the deployment sizes a study searches, and how to reach each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    /// Deployment sizes (replicas), ascending.
    pub sizes: Vec<u32>,
    /// Run (by `sh -c`) before each size's search, `{size}` replaced (e.g. `kubectl scale
    /// deployment/agents --replicas={size} && kubectl rollout status deployment/agents`); an
    /// embedded target is started with `[target] replicas` = the size instead.
    pub scale_command: Option<String>,
    /// Most the command may take.
    #[serde(default = "default_scale_timeout")]
    pub scale_timeout: Dur,
    /// Most the target may take to answer the health check after it.
    #[serde(default = "default_ready_timeout")]
    pub ready_timeout: Dur,
}

/// How a resource's busyness is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A counter of the seconds it was busy, summed over its servers.
    BusySeconds,
    /// A gauge of the share of its servers busy (0–1, or a percentage).
    Utilization,
}

/// `[[capacity.resources]]`: one resource of the deployment (a database's CPU, a lock).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub name: String,
    /// The polled series it is read from (one of `[[target.metrics]]`'s).
    pub series: String,
    pub kind: ResourceKind,
    /// How many servers it has (a database's cores; a lock: 1).
    #[serde(default = "default_servers")]
    pub servers: f64,
    /// Its servers grow with the deployment's size (each replica's own CPU): `servers` a
    /// replica.
    #[serde(default)]
    pub per_replica: bool,
}

impl Resource {
    /// Its servers at deployment size `size`.
    pub fn servers_at(&self, size: u32) -> f64 {
        match self.per_replica {
            true => self.servers * f64::from(size.max(1)),
            false => self.servers,
        }
    }
}

impl Default for CapacityPlan {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

impl CapacityPlan {
    /// The first problem, as (key, message).
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        if self.start_users == 0 {
            return Some(("start_users", "must be at least 1"));
        }
        if self.steps.is_empty() && self.factor <= 1.0 {
            return Some(("factor", "must be more than 1"));
        }
        if self.steps.windows(2).any(|w| w[0] >= w[1]) {
            return Some(("steps", "must be ascending"));
        }
        if self.resolution == 0 {
            return Some(("resolution", "must be at least 1"));
        }
        if self.steps.contains(&0) {
            return Some(("steps", "must be at least 1 user each"));
        }
        if self.max_hold.is_some_and(|m| m.0 < self.step_hold.0) {
            return Some(("max_hold", "must be at least step_hold"));
        }
        if self.headroom.0 >= 100.0 {
            return Some(("headroom", "must be under 100%"));
        }
        if self.start_rate.0 <= 0.0 {
            return Some(("start_rate", "must be more than 0"));
        }
        if self.max_rate.0 < self.start_rate.0 {
            return Some(("max_rate", "must be at least start_rate"));
        }
        if self.rate_resolution.is_some_and(|r| r.0 <= 0.0) {
            return Some(("rate_resolution", "must be more than 0"));
        }
        if let Some(sc) = &self.scaling {
            if sc.sizes.is_empty() || sc.sizes.contains(&0) {
                return Some((
                    "scaling",
                    "sizes: one or more deployment sizes, each at least 1",
                ));
            }
            if sc.sizes.windows(2).any(|w| w[0] >= w[1]) {
                return Some(("scaling", "sizes must be ascending"));
            }
        }
        if self
            .resources
            .iter()
            .any(|r| r.servers.is_nan() || r.servers <= 0.0)
        {
            return Some(("resources", "servers must be more than 0"));
        }
        if let Some(e) = &self.enterprise {
            if e.seats == 0 || e.active_share.0 <= 0.0 {
                return Some(("enterprise", "seats and active_share must be more than 0"));
            }
            if !(e.sessions_per_active_hour > 0.0 && e.sessions_per_active_hour.is_finite()) {
                return Some(("enterprise", "sessions_per_active_hour must be more than 0"));
            }
        }
        None
    }

    /// The problem with stepping `by` for a plan of the `open` model, if any.
    pub fn model_problem(&self, open: bool) -> Option<(&'static str, &'static str)> {
        match (self.by, open) {
            (Some(CapacityBy::Rate), false) => Some((
                "by",
                "rate steps need an open plan ([workload] model = \"open\" with [[arrivals]])",
            )),
            (Some(CapacityBy::Users), true) => Some((
                "by",
                "an open plan's capacity is a rate: by = \"rate\" (or a closed plan for users)",
            )),
            (_, false) if self.enterprise.is_some() => Some((
                "enterprise",
                "seats are sized by the arrival rate: an open plan, by = \"rate\"",
            )),
            _ => None,
        }
    }

    /// The arrival rates of the stepped phase, up to `max_rate`.
    pub fn rate_ladder(&self) -> Vec<f64> {
        let mut rates = vec![];
        let mut r = self.start_rate.0;
        while r <= self.max_rate.0 * (1.0 + 1e-9) && rates.len() < 64 {
            rates.push(r);
            r *= self.factor.max(1.0 + 1e-3);
        }
        if rates
            .last()
            .is_some_and(|&last| last < self.max_rate.0 * (1.0 - 1e-9))
        {
            rates.push(self.max_rate.0);
        }
        rates
    }

    /// How close the bisection of rates gets: `rate_resolution`, or a quarter of the start.
    pub fn rate_step(&self) -> f64 {
        self.rate_resolution
            .map_or(self.start_rate.0 / 4.0, |r| r.0)
    }

    /// The user counts of the stepped phase, up to the ceiling.
    pub fn ladder(&self) -> Vec<usize> {
        if !self.steps.is_empty() {
            return self
                .steps
                .iter()
                .copied()
                .filter(|&u| u <= self.ceiling)
                .collect();
        }
        let mut users = vec![];
        let mut u = self.start_users as f64;
        while (u.round() as usize) <= self.ceiling {
            let n = u.round() as usize;
            if users.last() != Some(&n) {
                users.push(n);
            }
            u *= self.factor;
        }
        if users.last().is_some_and(|&last| last < self.ceiling) {
            users.push(self.ceiling);
        }
        users
    }
}

impl CapacityPlan {
    /// `--between LO HI`: every `resolution` users from LO, and HI (a second pass between the
    /// two rungs where a first one passed and failed).
    pub fn between(&self, low: usize, high: usize) -> Vec<usize> {
        let mut users: Vec<usize> = (low..high).step_by(self.resolution.max(1)).collect();
        users.push(high);
        users
    }

    /// A shard's schedule: step `k` starts `k` slots after the first; a slot is a step's
    /// `ramp` and hold, whole seconds (one load moves from step to step: no gap).
    pub fn slot(&self, ramp: Duration) -> Duration {
        Duration::from_secs_f64((ramp + self.step_hold.0).as_secs_f64().ceil())
    }
}

/// What `session_estimate` takes a run to last before any was measured.
pub const RUN_GUESS_SECS: f64 = 0.5;
/// The ramp between steps of a plan without sessions (users loop over runs).
pub(super) const DEFAULT_RAMP: Duration = Duration::from_secs(2);

fn default_scale_timeout() -> Dur {
    Dur::from_secs(600)
}
fn default_ready_timeout() -> Dur {
    Dur::from_secs(120)
}
fn default_servers() -> f64 {
    1.0
}
fn default_start() -> usize {
    2
}
fn default_factor() -> f64 {
    2.0
}
fn default_hold() -> Dur {
    Dur::from_secs(10)
}
fn default_ceiling() -> usize {
    64
}
fn default_resolution() -> usize {
    2
}
fn default_headroom() -> Percent {
    Percent(20.0)
}
fn default_start_rate() -> Rate {
    Rate(0.5)
}
fn default_max_rate() -> Rate {
    Rate(32.0)
}
