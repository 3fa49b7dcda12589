//! The first step starts the load from nothing: sessions still filling, connections still
//! opening, and the warm start guessing its runs' length. Its failure may be the cold start's,
//! not the deployment's; read as the deployment's, it bounds the walk and the ceiling from
//! below the knee (a short-think search answered 21.9/s of ~34 in 2 runs of 9: its first step,
//! 25/s, failed "sessions open 78 → 131" from cold, was read as a saturated ceiling of ~150
//! runs/s, and every rate above was refused). So a first step that fails is held again at
//! once, warm (no cool-down), and only that hold is judged and remembered: a load the
//! deployment truly cannot hold fails again. A first step that passed on its figures
//! (`Provisional`) has not failed: it is not held again.

use crate::model::capacity::StepResult;

/// The hold that judged a first step held again says so, and why its first hold failed.
pub(super) fn held_again(step: &mut StepResult, why: &str) {
    let end = step.hold_end.take().unwrap_or_default();
    step.hold_end = Some(format!(
        "{end}, held again warm (its first hold, from a cold start: {why})"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::controller::record::decided;
    use crate::capacity::judge::judge;
    use crate::capacity::steady::Decision;
    use crate::model::capacity::Interval;
    use crate::plan::{Dur, Sla};

    /// Why `step`, judged on a 2 s P95, fails; `None`: it passes.
    fn fails(step: &StepResult) -> Option<String> {
        let mut judged = step.clone();
        judge(&sla(), &mut judged);
        (!judged.passed).then(|| judged.failed_rule.unwrap_or_default())
    }

    fn sla() -> Sla {
        Sla {
            agent_run_p95: Some(Dur::from_millis(2000)),
            ..Default::default()
        }
    }

    /// Nine runs of ~614 ms against a 2 s P95: too few to bound the P95 (the few-runs search's
    /// first step, 0.5/s, was held twice before this was mended).
    fn few_fast_runs() -> StepResult {
        let mut step = StepResult {
            rate: Some(0.5),
            completed: 9,
            runs: 9,
            p95_ms: Some(614.0),
            p50_ms: Some(614.0),
            mean_ms: Some(614.0),
            window_secs: 10.0,
            p95_interval: Some(Interval {
                point_ms: 614.0,
                low_ms: 613.0,
                high_ms: None,
                effective_runs: 9.0,
            }),
            ..Default::default()
        };
        step.hold_end = Some("passed on its figures after 10 s".into());
        step
    }

    #[test]
    fn a_first_step_that_passed_on_its_figures_is_not_held_again() {
        let mut step = few_fast_runs();
        // Its interval alone does not show it within: judged as it stands, it fails ...
        assert!(fails(&step).is_some());
        // ... but its look passed it on its figures.
        decided(&mut step, &Some(Decision::Provisional));
        assert_eq!(fails(&step), None);
    }

    #[test]
    fn a_first_step_not_sustainable_is_held_again_and_says_why() {
        let mut step = few_fast_runs();
        decided(
            &mut step,
            &Some(Decision::NotSustainable("sessions open 78 → 131".into())),
        );
        let why = fails(&step).unwrap();
        assert_eq!(why, "not sustainable: sessions open 78 → 131");
    }
}
