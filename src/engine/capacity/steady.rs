//! Whether a capacity step's hold was steady, and what the search does about it: pure
//! judgments on the hold's figures (`model::hold`), unit-tested without a load.
//!
//! A hold is steady when nothing that a queue or a filling system moves has moved across it:
//! runs in flight and sessions open (the means of the hold's halves), run-time and first-turn
//! P95 (each half's histogram), runs ended against runs begun, and (open model) runs begun
//! against what the step's rate offers. Thresholds sit above the noise of a steady system
//! (Poisson counts, percentiles of a few hundred runs) and well below what a transient
//! moves: the example this was built on began 20.7 runs/s of the 32.7 its rate offered.

use crate::model::capacity::StepResult;
use crate::model::hold::{HoldFigures, Steadiness};

/// Runs in flight moved when the halves' means differ by more than this share of their mean
/// (and `MIN_IN_FLIGHT` runs).
const IN_FLIGHT_SHARE: f64 = 0.25;
const MIN_IN_FLIGHT: f64 = 2.0;
/// Sessions open moved when the halves differ by more than this share, and three standard
/// deviations of the difference in a steady system.
const SESSIONS_SHARE: f64 = 0.10;
/// A P95 moved when the halves differ by more than this share of the lower, and this share
/// of the SLA's limit (run times below a tenth of the limit are not a queue the SLA sees).
const P95_SHARE: f64 = 0.25;
const P95_LIMIT_SHARE: f64 = 0.10;
/// Runs begun fall short of (or pass) what the rate offers by more than this share, or three
/// standard deviations of the count of a steady system, whichever is more.
const OFFERED_SHARE: f64 = 0.10;
/// Runs ended fall short of (or pass: a queue draining) runs begun by more than this share (or
/// three standard deviations).
const ENDED_SHARE: f64 = 0.05;

/// What the hold is judged against.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Runs per second the step's rate offers (open model: the rate × the mean turns).
    pub offered_runs_per_sec: Option<f64>,
    /// The step's sessions per second (open), and the turns' second moment over the squared
    /// mean (how much a session's runs vary): the noise of the runs begun.
    pub rate: Option<f64>,
    pub turns_dispersion: f64,
    /// A session's mean length, seconds (how long sessions open stay correlated).
    pub session_secs: Option<f64>,
    /// The SLA's limits: run-time P95 and first-turn P95, ms.
    pub run_p95_limit_ms: Option<f64>,
    pub first_turn_p95_limit_ms: Option<f64>,
}

