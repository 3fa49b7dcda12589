//! Steps measured on fixed holds and judged afterwards (capacity shards' steps, merged): each
//! step's hold judged for steadiness with the rules one node uses, with no room to hold longer.

use super::ceiling::{self, Held};
use super::controller::{mean, quantile};
use super::interval::HoldRuns;
use super::judge::judge;
use super::steady::{self, Approach, Decision, Expect, Look};
use crate::model::capacity::StepResult;
use crate::model::hold::HoldFigures;
use crate::plan::{Plan, Sla};

/// Judges `steps` (lowest level first) in place: steadiness on each merged hold, the ceiling
/// the steps below measured, then the SLA.
pub fn judge_merged(steps: &mut [StepResult], plan: &Plan, sla: &Sla) {
    let mut seen: Vec<Held> = Vec::new();
    for step in steps.iter_mut() {
        let expect = Expect::of(plan, step.rate, None);
        let offered = expect.offered_runs_per_sec;
        step.offered_runs_per_sec = offered.or(step.offered_runs_per_sec);
        if let Some(hold) = step.hold.clone() {
            let runs = HoldRuns {
                runs: HoldFigures::decode(&hold.run_slices),
                first_turns: HoldFigures::decode(&hold.first_turn_slices),
            };
            intervals(step, &runs, sla);
            let st = steady::steadiness(&hold, &runs, &expect);
            let ceiling = ceiling::ceiling(&seen);
            let settle = ceiling::settle(offered, ceiling.as_ref());
            let settle = settle.as_ref().map(|(secs, why)| (*secs, why.as_str()));
            let judged = judge(sla, &mut step.clone());
            let look = Look {
                steadiness: &st,
                shown: &judged.shown,
                broken: None,
                near: false,
                approach: Approach::Rising,
                held: hold.secs,
                next: f64::INFINITY,
                max_hold: hold.secs,
                settle,
                min_pass: 0.0,
                futile: false,
                provisional: false,
                carried: None,
                knee_resolution: None,
            };
            let why = match steady::decide(&look) {
                Decision::NotSustainable(why) => Some(why),
                _ => None,
            };
            step.steadiness = Some(st);
            let beyond = offered.and_then(|o| ceiling::beyond(o, ceiling.as_ref()));
            if let Some(why) = why.or(beyond) {
                step.not_sustainable_because(&why);
            }
        }
        judge(sla, step);
        seen.extend(Held::of(step));
    }
}

/// The merged hold's intervals, from its added slices (shards' intervals do not add).
fn intervals(step: &mut StepResult, runs: &HoldRuns, sla: &Sla) {
    step.p95_interval = quantile(&runs.runs, 0.95);
    step.p99_interval = sla.agent_run_p99.and_then(|_| quantile(&runs.runs, 0.99));
    step.mean_interval = sla.agent_run_avg.and_then(|_| mean(&runs.runs));
    step.first_turn_interval = quantile(&runs.first_turns, 0.95);
}
