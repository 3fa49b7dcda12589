//! `[capacity]`: the stepped search of `agentload capacity`.

use super::{Dur, Percent};
use serde::Deserialize;

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
    /// Time to reach a step's users.
    #[serde(default = "default_ramp")]
    pub step_ramp: Dur,
    /// Time a step is held and measured.
    #[serde(default = "default_hold")]
    pub step_hold: Dur,
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
        if self.headroom.0 >= 100.0 {
            return Some(("headroom", "must be under 100%"));
        }
        None
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

    /// A shard's schedule: step `k` starts `k` slots after the start; a slot is a step's ramp
    /// and hold, whole seconds, and `SLOT_GAP` for its users to stop.
    pub fn slot(&self) -> std::time::Duration {
        let step = (self.step_ramp.0 + self.step_hold.0).as_secs_f64().ceil();
        std::time::Duration::from_secs_f64(step) + SLOT_GAP
    }
}

/// Between two steps of a sharded ladder: time for the users to close and the next to start.
pub const SLOT_GAP: std::time::Duration = std::time::Duration::from_secs(3);

fn default_start() -> usize {
    2
}
fn default_factor() -> f64 {
    2.0
}
fn default_ramp() -> Dur {
    Dur::from_secs(2)
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
