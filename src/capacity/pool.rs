//! Passes pooled: what several holds at neighbouring rates, each shown within the SLA, show
//! together. Pure, unit-tested below.
//!
//! **Why.** A pass stands for the load its hold carried less `MIXTURE_SIGMAS` of the
//! sessions' slow swing over its hold (`StepResult::shown_level`): a window that carried a
//! load reads a lower P95 than the long run at that load, which includes the swings longer
//! than the window. On short holds that swing is large (sessions of ~1 s at 32/s held 6 s:
//! 10%, so each pass is credited 7% under what it carried), and the walk places each step
//! above every level that passed. A CI search passed 31.9, 32.8, 33.1 and 33.3/s (P95 64–75
//! ms against 140), each credited under the 30.7/s it had passed before, and answered 30.7/s
//! where the simulation's limit is 34.2/s: five holds showed more than any one of them.
//!
//! **What a pool shows.** Every pooled hold's P95 lies under the limit, so the P95 of all
//! their runs together does too (a mixture's quantile lies under the largest of its parts'),
//! at the load they carried together: their carried rates weighted by their seconds. That
//! load is credited less `MIXTURE_SIGMAS` of the slow swing of *all* their seconds, taken as
//! one contiguous hold: holds apart in time share fewer sessions than one hold as long, so
//! that swing is the largest theirs can be (never optimistic), and it shrinks as the pool
//! grows. The credit never exceeds the rate they asked together (as a single pass's never
//! exceeds its rate), nor do pooled rates that differ spoil it: near the knee run time grows
//! faster than load, so the mixture of a higher and a lower load reads worse than their mean.
//!
//! **Which pools.** The holds at the k highest rates that passed under the lowest rate not
//! shown to hold, for each k from two: the walk climbs from below, so those are its closest
//! passes to the knee. Only passes shown (held as long as a queue at their load settles,
//! not provisional) are pooled: the rest are held again first, as a single answer would be.

use super::steady::slow_swing;
use crate::model::capacity::{credited, Pooled, StepResult};

/// The pool credited the most among the passes in `steps` under `high` that `shown`
/// admits, and what it is credited with; `None` with fewer than two such passes.
pub(super) fn best(
    steps: &[StepResult],
    high: f64,
    shown: impl Fn(&StepResult) -> bool,
) -> Option<Pooled> {
    let mut passes: Vec<&StepResult> = steps
        .iter()
        .filter(|s| s.passed && !s.provisional && s.held_secs > 0.0)
        .filter(|s| s.rate.is_some() && s.carried_rate.is_some() && s.level() < high)
        .filter(|s| shown(s))
        .collect();
    passes.sort_by(|a, b| b.level().total_cmp(&a.level()));
    (2..=passes.len())
        .map(|k| pooled(&passes[..k]))
        .max_by(|a, b| a.shown_rate.total_cmp(&b.shown_rate))
}

