//! What moved across a hold, judged against a steady system's noise (the reasoning is in
//! `steady`'s doc): `steadiness`, and what a step is judged against (`Expect`).

use crate::capacity::{ceiling, interval};
use crate::model::hold::{HoldFigures, Steadiness};

/// Runs in flight moved when the halves' means differ by more than this share of their mean
/// (and `MIN_IN_FLIGHT` runs), beyond a steady count's noise.
const IN_FLIGHT_SHARE: f64 = 0.25;
const MIN_IN_FLIGHT: f64 = 2.0;
/// Sessions open moved when the halves differ by more than this share, and three standard
/// deviations of the difference in a steady system.
const SESSIONS_SHARE: f64 = 0.10;
/// A P95 that moved (as its runs show) matters only past this share of the SLA's limit: run
/// times below a tenth of the limit are not a queue the SLA sees.
const P95_LIMIT_SHARE: f64 = 0.10;
/// Standard deviations of a steady system's count that runs begun (against what the rate
/// offers) and runs ended (against runs begun) may differ by.
const COUNT_SIGMAS: f64 = 3.0;

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

impl Expect {
    /// What a step of `plan` at `rate` (sessions per second; users: `None`) is judged
    /// against, its sessions lasting `session` seconds as measured (else the plan's estimate).
    pub fn of(plan: &crate::plan::Plan, rate: Option<f64>, session: Option<f64>) -> Expect {
        let ms = |d: Option<crate::plan::Dur>| d.map(|d| d.0.as_secs_f64() * 1000.0);
        let turns = plan.session.unwrap_or_default().turns;
        Expect {
            offered_runs_per_sec: rate.map(|r| r * turns.mean()),
            rate,
            turns_dispersion: turns.dispersion(),
            session_secs: session.or(plan.session_estimate().map(|d| d.as_secs_f64())),
            run_p95_limit_ms: ms(plan.sla.agent_run_p95),
            first_turn_p95_limit_ms: ms(plan.sla.first_turn_p95),
        }
    }
}

/// Judges the hold (its runs by slice in `runs`): steady, or what moved (with the figures).
pub fn steadiness(hold: &HoldFigures, runs: &interval::HoldRuns, expect: &Expect) -> Steadiness {
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
    let (run_p95_ms, moved_run) = p95_moved("run-time P95", &runs.runs, expect.run_p95_limit_ms);
    if let Some(text) = moved_run {
        moved.push(text);
        worsening |= run_p95_ms[1] > run_p95_ms[0];
    }
    let (first_turn_p95_ms, moved_first) = p95_moved(
        "first-turn P95",
        &runs.first_turns,
        expect.first_turn_p95_limit_ms,
    );
    if let Some(text) = moved_first {
        moved.push(text);
        worsening |= first_turn_p95_ms[1] > first_turn_p95_ms[0];
    }
    let (begun, ended) = hold.runs();
    let (begun_rate, ended_rate) = (begun as f64 / secs, ended as f64 / secs);
    // Begun less ended is how far runs in flight moved over the hold: a steady count's swing
    // (in flight being Poisson-like), or the runs' own count for a hold shorter than a run.
    let in_flight_mean = (in_flight[0] + in_flight[1]) / 2.0;
    let swing = COUNT_SIGMAS * (2.0 * in_flight_mean.max(1.0)).sqrt();
    let short = (begun as f64 - ended as f64) / (begun as f64).max(1.0);
    let tolerance =
        (swing / (begun as f64).max(1.0)).max(COUNT_SIGMAS / (begun as f64).max(1.0).sqrt());
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
    let mut flattened = false;
    let mut offered_sd = None;
    let mut slow_sd = None;
    if let (Some(offered), Some(rate)) = (expect.offered_runs_per_sec, expect.rate) {
        // Runs begun in a steady hold vary as a compound Poisson count of the sessions whose
        // runs fall in it (sessions × turns): those arriving over the hold, or, in a hold
        // shorter than a session, those open (a Poisson count of rate × a session's length).
        let session = expect.session_secs.unwrap_or(0.0);
        let sessions = (rate * secs.max(session)).max(1.0);
        let relative =
            (expect.turns_dispersion.max(1.0) / sessions + 1.0 / (offered * secs).max(1.0)).sqrt();
        let tolerance = COUNT_SIGMAS * relative;
        offered_sd = Some(relative);
        slow_sd = slow_swing(rate, session, secs);
        let off = begun_rate / offered.max(1e-9) - 1.0;
        if off.abs() > tolerance {
            moved.push(format!(
                "runs began {begun_rate:.1}/s of the {offered:.1}/s the rate offers"
            ));
            worsening |= off < 0.0;
        }
        // Completed clearly less than offered, beyond that noise: its throughput flattened.
        flattened = ended_rate < offered * (1.0 - tolerance.max(ceiling::FLATTENED_SHARE));
    }
    Steadiness {
        steady: moved.is_empty(),
        flattened,
        offered_sd,
        slow_sd,
        session_secs: expect.session_secs.filter(|w| *w > 0.0),
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

/// The halves' P95s of `slices`, and `what P95 a → b ms` when their runs show a difference
/// (`interval::halves_differ`) past `P95_LIMIT_SHARE` of the limit.
pub(super) fn p95_moved(
    what: &str,
    slices: &interval::Slices,
    limit_ms: Option<f64>,
) -> ([Option<f64>; 2], Option<String>) {
    let Some((differ, [a, b])) = interval::halves_differ(slices, 0.95) else {
        let halves = slices.split_at(slices.len() / 2);
        return (
            [
                interval::point(halves.0, 0.95),
                interval::point(halves.1, 0.95),
            ],
            None,
        );
    };
    let (a, b) = (a.point_ms, b.point_ms);
    let floor = limit_ms.map_or(0.0, |l| P95_LIMIT_SHARE * l);
    let text = (differ && (b - a).abs() > floor).then(|| format!("{what} {a:.0} → {b:.0} ms"));
    ([Some(a), Some(b)], text)
}

/// The sessions open's slow swing over `secs` of load at `rate` sessions a second, each
/// `session` seconds long (a share of their mean, one standard deviation): they are a
/// Poisson count of rate × a session's length, drifting over a session's length, so a hold
/// shorter than two of them sees one state of that drift, and a longer one averages over
/// `secs / 2·session` of them. `None` when the session's length is not known.
pub fn slow_swing(rate: f64, session: f64, secs: f64) -> Option<f64> {
    (session > 0.0).then(|| {
        let average = (2.0 * session / secs.max(1e-9)).sqrt().min(1.0);
        average / (rate * session).max(1.0).sqrt()
    })
}