/// Judges the hold: steady, or what moved (with the figures).
pub fn steadiness(hold: &HoldFigures, expect: &Expect) -> Steadiness {
    let mut moved = Vec::new();
    let mut worsening = false;
    let secs = hold.secs.max(1e-9);
    let sessions_open = hold.halves_mean(|s| s.sessions_open);
    let sessions = (sessions_open[0] + sessions_open[1]) / 2.0;
    // Sessions open are a Poisson count of mean `mean`, correlated over a session's length
    // W: halves W apart differ the most; closer ones share most sessions, longer ones average
    // several independent looks. The difference's variance is 2·mean·min(k, 1/k), k = T/2W.
    let k = expect
        .session_secs
        .map_or(1.0, |w| secs / 2.0 / w.max(1e-3));
    let sessions_var = 2.0 * sessions * k.min(1.0 / k);
    let in_flight = hold.halves_mean(|s| s.in_flight);
    let [a, b] = in_flight;
    let beyond_noise = in_flight_moved(hold, in_flight, sessions_open, expect.rate.is_some());
    if beyond_noise > 0.0 && (b - a).abs() > (IN_FLIGHT_SHARE * (a + b) / 2.0).max(MIN_IN_FLIGHT) {
        moved.push(format!("runs in flight {a:.0} → {b:.0}"));
        worsening |= b > a;
    }
    let [a, b] = sessions_open;
    let noise = 3.0 * sessions_var.sqrt();
    if sessions > 0.0 && (b - a).abs() > (SESSIONS_SHARE * sessions).max(noise).max(2.0) {
        moved.push(format!("sessions open {a:.0} → {b:.0}"));
        worsening |= b > a;
    }
    let run_p95_ms = HoldFigures::p95_halves(&hold.run_halves);
    if let Some(text) = p95_moved("run-time P95", run_p95_ms, expect.run_p95_limit_ms) {
        moved.push(text);
        worsening |= run_p95_ms[1] > run_p95_ms[0];
    }
    let first_turn_p95_ms = HoldFigures::p95_halves(&hold.first_turn_halves);
    let first = p95_moved(
        "first-turn P95",
        first_turn_p95_ms,
        expect.first_turn_p95_limit_ms,
    );
    if let Some(text) = first {
        moved.push(text);
        worsening |= first_turn_p95_ms[1] > first_turn_p95_ms[0];
    }
    let (begun, ended) = hold.runs();
    let (begun_rate, ended_rate) = (begun as f64 / secs, ended as f64 / secs);
    let short = (begun as f64 - ended as f64) / (begun as f64).max(1.0);
    let tolerance = ENDED_SHARE.max(3.0 / (begun as f64).max(1.0).sqrt());
    if begun > 0 && short > tolerance {
        moved.push(format!(
            "runs ended {ended_rate:.1}/s of {begun_rate:.1}/s begun"
        ));
        worsening = true;
    } else if begun > 0 && -short > tolerance {
        // More ended than began: a queue left by an earlier, heavier load still draining.
        moved.push(format!(
            "runs ended {ended_rate:.1}/s, more than the {begun_rate:.1}/s begun (a queue \
             draining)"
        ));
    }
    if let (Some(offered), Some(rate)) = (expect.offered_runs_per_sec, expect.rate) {
        // Runs begun in a steady hold vary as a compound Poisson count: sessions × turns.
        let sessions = (rate * secs).max(1.0);
        let relative = (expect.turns_dispersion.max(1.0) / sessions).sqrt();
        let tolerance = OFFERED_SHARE.max(3.0 * relative);
        let off = begun_rate / offered.max(1e-9) - 1.0;
        if off.abs() > tolerance {
            moved.push(format!(
                "runs began {begun_rate:.1}/s of the {offered:.1}/s the rate offers"
            ));
            worsening |= off < 0.0;
        }
    }
    Steadiness {
        steady: moved.is_empty(),
        moved,
        worsening,
        in_flight,
        sessions_open,
        run_p95_ms,
        first_turn_p95_ms,
        runs_begun_per_sec: begun_rate,
        runs_ended_per_sec: ended_rate,
        offered_runs_per_sec: expect.offered_runs_per_sec,
    }
}

/// How far the halves' mean runs in flight moved beyond what a steady hold swings: the
/// difference less the part the sessions open explain (open model: the share of sessions in
/// a run, times how far the sessions open moved, which their own check judges), and three
/// standard deviations of a steady count. Each look is a Poisson count of mean `m`; looks
/// closer than a run's length (Little: m / runs ended per second) see the same runs, so a
/// half holds `half / max(spacing, run)` independent ones. The search that refused 3.75/s
/// on "runs in flight 9 → 6" took such a swing for a queue with a fixed floor of 2.
fn in_flight_moved(hold: &HoldFigures, halves: [f64; 2], sessions: [f64; 2], open: bool) -> f64 {
    let m = (halves[0] + halves[1]) / 2.0;
    let s = (sessions[0] + sessions[1]) / 2.0;
    let explained = if open && s > 0.0 {
        (m / s).min(1.0) * (sessions[1] - sessions[0])
    } else {
        0.0
    };
    let secs = hold.secs.max(1e-9);
    let (_, ended) = hold.runs();
    let run_secs = m / (ended as f64 / secs).max(1e-9);
    let spacing = secs / (hold.samples.len() as f64).max(1.0);
    let per_half = (secs / 2.0 / spacing.max(run_secs)).max(1.0);
    let noise = 3.0 * (2.0 * m / per_half).sqrt();
    ((halves[1] - halves[0]) - explained).abs() - noise
}

