//! The search's walk: up the ladder until a step is not shown to hold, then steps placed
//! between the highest level shown to hold and the lowest not shown to (`place`), until they
//! are `resolution` apart. A pass stands for the level it was shown to hold
//! (`StepResult::shown_level`: the load its hold carried, if less than it asked); a step not
//! shown to hold bounds the walk at the level it asked for (it may have carried more, but
//! the answer stays under what was asked of it).
//! The answer must have been shown within the SLA (a step far under it may have passed on its
//! figures alone, `provisional`), and held as long as a queue at its load takes to settle
//! under the ceiling the search measured (a step that passed before any step showed the
//! ceiling may not have been): if not, it is held again, warm, until shown, and the walk goes
//! on below it if it fails.

use super::ceiling;
use super::judge::judge;
use super::place;
use super::pool;
use crate::model::capacity::{CapacityReport, StepResult};
use crate::plan::Sla;

/// Most times the answer is held again.
const MAX_RETRIES: usize = 3;
/// Most steps a search holds: a bound on the walk whatever its steps show (a step refused
/// at once, beyond the ceiling, takes no time).
const MAX_STEPS: usize = 64;
/// The share of `resolution` left between the highest level that passed and the bracket's
/// top under which no step is placed: a step squeezed in there tells nothing a resolution
/// can see, and each step placed shrinks that room by a fifth at least (`place::GUARD`), so
/// the walk ends.
const FLOOR_ROOM: f64 = 0.25;

/// Walks `ladder` (levels ascending); whole levels when `integral`; a step is held
/// `max_hold` seconds at most. The limit and the first
/// failure come back in `max_rate`/`first_failing_rate`. `run_step(level, answer)` holds a
/// step (`answer`: held again as the answer, to be shown within); `None` stops the walk
/// (Ctrl-C): the report keeps what was measured.
pub(super) async fn walk<E>(
    ladder: Vec<f64>,
    resolution: f64,
    integral: bool,
    sla: &Sla,
    max_hold: f64,
    mut run_step: impl AsyncFnMut(f64, bool) -> Result<Option<StepResult>, E>,
) -> Result<CapacityReport, E> {
    let mut report = CapacityReport::default();
    let mut step = async |level: f64, answer: bool, report: &mut CapacityReport| {
        let Some(mut step) = run_step(level, answer).await? else {
            report.interrupted = true;
            return Ok(None);
        };
        judge(sla, &mut step);
        report.steps.push(step.clone());
        Ok::<_, E>(Some(step))
    };
    // Each step that held: the level it ran at, and the level it was shown to hold.
    let mut passes: Vec<(f64, f64)> = Vec::new();
    let mut fail: Option<StepResult> = None;
    for level in ladder {
        let Some(s) = step(level, false, &mut report).await? else {
            break;
        };
        if !s.passed {
            fail = Some(s);
            break;
        }
        passes.push((level, s.shown_level()));
    }
    let apart = |low: f64, high: f64| high - low > resolution && (!integral || high - low > 1.0);
    // The highest pass shown below `high`, (its level, the level it was shown to hold), or
    // passes pooled (`pool`: their lowest level, the level they showed together).
    let below = |passes: &[(f64, f64)], steps: &[StepResult], high: f64| {
        let one = passes
            .iter()
            .copied()
            .filter(|p| p.1 < high)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let together = pool::best(steps, high, |s| !unshown(steps, s.level()))
            .filter(|p| one.is_none_or(|one| p.shown_rate > one.1));
        match together {
            Some(p) => (Some((p.rates[0], p.shown_rate)), Some(p)),
            None => (one, None),
        }
    };
    let mut retries = 0;
    while !report.interrupted {
        let high = fail.as_ref().map_or(f64::INFINITY, StepResult::level);
        let (low, _) = below(&passes, &report.steps, high);
        let low_shown = low.map_or(0.0, |l| l.1);
        // The bracket is closed on the levels shown to hold; the next step goes above every
        // level that passed, whatever it was credited with (a pass credited under its level,
        // placed again, passes again: no progress), and under the top a step can be placed
        // at (`place::top`). A bracket with no room left above that floor is closed too.
        let floor = passes
            .iter()
            .map(|p| p.0)
            .filter(|level| *level < high)
            .fold(low_shown, f64::max);
        let top = place::top(&report.steps, high, max_hold);
        let room = top - floor > resolution * FLOOR_ROOM && (!integral || top - floor > 1.0);
        if fail.is_some() && apart(low_shown, top) && room {
            let next = place::next(
                &report.steps,
                (floor, high),
                sla,
                integral,
                max_hold,
                Some(resolution),
            );
            match step(next, false, &mut report).await? {
                Some(s) if s.passed => passes.push((next, s.shown_level())),
                Some(s) if s.level() < high => fail = Some(s),
                Some(_) => {}
                None => break,
            }
            if report.steps.len() >= MAX_STEPS {
                break;
            }
            continue;
        }
        // Closed under the top a queue settles at, above the floor: that top bounds the
        // answer, not the step that failed far above it. A step there is refused at once, and
        // says why (a rate search answered 3.68/s "at 6/s … broke first", 4.67/s the top).
        if fail.is_some() && top > floor && top < high {
            match step(top, false, &mut report).await? {
                Some(s) if s.passed => passes.push((top, s.shown_level())),
                Some(s) => fail = Some(s),
                None => break,
            }
            continue;
        }
        let Some((answer, _)) = low else { break };
        if retries == MAX_RETRIES || !unshown(&report.steps, answer) {
            break;
        }
        retries += 1;
        report.steps.retain(|s| s.level() != answer);
        passes.retain(|p| p.0 != answer);
        match step(answer, true, &mut report).await? {
            Some(s) if s.passed => passes.push((answer, s.shown_level())),
            Some(s) => fail = Some(s),
            None => break,
        }
    }
    let high = fail.as_ref().map_or(f64::INFINITY, StepResult::level);
    let (answer, pooled) = below(&passes, &report.steps, high);
    report.max_rate = answer.map(|p| p.1);
    report.pooled = pooled;
    report.first_failing_rate = fail.as_ref().map(StepResult::level);
    report.limiting_rule = fail.as_ref().and_then(|s| s.failed_rule.clone());
    report.no_limit_up_to_ceiling = fail.is_none() && !report.interrupted;
    Ok(report)
}

/// The step at `level` passed without showing it: on its figures alone (`provisional`), or
/// on a hold shorter than a queue at its load takes to settle under the ceiling the steps
/// measured.
fn unshown(steps: &[StepResult], level: f64) -> bool {
    let ceiling = ceiling::of_steps(steps);
    let Some(step) = steps.iter().find(|s| s.level() == level) else {
        return false;
    };
    step.provisional
        || ceiling::settle(step.offered_runs_per_sec, ceiling.as_ref())
            .is_some_and(|(secs, _)| step.held_secs + 1e-6 < secs)
}
