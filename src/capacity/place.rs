//! Where the search holds next, between the highest level shown to hold (`low`) and the
//! lowest not shown to (`high`): where the run-time P95, interpolated between what the steps
//! at the bracket's ends measured, crosses the SLA's limit. Pure, unit-tested.
//!
//! A queue's waiting time grows like 1 / (μ − λ) as the load λ nears what the deployment
//! completes at most (μ: the ceiling, once a saturated step measured it). So where the
//! ceiling is measured the P95 is interpolated linearly in 1 / (μ − λ), which bends the line
//! up towards the ceiling as the queue does; otherwise (users, or no ceiling yet) linearly in
//! the level, whose chord over a convex curve lies above it (its crossing is under the true
//! one: the next step tends to pass). Both are monotone. When the end above has no P95 worth
//! interpolating (not sustainable: its queue had no steady state), the line through the
//! lowest step and the bracket's low end is carried on.
//!
//! The step aims where the P95 reaches `AIM` of the limit, not the limit: the two ways to
//! miss do not cost the same. A step under the knee is shown within the SLA in a minute or
//! so; one at or over it is held until its queue settles and its interval narrows, up to
//! `max_hold`, and a short window near the knee reads a P95 under its steady state's (it
//! sees one state of the load's slow swings, not their worst), so the interpolation errs
//! high. Under a measured ceiling the bracket ends where a queue still settles within
//! `max_hold` (`ceiling::settles_within`): above, no step can pass. The level is kept
//! `GUARD` of the bracket from either end, so each step narrows the bracket by at least that
//! much whatever the interpolation says (bisection's guarantee, with what was measured in
//! between).

use super::ceiling;
use crate::model::capacity::StepResult;
use crate::plan::Sla;

/// The next level is at least this share of the bracket from either end.
const GUARD: f64 = 0.2;

/// The share of the limit the next step's P95 is aimed at.
const AIM: f64 = 0.8;

/// The measured ceiling is read with this margin (its own noise): the pole of 1 / (μ − λ)
/// sits just above it.
const CEILING_MARGIN: f64 = 0.02;

/// The next level to hold in `(low, high)` (`integral`: whole users), a step being held
/// `max_hold` seconds at most, the walk ending once the ends are `resolution` apart.
pub fn next(
    steps: &[StepResult],
    (low, high): (f64, f64),
    sla: &Sla,
    integral: bool,
    max_hold: f64,
    resolution: Option<f64>,
) -> f64 {
    let high = top(steps, high, max_hold).max(low);
    let span = high - low;
    // Within two resolutions, one step can close the bracket whatever it shows: it is
    // placed where both outcomes leave the ends a resolution apart at most.
    let (lo, hi) = match resolution {
        Some(r) if span <= 2.0 * r => (
            (high - r).max(low + GUARD * span),
            (low + r).min(high - GUARD * span),
        ),
        _ => (low + GUARD * span, high - GUARD * span),
    };
    let guarded = |x: f64| x.clamp(lo.min(hi), hi.max(lo));
    let mid = guarded(low + span / 2.0);
    let limit = sla.agent_run_p95.map(|d| d.0.as_secs_f64() * 1000.0);
    let x = limit
        .and_then(|limit| crossing(steps, low, high, AIM * limit))
        .map_or(mid, guarded);
    match integral {
        true => x.round().clamp(low + 1.0, (high - 1.0).max(low + 1.0)),
        false => x,
    }
}

/// Where the P95 interpolated between the bracket's ends (or extrapolated from below it)
/// reaches `limit`; `None` when the steps do not say.
fn crossing(steps: &[StepResult], low: f64, high: f64, limit: f64) -> Option<f64> {
    let held: Vec<&StepResult> = steps.iter().filter(|s| !s.skipped).collect();
    let at = |level: f64, passed: bool| {
        held.iter()
            .filter(|s| s.passed == passed)
            .filter(|s| (s.shown_level() - level).abs() < 1e-9 || (s.level() - level).abs() < 1e-9)
            .find_map(|s| s.p95_ms)
    };
    let p_low = at(low, true)?;
    // Already past the aim at the low end: as close to it as the guard lets.
    if p_low >= limit {
        return Some(low);
    }
    let u = transform(steps);
    let p_high = held
        .iter()
        .filter(|s| !s.passed && !s.not_sustainable && (s.level() - high).abs() < 1e-9)
        .find_map(|s| s.p95_ms);
    let (ul, uh) = (u(low)?, u(high));
    let target = match (p_high, uh) {
        (Some(ph), Some(uh)) if ph > limit && limit > p_low => {
            ul + (limit - p_low) / (ph - p_low) * (uh - ul)
        }
        _ => {
            // The lowest step held: the line from it through the low end, carried on.
            let base = held
                .iter()
                .filter(|s| s.passed && s.level() < low - 1e-9)
                .min_by(|a, b| a.level().total_cmp(&b.level()))?;
            let (u0, p0) = (u(base.shown_level())?, base.p95_ms?);
            let slope = (p_low - p0) / (ul - u0);
            if slope.is_nan() || slope <= 0.0 || p_low >= limit {
                return None;
            }
            ul + (limit - p_low) / slope
        }
    };
    inverse(steps, target)
}

