//! What the steps held so far showed the controller: every step as the ceiling reads it, the
//! levels that held (what a cool-down returns to), whether the last step failed, the mean run
//! time at each level held; and the steps' levels as people read them.

use crate::capacity::ceiling::{self, Held};
use crate::capacity::steady::Decision;
use crate::model::capacity::{round3, StepResult};
use crate::plan::{CapacityPlan, Shard};
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Record {
    /// Every step held, as the ceiling reads it.
    pub seen: Vec<Held>,
    /// The steps that held and no step at or below failed since: each one's level (this
    /// shard's), and its hold's means of runs in flight and sessions open.
    pub passes: Vec<(f64, f64, f64)>,
    pub failed_last: bool,
    /// Each step's level (this shard's), whether it passed, and its mean run time (s): what
    /// sessions started part-way at a new level are drawn with (`run_secs_at`).
    pub runs: Vec<(f64, bool, f64)>,
    /// The levels (this shard's) of the steps that failed, run or refused.
    pub failed: Vec<f64>,
}

impl Record {
    /// Whether `step` is saturated among the steps so far and it: found so, it stays so.
    pub fn saturated(&self, step: &StepResult) -> bool {
        Held::of(step).is_some_and(|held| {
            let mut all = self.seen.clone();
            all.push(held.clone());
            ceiling::saturated(&held, &all)
        })
    }

    /// A step judged, at this shard's `local` level.
    pub fn remember(&mut self, step: &StepResult, local: f64) {
        if let Some(mean) = step.mean_ms {
            self.runs.push((local, step.passed, mean / 1000.0));
        }
        self.seen.extend(Held::of(step));
        self.failed_last = !step.passed;
        if !step.passed {
            self.failed.push(local);
        }
        // A level that failed (held again, say) takes the passes at or above it with it.
        self.passes.retain(|p| p.0 < local);
        if step.passed {
            let st = step.steadiness.clone().unwrap_or_default();
            let mean = |h: [f64; 2]| (h[0] + h[1]) / 2.0;
            self.passes
                .push((local, mean(st.in_flight), mean(st.sessions_open)));
        }
    }

    /// A rate step not run (at this shard's `local` level): why, as its failure.
    pub fn not_run(&mut self, level: f64, local: f64, offered: f64, why: String) -> StepResult {
        self.failed_last = true;
        self.failed.push(local);
        self.passes.retain(|p| p.0 < local);
        let mut step = StepResult {
            rate: Some(level),
            offered_runs_per_sec: Some(offered),
            skipped: true,
            ..Default::default()
        };
        step.not_sustainable_because(&why);
        step
    }

    /// The mean run time to draw sessions started part-way at `level` with: the one measured
    /// at the highest level at or under it that passed (the next level's is near it), else
    /// at the lowest level held. Never the last step's as such: after a saturated step, runs
    /// of its length (a CI search's were 15 times the unloaded one) made the warm start at
    /// the next, lower level ask twice the sessions it holds, and the step failed on the burst.
    pub fn run_secs_at(&self, level: f64) -> Option<f64> {
        let passed_under = self
            .runs
            .iter()
            .filter(|r| r.1 && r.0 <= level)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let lowest = || self.runs.iter().min_by(|a, b| a.0.total_cmp(&b.0));
        passed_under.or_else(lowest).map(|r| r.2)
    }

    /// A rate step at `rate` near the knee (a step above it failed): the search's resolution as
    /// a share of its rate (`steady::Look::knee_resolution`).
    pub fn knee(&self, rate: Option<f64>, plan: &CapacityPlan) -> Option<f64> {
        rate.filter(|r| self.failed.iter().any(|f| *f > r + 1e-9))
            .map(|r| plan.rate_step() / r.max(1e-12))
    }

    /// The highest level below `next` that held, with its means of runs in flight and
    /// sessions open (none: zeros).
    pub fn held_below(&self, next: f64) -> (f64, f64, f64) {
        self.passes
            .iter()
            .copied()
            .filter(|p| p.0 < next)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or_default()
    }
}

