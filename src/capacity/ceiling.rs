//! What the deployment completes at most, as the search measured it, and what follows from it:
//! pure judgments on the steps held so far, unit-tested without a load.
//!
//! Every step held says the deployment completes at least what that step completed. A step
//! whose median run took `SATURATED_FACTOR` times the fastest step's was busy throughout: its
//! runs queued for a slot, or slowed together on a backend that batches (an LLM server), so
//! it completed what the deployment completes at most — unless overload made it complete
//! less: retries, preemption, swapping, or a generator short of CPU. On two cores, a step at
//! 150% of the ceiling once completed 94 runs/s where a lighter step had completed 175 and
//! the deployment completes ~208; taken as the ceiling, it refused every rate above 17/s
//! and the search answered 15.6/s where the truth was 34.5/s.
//!
//! A backend that batches slows every run past its batch, but doubles its median only near
//! twice it: between the two its throughput is already at its most. So a step is saturated
//! too when its throughput flattened: it completed less than its rate offered, beyond what a
//! steady hold's count varies by (`steady`).
//!
//! So the ceiling is the most *any* step completed: an overloaded step that completed less
//! never lowers it, a step that completes more raises it before the next step is decided. It
//! is *measured* when a saturated step completed it (within `CEILING_MARGIN`); then, and
//! only then, it bounds the search: a rate offering more is not run (`beyond`), a step near it
//! is held until a queue could settle (`settle`), and the answer's utilization is stated
//! against it. Otherwise it is a floor: the deployment completes at least that. A step found
//! saturated stays so (`StepResult::saturated`), so a rate refused on a measured ceiling
//! never stands beside a conclusion that no step saturated.

use crate::model::capacity::{round3, CapacityReport, StepResult};

/// A step's median run this many times the fastest step's: its runs waited for the platform
/// or slowed together (a queue of slots doubles the median near saturation; a backend that
/// batches doubles it at twice its batch).
pub const SATURATED_FACTOR: f64 = 2.0;

/// The measured ceiling's own noise: a step may offer this much more and still be tried.
const CEILING_MARGIN: f64 = 0.02;

/// Relaxation times a near-saturated hold must span.
const SETTLE_TIMES: f64 = 2.0;

/// A rate step that completed less than its rate offered by this share at least, and by
/// more than three standard deviations of a steady hold's count (`steady`: its sessions open
/// are a Poisson count; 20 s at 4 sessions/s of 34 s varies by ±10%), has flattened.
pub const FLATTENED_SHARE: f64 = 0.15;

/// A step past the knee completing this much less than the most any step completed: throughput
/// falls under overload. (A window's count of a few thousand runs varies by 2–3%, a step's
/// generator by a few more: a smaller fall says nothing.)
const FALLS_SHARE: f64 = 0.10;

/// What one held step says about the ceiling.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub p50_ms: Option<f64>,
    /// Runs completed per second over its hold.
    pub per_sec: f64,
    pub level: f64,
    /// Its level as people read it (`6/s`, `40 users`).
    pub text: String,
    /// Found saturated when it was held, or its throughput flattened (`Steadiness`).
    pub saturated: bool,
}

impl Held {
    /// A step that was held (`None`: skipped, or no window).
    pub fn of(step: &StepResult) -> Option<Held> {
        (!step.skipped && step.window_secs > 0.0).then(|| {
            let per_sec = step.completed as f64 / step.window_secs;
            let flattened = step.steadiness.as_ref().is_some_and(|s| s.flattened);
            Held {
                p50_ms: step.p50_ms,
                per_sec,
                level: step.level(),
                text: step.level_text(),
                saturated: step.saturated || flattened,
            }
        })
    }
}

/// The most runs per second any step completed, where, and whether that step was saturated
/// (`measured`: the figure is the deployment's ceiling, not only a floor under it).
#[derive(Debug, Clone, PartialEq)]
pub struct Ceiling {
    pub per_sec: f64,
    pub at: String,
    pub measured: bool,
}

