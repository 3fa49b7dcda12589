//! The answer's margin, for people: the run-time P95 of the step the answer stands on, with
//! the interval its verdict was read on and the limit ("run-time P95 880 ms, 90% interval
//! 820–950 ms, limit 1,000 ms"), the load its hold carried when that was less than it
//! asked, and how the first step above was not shown to hold.

use super::interval::CONFIDENCE;
use crate::model::capacity::{round3, thousands_ms, CapacityReport, StepResult, MIXTURE_SIGMAS};

/// The step the answer stands on: a pass whose shown level is the answer, or, when it is
/// passes' together (`pooled`), the one of them whose P95 reached highest.
pub fn answer_step(r: &CapacityReport) -> Option<&StepResult> {
    if let Some(pool) = &r.pooled {
        let top = |s: &StepResult| s.p95_interval.and_then(|i| i.high_ms).or(s.p95_ms);
        return r
            .steps
            .iter()
            .filter(|s| s.passed && pool.rates.iter().any(|r| (s.level() - r).abs() < 1e-9))
            .max_by(|a, b| top(a).unwrap_or(0.0).total_cmp(&top(b).unwrap_or(0.0)));
    }
    let answer = match r.max_rate {
        Some(rate) => rate,
        None => r.max_users? as f64,
    };
    r.steps
        .iter()
        .filter(|s| s.passed)
        .find(|s| (s.shown_level() - answer).abs() < 1e-9)
}

/// The level as people read it: `4.25/s`, `56 users`.
fn level_text(level: f64, rate: bool) -> String {
    match rate {
        true => format!("{}/s", round3(level)),
        false => format!("{} users", level.round()),
    }
}

/// ` Run-time P95 at 4.25/s: 880 ms, 90% interval 820–950 ms, limit 1,000 ms (its hold
/// carried 4.12/s of the 4.25/s asked).` Empty without an answer step or an interval.
pub fn sentence(r: &CapacityReport) -> String {
    let (Some(step), Some(limit)) = (answer_step(r), r.run_p95_limit_ms) else {
        return String::new();
    };
    let Some(i) = step.p95_interval else {
        return String::new();
    };
    let rate = step.rate.is_some();
    if let Some(pool) = &r.pooled {
        return format!(
            " It stands on {} holds at {}–{} together, each shown within the SLA: {:.0} s in \
             all, carrying {} of the {} they asked (less {:.1}% for the sessions' slow \
             swing); the highest run-time P95 of them, at {}: {} ms, {:.0}% interval {}, \
             limit {} ms.",
            pool.rates.len(),
            level_text(pool.rates[0], rate),
            level_text(pool.rates[pool.rates.len() - 1], rate),
            pool.held_secs,
            level_text(pool.carried_rate, rate),
            level_text(pool.asked_rate, rate),
            MIXTURE_SIGMAS * pool.slow_sd * 100.0,
            level_text(step.level(), rate),
            thousands_ms(i.point_ms),
            CONFIDENCE * 100.0,
            i.text(),
            thousands_ms(limit)
        );
    }
    let mut text = format!(
        " Run-time P95 at {}: {} ms, {:.0}% interval {}, limit {} ms",
        level_text(step.shown_level(), rate),
        thousands_ms(i.point_ms),
        CONFIDENCE * 100.0,
        i.text(),
        thousands_ms(limit)
    );
    if step.shown_level() < step.level() - 1e-9 {
        // What the hold carried, and what was taken off it (the level it stands for).
        let carried = step.carried_rate.unwrap_or(step.shown_level());
        let less = match carried > step.shown_level() + 1e-9 {
            true => format!(
                ", less {:.1}% for the sessions' slow swing",
                MIXTURE_SIGMAS * step.slow_sd() * 100.0
            ),
            false => String::new(),
        };
        text.push_str(&format!(
            " (the {} step's hold carried {}{less})",
            level_text(step.level(), rate),
            level_text(carried, rate)
        ));
    }
    text.push('.');
    text
}

/// How the first step not shown to hold is said after "at <level>": `agent run p95: … broke
/// first`, or, when its interval straddled the limit, that it was not shown to hold.
pub fn broke(step: Option<&StepResult>, rule: &str) -> String {
    match step {
        Some(s) if s.undecided => format!("it was not shown to hold ({rule})"),
        _ => format!("{rule} broke first"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::capacity::Interval;

    #[test]
    fn the_answer_states_its_p95_interval_against_the_limit() {
        let step = StepResult {
            rate: Some(4.25),
            carried_rate: Some(4.12),
            passed: true,
            p95_interval: Some(Interval {
                point_ms: 880.0,
                low_ms: 820.0,
                high_ms: Some(950.0),
                effective_runs: 300.0,
            }),
            ..Default::default()
        };
        let report = CapacityReport {
            max_rate: Some(4.12),
            run_p95_limit_ms: Some(1000.0),
            steps: vec![step],
            ..Default::default()
        };
        assert_eq!(
            sentence(&report),
            " Run-time P95 at 4.12/s: 880 ms, 90% interval 820–950 ms, limit 1,000 ms (the \
             4.25/s step's hold carried 4.12/s)."
        );
        // A hold's slow swing taken off: the sentence gives what it carried, and what was
        // taken off (never the level it stands for as what it carried).
        let mut swung = report.clone();
        swung.steps[0].carried_rate = Some(1.57);
        swung.steps[0].rate = Some(1.856);
        swung.steps[0].steadiness = Some(crate::model::hold::Steadiness {
            slow_sd: Some(0.1),
            ..Default::default()
        });
        swung.max_rate = Some(swung.steps[0].shown_level());
        assert!(
            sentence(&swung).ends_with(
                "Run-time P95 at 1.46/s: 880 ms, 90% interval 820–950 ms, limit 1,000 ms (the \
                 1.856/s step's hold carried 1.57/s, less 7.0% for the sessions' slow swing)."
            ),
            "{}",
            sentence(&swung)
        );
        // Passes pooled: the sentence names them, and the highest P95 among them.
        let pooled = CapacityReport {
            max_rate: Some(4.05),
            pooled: Some(crate::model::capacity::Pooled {
                rates: vec![4.0, 4.25],
                held_secs: 120.0,
                carried_rate: 4.2,
                asked_rate: 4.125,
                slow_sd: 0.05,
                shown_rate: 4.05,
            }),
            steps: vec![
                StepResult {
                    rate: Some(4.0),
                    passed: true,
                    p95_interval: Some(Interval {
                        point_ms: 700.0,
                        low_ms: 650.0,
                        high_ms: Some(760.0),
                        effective_runs: 300.0,
                    }),
                    ..Default::default()
                },
                report.steps[0].clone(),
            ],
            ..report
        };
        assert_eq!(answer_step(&pooled).and_then(|s| s.rate), Some(4.25));
        assert_eq!(
            sentence(&pooled),
            " It stands on 2 holds at 4/s–4.25/s together, each shown within the SLA: 120 s \
             in all, carrying 4.2/s of the 4.125/s they asked (less 3.5% for the sessions' \
             slow swing); the highest run-time P95 of them, at 4.25/s: 880 ms, 90% interval \
             820–950 ms, limit 1,000 ms."
        );
        let undecided = StepResult {
            users: 56,
            undecided: true,
            ..Default::default()
        };
        assert_eq!(
            broke(
                Some(&undecided),
                "agent run p95: 1.9–2.4 s, not shown within 2,000 ms"
            ),
            "it was not shown to hold (agent run p95: 1.9–2.4 s, not shown within 2,000 ms)"
        );
    }
}
