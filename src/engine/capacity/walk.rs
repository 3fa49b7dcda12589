//! The search's walk: up the ladder until a step fails, then bisection between the last step
//! that held and the first that failed, until they are `resolution` apart. The answer must
//! have been held as long as a queue at its load takes to settle under the ceiling the
//! search measured (a step that passed before any step showed the ceiling may not have
//! been): if not, it is held again, warm, and the bisection goes on below it if it fails.

use super::ceiling;
use super::{judge, CapacityReport, StepResult};
use crate::plan::Sla;

/// Most times the answer is held again.
const MAX_RETRIES: usize = 3;

/// Walks `ladder` (levels ascending); whole levels when `integral`. The limit and the first
/// failure come back in `max_rate`/`first_failing_rate`. `run_step` returns `None` to stop
/// (Ctrl-C): the report keeps what was measured.
pub(super) async fn walk<E>(
    ladder: Vec<f64>,
    resolution: f64,
    integral: bool,
    sla: &Sla,
    mut run_step: impl AsyncFnMut(f64) -> Result<Option<StepResult>, E>,
) -> Result<CapacityReport, E> {
    let mut report = CapacityReport::default();
    let mut step = async |level: f64, report: &mut CapacityReport| {
        let Some(mut step) = run_step(level).await? else {
            report.interrupted = true;
            return Ok(None);
        };
        judge(sla, &mut step);
        report.steps.push(step.clone());
        Ok::<_, E>(Some(step))
    };
    let mut passes: Vec<f64> = Vec::new();
    let mut fail: Option<StepResult> = None;
    for level in ladder {
        let Some(s) = step(level, &mut report).await? else {
            break;
        };
        if !s.passed {
            fail = Some(s);
            break;
        }
        passes.push(level);
    }
    let apart = |low: f64, high: f64| high - low > resolution && (!integral || high - low > 1.0);
    let below = |passes: &[f64], high: f64| {
        passes
            .iter()
            .copied()
            .filter(|p| *p < high)
            .reduce(f64::max)
    };
    let mut retries = 0;
    while !report.interrupted {
        let high = fail.as_ref().map_or(f64::INFINITY, StepResult::level);
        let low = below(&passes, high);
        if fail.is_some() && apart(low.unwrap_or(0.0), high) {
            let low = low.unwrap_or(0.0);
            let mid = match integral {
                true => low + ((high - low) / 2.0).floor(),
                false => (low + high) / 2.0,
            };
            match step(mid, &mut report).await? {
                Some(s) if s.passed => passes.push(mid),
                Some(s) => fail = Some(s),
                None => break,
            }
            continue;
        }
        let Some(answer) = low else { break };
        if retries == MAX_RETRIES || !unsettled(&report.steps, answer) {
            break;
        }
        retries += 1;
        report.steps.retain(|s| s.level() != answer);
        passes.retain(|p| *p != answer);
        match step(answer, &mut report).await? {
            Some(s) if s.passed => passes.push(answer),
            Some(s) => fail = Some(s),
            None => break,
        }
    }
    let high = fail.as_ref().map_or(f64::INFINITY, StepResult::level);
    report.max_rate = below(&passes, high);
    report.first_failing_rate = fail.as_ref().map(StepResult::level);
    report.limiting_rule = fail.as_ref().and_then(|s| s.failed_rule.clone());
    report.no_limit_up_to_ceiling = fail.is_none() && !report.interrupted;
    Ok(report)
}

/// The step at `level` passed on a hold shorter than a queue at its load takes to settle,
/// under the ceiling the steps measured.
fn unsettled(steps: &[StepResult], level: f64) -> bool {
    let ceiling = ceiling::of_steps(steps);
    let Some(step) = steps.iter().find(|s| s.level() == level) else {
        return false;
    };
    ceiling::settle(step.offered_runs_per_sec, ceiling.as_ref())
        .is_some_and(|(secs, _)| step.held_secs + 1e-6 < secs)
}