/// `what P95 a → b ms` when the halves' P95s differ by more than noise.
fn p95_moved(what: &str, halves: [Option<f64>; 2], limit_ms: Option<f64>) -> Option<String> {
    let [Some(a), Some(b)] = halves else {
        return None;
    };
    let floor = limit_ms.map_or(0.0, |l| P95_LIMIT_SHARE * l);
    ((b - a).abs() > (P95_SHARE * a.min(b)).max(floor))
        .then(|| format!("{what} {a:.0} → {b:.0} ms"))
}

/// What the search does with a hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Steady: the SLA decides the step.
    Judge,
    /// Not judged yet (why): hold longer and look again.
    Extend(String),
    /// The step's load cannot be held: it fails, saying why.
    NotSustainable(String),
}

/// Decides on a hold judged after `held` seconds of the step (its ramp excluded), when one
/// more look would come `next` seconds later and the step may be held `max_hold` in all.
/// `sla_broken` names the SLA rule the window breaks, if any, and `near` says a run-time
/// figure is within `NEAR_LIMIT` of its limit (a window's percentile is noisy: held longer,
/// the figure is surer); `settle` is how long the step must be held before a steady look
/// counts (`settle_secs`, with why), if it must.
pub fn decide(
    steadiness: &Steadiness,
    sla_broken: Option<&str>,
    near: bool,
    held: f64,
    next: f64,
    max_hold: f64,
    settle: Option<(f64, &str)>,
) -> Decision {
    let room = held + next <= max_hold + 1e-9;
    if steadiness.steady {
        return match settle {
            // Over the SLA already: no longer hold makes a queue near saturation shorter.
            Some((secs, why)) if held + 1e-6 < secs && sla_broken.is_none() => match room {
                true => Decision::Extend(format!("{why}, a queue takes ~{secs:.0} s to settle")),
                false => Decision::NotSustainable(format!(
                    "{why}, a queue takes ~{secs:.0} s to settle: more than the {max_hold:.0} s \
                     a step may be held"
                )),
            },
            _ if near && room => Decision::Extend("steady, and near the SLA's limit".into()),
            _ => Decision::Judge,
        };
    }
    let moved = steadiness.moved.join(", ");
    // A queue still growing that already breaks the SLA only gets worse at this level.
    if let (true, false, Some(rule)) = (steadiness.worsening, near, sla_broken) {
        return Decision::NotSustainable(format!("{moved} over the hold, and {rule}"));
    }
    if room {
        return Decision::Extend(format!("not steady ({moved})"));
    }
    Decision::NotSustainable(format!(
        "not steady after {held:.0} s held: {moved} over the last hold"
    ))
}

/// A run-time figure of the step (run time avg, P95, P99, first-turn P95) within this share
/// of its SLA limit, either side.
const NEAR_LIMIT: f64 = 0.15;

/// Whether one of the step's run-time figures is within `NEAR_LIMIT` of the SLA's limit.
pub fn near_limit(sla: &crate::plan::Sla, step: &StepResult) -> bool {
    let ms = |d: Option<crate::plan::Dur>| d.map(|d| d.0.as_secs_f64() * 1000.0);
    [
        (ms(sla.agent_run_avg), step.mean_ms),
        (ms(sla.agent_run_p95), step.p95_ms),
        (ms(sla.agent_run_p99), step.p99_ms),
        (ms(sla.first_turn_p95), step.first_turn_p95_ms),
    ]
    .into_iter()
    .any(|(limit, seen)| match (limit, seen) {
        (Some(limit), Some(seen)) => (seen / limit - 1.0).abs() <= NEAR_LIMIT,
        _ => false,
    })
}

#[cfg(test)]
mod tests;