/// What `passes` show together.
fn pooled(passes: &[&StepResult]) -> Pooled {
    let held_secs: f64 = passes.iter().map(|s| s.held_secs).sum();
    let weighted = |f: &dyn Fn(&StepResult) -> f64| {
        passes.iter().map(|s| f(s) * s.held_secs).sum::<f64>() / held_secs
    };
    let carried_rate = weighted(&|s| s.carried_rate.unwrap_or(0.0));
    let asked_rate = weighted(&|s| s.level());
    let session = passes
        .iter()
        .filter_map(|s| s.steadiness.as_ref()?.session_secs)
        .fold(0.0, f64::max);
    let slow_sd = slow_swing(carried_rate, session, held_secs).unwrap_or(0.0);
    let mut rates: Vec<f64> = passes.iter().map(|s| s.level()).collect();
    rates.sort_by(f64::total_cmp);
    Pooled {
        rates,
        held_secs,
        carried_rate,
        asked_rate,
        slow_sd,
        shown_rate: credited(asked_rate, carried_rate, slow_sd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hold::Steadiness;

    /// A pass at `rate` held `secs`, carrying `carried`, its sessions `session` s long (the
    /// slow swing its own hold saw, as the controller records it).
    fn pass(rate: f64, carried: f64, secs: f64, session: f64) -> StepResult {
        StepResult {
            rate: Some(rate),
            passed: true,
            held_secs: secs,
            carried_rate: Some(carried),
            steadiness: Some(Steadiness {
                steady: true,
                slow_sd: slow_swing(rate, session, secs),
                session_secs: Some(session),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn passes_near_the_knee_together_show_more_than_any_one_of_them() {
        // The CI search's passes: sessions of ~1 s, holds of ~6 s at 31–34/s, each carrying
        // 2–3% under its rate but the first, which carried 12% over.
        let steps = [
            pass(30.718, 34.4, 6.0, 1.0),
            pass(31.883, 31.2, 6.0, 1.0),
            pass(32.779, 31.9, 6.0, 1.0),
            pass(33.14, 32.5, 6.0, 1.0),
            pass(33.33, 32.6, 6.0, 1.0),
        ];
        let single = steps
            .iter()
            .map(StepResult::shown_level)
            .fold(0.0, f64::max);
        assert!((single - 30.718).abs() < 1e-9, "{single}");
        let pool = best(&steps, 33.577, |_| true).unwrap();
        assert!(pool.shown_rate > 31.3 && pool.shown_rate < 32.4, "{pool:?}");
        assert!(pool.shown_rate <= pool.asked_rate && pool.shown_rate < pool.carried_rate);
        // Its swing is that of 30 s of load, not of 6.
        assert!((pool.slow_sd - slow_swing(pool.carried_rate, 1.0, 30.0).unwrap()).abs() < 1e-12);
        assert_eq!(pool.rates.first(), Some(&30.718));
    }

    #[test]
    fn a_pool_is_credited_like_one_hold_as_long_never_more() {
        // Sessions of 80 s, holds of 30 s: two holds share the sessions' state, and are
        // credited as one hold of 60 s (never as two independent ones).
        let steps = [pass(4.0, 4.0, 30.0, 80.0), pass(4.3, 4.3, 30.0, 80.0)];
        let pool = best(&steps, 4.5, |_| true).unwrap();
        let one_hold = slow_swing(4.15, 80.0, 60.0).unwrap();
        assert!((pool.slow_sd - one_hold).abs() < 1e-12, "{pool:?}");
        let independent = slow_swing(4.3, 80.0, 30.0).unwrap() / 2f64.sqrt();
        assert!(pool.slow_sd > independent, "{pool:?}");
        // Pooled with a lower pass, the higher one's own credit is not beaten here.
        assert!(pool.shown_rate < steps[1].shown_level(), "{pool:?}");
    }

    #[test]
    fn never_above_what_was_asked_nor_past_a_failure_nor_an_unshown_pass() {
        // Both carried far more than asked: the pool stands for what they asked together.
        let steps = [pass(4.0, 5.0, 300.0, 1.0), pass(4.2, 5.0, 300.0, 1.0)];
        let pool = best(&steps, 10.0, |_| true).unwrap();
        assert!((pool.shown_rate - 4.1).abs() < 1e-9, "{pool:?}");
        // At or above the lowest failure, failed, provisional, or not shown: not pooled.
        let mut failed = pass(3.9, 3.9, 60.0, 1.0);
        failed.passed = false;
        let mut provisional = pass(3.8, 3.8, 60.0, 1.0);
        provisional.provisional = true;
        let steps = [
            pass(4.0, 4.0, 60.0, 1.0),
            pass(4.2, 4.2, 60.0, 1.0),
            failed,
            provisional,
            pass(3.7, 3.7, 60.0, 1.0),
        ];
        assert_eq!(best(&steps, 4.0, |_| true), None);
        assert_eq!(
            best(&steps, 4.3, |s| s.level() != 3.7).unwrap().rates,
            [4.0, 4.2]
        );
        // A users step is never pooled (it carries its users, not a rate).
        let users = StepResult {
            users: 40,
            passed: true,
            held_secs: 60.0,
            ..Default::default()
        };
        assert_eq!(best(&[users.clone(), users], 100.0, |_| true), None);
    }
}