/// Runs per second a session brings (rate steps): what a step offers over its rate.
fn turns(steps: &[StepResult]) -> Option<f64> {
    steps
        .iter()
        .find_map(|s| Some(s.offered_runs_per_sec? / s.rate.filter(|r| *r > 0.0)?))
}

/// The ceiling in the steps' own levels (rate steps: sessions per second), when measured.
fn pole(steps: &[StepResult]) -> Option<f64> {
    let c = ceiling::of_steps(steps).filter(|c| c.measured)?;
    Some(c.per_sec * (1.0 + CEILING_MARGIN) / turns(steps)?)
}

/// The bracket's top as a step can be placed in it: `high`, or lower where a queue would
/// not settle within `max_hold` under the ceiling the steps measured (a step there is
/// refused at once). It may be at or under `low`: the pass there was held before the
/// ceiling was known, and is held again before it can be the answer.
pub fn top(steps: &[StepResult], high: f64, max_hold: f64) -> f64 {
    settles(steps, max_hold).map_or(high, |top| high.min(top))
}

/// The highest rate whose queue settles within `max_hold` under a measured ceiling.
fn settles(steps: &[StepResult], max_hold: f64) -> Option<f64> {
    let c = ceiling::of_steps(steps).filter(|c| c.measured)?;
    Some(ceiling::settles_within(c.per_sec, max_hold) / turns(steps)?)
}

/// The level as the P95 is interpolated in: 1 / (pole − level) under a measured ceiling
/// (`None` at or past it), else the level.
fn transform(steps: &[StepResult]) -> impl Fn(f64) -> Option<f64> {
    let pole = pole(steps);
    move |x| match pole {
        Some(c) if x < c => Some(1.0 / (c - x)),
        Some(_) => None,
        None => Some(x),
    }
}

fn inverse(steps: &[StepResult], u: f64) -> Option<f64> {
    match pole(steps) {
        Some(c) => (u > 0.0).then(|| c - 1.0 / u),
        None => Some(u),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sla() -> Sla {
        toml::from_str("agent_run_p95 = \"1s\"").unwrap()
    }

    fn step(rate: f64, p95: f64, passed: bool, p50: f64, completed_per_sec: f64) -> StepResult {
        StepResult {
            rate: Some(rate),
            offered_runs_per_sec: Some(rate * 5.5),
            p95_ms: Some(p95),
            p50_ms: Some(p50),
            completed: (completed_per_sec * 60.0) as u64,
            window_secs: 60.0,
            passed,
            ..Default::default()
        }
    }

    #[test]
    fn between_two_measured_ends_it_interpolates_rather_than_halves() {
        // No ceiling measured: linear in the rate. 300 ms at 3/s, 2,300 ms at 5/s: 80% of
        // the limit at 3.5/s (the limit itself at 3.7/s), not the midpoint 4.
        let steps = [
            step(3.0, 300.0, true, 300.0, 16.0),
            step(5.0, 2300.0, false, 500.0, 26.0),
        ];
        let x = next(&steps, (3.0, 5.0), &sla(), false, 180.0, None);
        assert!((x - 3.5).abs() < 0.01, "{x}");
    }

    #[test]
    fn under_a_measured_ceiling_the_line_bends_towards_it() {
        // The deployment completes 25.9 runs/s at most (8/s saturated: its median 10× the
        // fastest); 4/s read 640 ms, 2/s 330 ms; 8/s has no steady P95. A queue there settles
        // within 180 s up to ~4.56/s: the bracket is 4..4.56. The line in 1 / (μ − λ) from
        // 2/s through 4/s reaches 800 ms at ~4.26/s (1 s at ~4.35/s, where a queue of 8
        // slots of 0.31 s does at 4.3/s); the midpoint would be 4.28, linear extrapolation
        // 4.7.
        let mut over = step(8.0, 8000.0, false, 5000.0, 25.9);
        over.not_sustainable = true;
        let steps = [
            step(0.5, 312.0, true, 311.0, 2.7),
            step(2.0, 330.0, true, 312.0, 11.0),
            step(4.0, 640.0, true, 330.0, 22.0),
            over,
        ];
        let x = next(&steps, (4.0, 8.0), &sla(), false, 180.0, None);
        assert!(x > 4.15 && x < 4.35, "{x}");
    }

    #[test]
    fn the_guard_keeps_each_step_inside_the_bracket() {
        // A crossing right at the low end still moves the bracket by a fifth of it.
        let steps = [
            step(4.0, 990.0, true, 320.0, 22.0),
            step(5.0, 5000.0, false, 500.0, 26.0),
        ];
        assert!((next(&steps, (4.0, 5.0), &sla(), false, 180.0, None) - 4.2).abs() < 1e-9);
        // Nothing to interpolate from: the midpoint; whole users stay whole and inside.
        assert_eq!(next(&[], (10.0, 20.0), &sla(), false, 180.0, None), 15.0);
        assert_eq!(next(&[], (10.0, 12.0), &sla(), true, 180.0, None), 11.0);
        // Within two resolutions: one step closes the bracket, pass or fail.
        let steps = [
            step(3.0, 300.0, true, 300.0, 16.0),
            step(5.0, 2300.0, false, 500.0, 26.0),
        ];
        let x = next(&steps, (3.0, 4.0), &sla(), false, 180.0, Some(0.5));
        assert!((x - 3.5).abs() < 1e-9, "{x}");
    }
}