/// Each step's runs started: from its start to the next step's, the last one's to `total`
/// (the runs begun by the load's end). `spans` are `finish`'s, in the order the steps ran.
/// A level held twice (the answer held again) counts both spans.
pub fn runs_started(steps: &mut [StepResult], spans: &[(f64, u64)], total: u64) {
    steps.iter_mut().for_each(|s| s.runs_started = 0);
    for (i, (level, begun)) in spans.iter().enumerate() {
        let next = spans.get(i + 1).map_or(total, |s| s.1);
        if let Some(step) = steps.iter_mut().find(|s| s.level() == *level) {
            step.runs_started += next.saturating_sub(*begun);
        }
    }
}

pub(crate) fn level_text(level: f64, rate: bool) -> String {
    match rate {
        true => format!("{}/s", round3(level)),
        false => format!("{} users", level.round()),
    }
}

/// What a look's `decision` makes of the step it ended: not sustainable (its failure, why), or
/// a pass on its figures (provisional).
pub(crate) fn decided(step: &mut StepResult, decision: &Option<Decision>) {
    match decision {
        Some(Decision::NotSustainable(why)) => step.not_sustainable_because(why),
        Some(Decision::Provisional) => step.provisional = true,
        _ => {}
    }
}

/// A step held at `level` (test-wide), as the report reads it: a rate step's rate and the runs
/// it offers, or a user step's users (and this shard's); the ramp before its hold.
pub(crate) fn at_level(
    step: &mut StepResult,
    level: f64,
    offered: Option<f64>,
    ramp: Duration,
    shard: Shard,
) {
    step.ramp_secs = ramp.as_secs_f64();
    step.offered_runs_per_sec = offered;
    match offered {
        Some(_) => step.rate = Some(level),
        None => {
            let users = level.round() as usize;
            step.users = users;
            step.shard_users = (!shard.is_whole()).then(|| shard.share(users));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(rate: f64, passed: bool, mean_ms: f64) -> StepResult {
        StepResult {
            rate: Some(rate),
            passed,
            mean_ms: Some(mean_ms),
            ..Default::default()
        }
    }

    #[test]
    fn a_warm_start_after_a_saturated_step_draws_the_runs_of_a_level_that_held() {
        // The CI search's order: 25/s held (45 ms runs), 56.25/s saturated (600 ms), then
        // the next step placed at 30.9/s.
        let mut record = Record::default();
        record.remember(&step(25.0, true, 45.0), 25.0);
        record.remember(&step(37.5, true, 52.0), 37.5);
        record.remember(&step(56.25, false, 600.0), 56.25);
        assert_eq!(record.run_secs_at(30.9), Some(0.045));
        // Above every level held: the highest one's.
        assert_eq!(record.run_secs_at(40.0), Some(0.052));
        // Under every level held: the lowest level's.
        assert_eq!(record.run_secs_at(10.0), Some(0.045));
        assert_eq!(Record::default().run_secs_at(10.0), None);
    }

    #[test]
    fn a_rate_step_under_a_failure_is_near_the_knee() {
        let plan: CapacityPlan = toml::from_str("rate_resolution = \"0.1/s\"").unwrap();
        let mut record = Record::default();
        record.remember(&step(1.0, true, 700.0), 1.0);
        // On the ladder, no failure yet: no step is near the knee.
        assert_eq!(record.knee(Some(1.8), &plan), None);
        record.remember(&step(4.0, false, 3000.0), 4.0);
        let knee = record.knee(Some(2.0), &plan).unwrap();
        assert!((knee - 0.05).abs() < 1e-12, "{knee}");
        // A rate refused unrun bounds it too; a users step (no rate) never is.
        record.not_run(1.9, 1.9, 5.7, "beyond the ceiling".into());
        assert!(record.knee(Some(1.85), &plan).is_some());
        assert_eq!(record.knee(Some(4.0), &plan), None);
        assert_eq!(record.knee(None, &plan), None);
    }
}