/// Whether `step` was saturated among `steps`: found so, its throughput flattened, or its
/// median run `SATURATED_FACTOR` times the fastest step's.
pub fn saturated(step: &Held, steps: &[Held]) -> bool {
    let fastest = steps
        .iter()
        .filter_map(|s| s.p50_ms)
        .fold(f64::INFINITY, f64::min);
    step.saturated || step.p50_ms.is_some_and(|p| p >= SATURATED_FACTOR * fastest)
}

/// The ceiling of `steps` (in any order); `None` when none was held. Measured when a
/// saturated step completed the most, within the ceiling's own noise.
pub fn ceiling(steps: &[Held]) -> Option<Ceiling> {
    let best = steps
        .iter()
        .max_by(|a, b| a.per_sec.total_cmp(&b.per_sec))?;
    let measured = steps
        .iter()
        .any(|s| s.per_sec >= best.per_sec * (1.0 - CEILING_MARGIN) && saturated(s, steps));
    Some(Ceiling {
        per_sec: best.per_sec,
        at: best.text.clone(),
        measured,
    })
}

/// The ceiling of the steps of a report (skipped ones left out).
pub fn of_steps(steps: &[StepResult]) -> Option<Ceiling> {
    ceiling(&steps.iter().filter_map(Held::of).collect::<Vec<_>>())
}

/// A rate step offering `offered` runs/s cannot pass when the deployment, saturated, never
/// completed that many (with a margin for the ceiling's own noise): why, or `None`.
pub fn beyond(offered: f64, ceiling: Option<&Ceiling>) -> Option<String> {
    let c = ceiling.filter(|c| c.measured)?;
    (offered > c.per_sec * (1.0 + CEILING_MARGIN)).then(|| {
        format!(
            "offers {offered:.1} runs/s, more than the {:.1} runs/s the deployment completed at \
             most (at {}, saturated)",
            c.per_sec, c.at
        )
    })
}

/// A rate step offering `offered` runs/s cannot pass when a queue at that load under the
/// measured ceiling takes longer to settle than a step may be held (`max_hold`): why, or
/// `None`. (Its hold would end not settled, so not shown to hold, whatever it read.)
pub fn unsettled(offered: f64, ceiling: Option<&Ceiling>, max_hold: f64) -> Option<String> {
    let (secs, why) = settle(Some(offered), ceiling)?;
    (secs > max_hold).then(|| {
        format!(
            "{why}, a queue takes ~{secs:.0} s to settle: more than the {max_hold:.0} s a step \
             may be held"
        )
    })
}

/// The highest offered load (runs/s) whose queue settles within `max_hold` under a measured
/// ceiling of `most` runs/s: `settle_secs` solved for the load.
pub fn settles_within(most: f64, max_hold: f64) -> f64 {
    let most = most * (1.0 + CEILING_MARGIN);
    let root = 1.0 - (SETTLE_TIMES / (most * max_hold.max(1e-9))).sqrt();
    most * root.max(0.0).powi(2)
}

/// How long a step offering `offered` runs/s must be held before its hold can say anything,
/// given the deployment's ceiling `most`: a queue near saturation settles slowly, in about
/// 1 / (μ (1 − √ρ)²) (ρ = offered / μ; a single queue of the ceiling's rate, which a deployment
/// of several slots settles no slower than), and `SETTLE_TIMES` of that.
/// At 92% of a 25.8 runs/s ceiling: 47 s; at 95%: 121 s; at 98%: 767 s.
pub fn settle_secs(offered: f64, most: f64) -> f64 {
    let rho = (offered / most.max(1e-9)).clamp(0.0, 0.999_9);
    SETTLE_TIMES / (most.max(1e-9) * (1.0 - rho.sqrt()).powi(2))
}

