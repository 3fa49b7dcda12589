//! A step judged against the plan's SLA, rule by rule, from the step's own figures: each
//! run-time rule on its interval (`interval`), the others on their figure.

use super::steady::Shown;
use crate::model::capacity::{thousands_ms, Interval, StepResult, GENERATOR_CPU_LIMIT};
use crate::plan::Sla;

/// A rule as a step is judged on it: its name, limit, observed figure and that figure's
/// interval (run-time rules).
type Rule<'a> = (&'a str, Option<f64>, Option<f64>, Option<Interval>);

/// Judges a step against the plan's SLA, rule by rule, from the step's own figures: a
/// run-time rule on its interval (`interval`), the others on their figure. Sets the step's
/// verdict (a pass only when every rule is shown within its limit; `undecided` when one
/// straddles it) and says what the rules show, and which rule its point figures break (what
/// a queue still growing is failed on at once).
pub fn judge(sla: &Sla, step: &mut StepResult) -> Judged {
    step.generator_saturated = step
        .generator_cpu_percent
        .is_some_and(|c| c > GENERATOR_CPU_LIMIT);
    step.undecided = false;
    if let Some(rule) = failed_outright(sla, step) {
        return over(step, rule, None);
    }
    match read(&rules(sla, step)) {
        Ok(reading) => verdict(step, reading),
        Err((rule, broken)) => over(step, rule, broken),
    }
}

/// The step fails `rule` (shown over it); `broken`: the rule its point figures broke first,
/// if another.
fn over(step: &mut StepResult, rule: String, broken: Option<String>) -> Judged {
    step.passed = false;
    step.failed_rule = Some(rule.clone());
    Judged {
        broken: broken.or(Some(rule.clone())),
        shown: Shown::Over(rule),
        provisional: false,
    }
}

/// What fails the step before any rule is read: a load it could not hold (whatever its
/// window's figures say), no run completed, a server rule broken, arrivals dropped.
fn failed_outright(sla: &Sla, step: &StepResult) -> Option<String> {
    if step.not_sustainable {
        return Some(step.failed_rule.clone().unwrap_or_default());
    }
    if step.completed == 0 {
        return Some("no completed runs in the hold".into());
    }
    if let Some(rule) = step.server_failed.clone() {
        return Some(rule);
    }
    // An open step whose pool was full: sessions piled up faster than the platform served.
    if step.rate.is_some() && step.sessions_dropped > 0 {
        let limit = sla.dropped.map_or(0.0, |p| p.0);
        let share = 100.0 * step.sessions_dropped as f64 / step.sessions_arrived.max(1) as f64;
        if share > limit {
            return Some(format!(
                "arrivals dropped: {} of {} (the pool of max_sessions was full)",
                step.sessions_dropped, step.sessions_arrived
            ));
        }
    }
    None
}

/// The SLA's rules as the step is judged on them. As in a run: a plan that names no error
/// rate gets 0%.
fn rules(sla: &Sla, step: &StepResult) -> [Rule<'static>; 7] {
    let ms = |d: &Option<crate::plan::Dur>| d.map(|d| d.0.as_secs_f64() * 1000.0);
    [
        (
            "agent run avg",
            ms(&sla.agent_run_avg),
            step.mean_ms,
            step.mean_interval,
        ),
        (
            "agent run p95",
            ms(&sla.agent_run_p95),
            step.p95_ms,
            step.p95_interval,
        ),
        (
            "agent run p99",
            ms(&sla.agent_run_p99),
            step.p99_ms,
            step.p99_interval,
        ),
        (
            "error rate",
            Some(sla.error_rate.map_or(0.0, |p| p.0)),
            Some(step.error_rate_percent),
            None,
        ),
        (
            "shed attempts",
            sla.throttled.map(|p| p.0),
            Some(step.throttled_percent),
            None,
        ),
        (
            "target CPU",
            sla.target_cpu.map(|p| p.0),
            step.target_cpu_percent,
            None,
        ),
        (
            "session first turn p95",
            ms(&sla.first_turn_p95),
            step.first_turn_p95_ms,
            step.first_turn_interval,
        ),
    ]
}

/// What the rules show together, none shown over its limit.
struct Reading {
    /// The first rule whose point figure is over its limit.
    broken: Option<String>,
    /// The first rule whose interval straddles its limit (or reaches past it, unbounded).
    unsure: Option<String>,
    /// Every figure under `PROVISIONAL_SHARE` of its limit.
    far_below: bool,
}

/// Reads the rules in order: what they show, or the first one shown over its limit (or with
/// no samples) with the rule the point figures broke before it.
fn read(rules: &[Rule]) -> Result<Reading, (String, Option<String>)> {
    let mut broken = None;
    let mut unsure = None;
    let mut far_below = true;
    for &(name, limit, observed, interval) in rules {
        let Some(limit) = limit else { continue };
        let Some(v) = observed else {
            return Err((format!("{name}: no samples"), None));
        };
        if v > limit && broken.is_none() {
            broken = Some(format!("{name}: {v:.1} > {limit:.1}"));
        }
        let (low, high) = match interval {
            Some(i) => (i.low_ms, i.high_ms),
            None => (v, Some(v)),
        };
        let limit_text = match interval {
            Some(_) => format!("{} ms", thousands_ms(limit)),
            None => format!("{limit:.1}"),
        };
        if low > limit {
            let seen = interval.map_or(format!("{v:.1}"), |i| i.text());
            return Err((format!("{name}: {seen} > {limit_text}"), broken));
        }
        far_below &= v <= PROVISIONAL_SHARE * limit;
        if high.is_none_or(|h| h > limit) && unsure.is_none() {
            let seen = interval.map_or(format!("{v:.1}"), |i| i.text());
            unsure = Some(format!("{name}: {seen}, not shown within {limit_text}"));
        }
    }
    Ok(Reading {
        broken,
        unsure,
        far_below,
    })
}

/// The step's verdict on what its rules show: a pass when every one is shown within, or when
/// its look passed it on its figures (`provisional`) and each is far below its limit; else
/// not shown to hold (`undecided`).
fn verdict(step: &mut StepResult, r: Reading) -> Judged {
    let Reading {
        broken,
        unsure,
        far_below: provisional,
    } = r;
    match unsure {
        Some(_) if provisional && step.provisional => {
            step.passed = true;
            step.failed_rule = None;
            Judged {
                shown: Shown::Unsure(unsure.unwrap_or_default()),
                broken,
                provisional,
            }
        }
        Some(rule) => {
            step.passed = false;
            step.undecided = true;
            step.failed_rule = Some(rule.clone());
            Judged {
                shown: Shown::Unsure(rule),
                broken,
                provisional,
            }
        }
        None => {
            step.passed = true;
            step.failed_rule = None;
            Judged {
                shown: Shown::Within,
                broken,
                provisional: false,
            }
        }
    }
}

/// What `judge` found: what the rules' intervals show, the rule the point figures break,
/// and whether every rule's figure is under `PROVISIONAL_SHARE` of its limit (the step may
/// pass on its figures, provisionally, before its runs show it or it was held long).
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub shown: Shown,
    pub broken: Option<String>,
    pub provisional: bool,
}

/// A step whose figures lie under this share of their limits, its runs too few yet to bound
/// them, is no candidate for the answer: it passes on its figures (`provisional`) and is
/// held until shown within only if it becomes the answer. (Half: at a P95 of half the limit
/// a queue is far from the knee; the first-turn P95 of a few dozen sessions, 310 ms against
/// 2 s, needs 59 sessions to be bounded at all: two minutes at 0.5 sessions/s.)
const PROVISIONAL_SHARE: f64 = 0.5;