/// How long a step offering `offered` runs/s must be held under a measured `ceiling`, and why
/// (`None` when either is unknown, or the ceiling is only a floor). The ceiling is read with
/// its noise's margin (a short window of a saturated step may read a little under it).
pub fn settle(offered: Option<f64>, ceiling: Option<&Ceiling>) -> Option<(f64, String)> {
    let (offered, c) = offered.zip(ceiling.filter(|c| c.measured))?;
    let share = 100.0 * offered / c.per_sec;
    let why = format!(
        "at {share:.0}% of the {:.1} runs/s it completed at most",
        c.per_sec
    );
    Some((
        settle_secs(offered, c.per_sec * (1.0 + CEILING_MARGIN)),
        why,
    ))
}

/// Throughput that falls past the knee: the step that completed the most, and the heaviest
/// step above it that completed `FALLS_SHARE` less (`None`: none did).
pub fn falls(steps: &[Held]) -> Option<(Held, Held)> {
    let best = steps
        .iter()
        .max_by(|a, b| a.per_sec.total_cmp(&b.per_sec))?;
    let fallen = steps
        .iter()
        .filter(|s| s.level > best.level && s.per_sec < best.per_sec * (1.0 - FALLS_SHARE))
        .max_by(|a, b| a.level.total_cmp(&b.level))?;
    Some((best.clone(), fallen.clone()))
}

/// The report's ceiling, whether it was measured, a fall past the knee, and the answer's
/// load as a share of a measured ceiling: the offered runs/s at the answer's rate (open), or
/// the runs/s the answer's users completed (closed).
pub fn conclude(report: &mut CapacityReport) {
    let held: Vec<Held> = report.steps.iter().filter_map(Held::of).collect();
    let Some(c) = ceiling(&held) else { return };
    report.max_throughput = Some(c.per_sec);
    report.max_throughput_at = Some(c.at.clone());
    report.max_throughput_measured = c.measured;
    // A rate refused on a measured ceiling saw a saturated step.
    report.saturated_any =
        held.iter().any(|h| saturated(h, &held)) || report.steps.iter().any(|s| s.skipped);
    if let Some((_, fallen)) = falls(&held) {
        report.throughput_fallen = Some(fallen.per_sec);
        report.throughput_fallen_at = Some(fallen.text);
    }
    // Like with like: what the answer's step completed, against the most any completed (so
    // never over 100%), not what its rate offered.
    let load = super::margin::answer_step(report)
        .and_then(Held::of)
        .map(|h| h.per_sec);
    report.utilization_percent = load
        .filter(|_| c.measured && c.per_sec > 0.0)
        .map(|load| (100.0 * load / c.per_sec).min(100.0));
}

/// What the steps say of the deployment's throughput, for the conclusion: the answer's
/// utilization of a measured ceiling, or that the most completed is only a floor; and a fall
/// past the knee. Empty when no step was held; else begins with a space.
pub fn sentence(r: &CapacityReport) -> String {
    let Some(most) = r.max_throughput else {
        return String::new();
    };
    let at = r.max_throughput_at.as_deref().unwrap_or("-");
    let mut text = match (r.utilization_percent, r.max_rate, r.max_users) {
        (Some(share), Some(rate), _) => format!(
            " At {}/s it completed {:.1} runs/s: {share:.0}% of the {most:.1} runs/s it \
             completed at most (at {at}, saturated), in steady state.",
            round3(rate),
            most * share / 100.0
        ),
        (Some(share), None, Some(users)) => format!(
            " At {users} users it completed {:.1} runs/s: {share:.0}% of the {most:.1} runs/s it \
             completed at most (at {at}, saturated), in steady state.",
            most * share / 100.0
        ),
        _ if r.max_throughput_measured => String::new(),
        _ if !r.saturated_any => format!(
            " No step saturated: the deployment completes at least {most:.1} runs/s (the most \
             a step completed, at {at})."
        ),
        _ => format!(
            " The most a step completed, {most:.1} runs/s (at {at}), was not saturated: the \
             deployment completes at least that."
        ),
    };
    if let (Some(fallen), Some(fallen_at)) = (r.throughput_fallen, &r.throughput_fallen_at) {
        text.push_str(&format!(
            " Completed {most:.1} runs/s at {at}, {fallen:.1} at {fallen_at}: throughput falls \
             under overload."
        ));
    }
    text
}

#[cfg(test)]
mod tests;
