//! Run-to-run comparison: every figure that matters in two summaries, side by side, with the
//! change and whether it is a regression past a tolerance. Pure: summaries in, rows out.

use super::summary::Summary;

pub use super::comparison::{Comparison, FigureDelta, Worse};

/// Rates (percent) regress only when they also rise by this many points: 0 % → 0.01 % is
/// noise, not a regression, although it is infinitely many percent.
const RATE_FLOOR_POINTS: f64 = 0.1;

/// Compares `current` with `baseline`: a figure regresses when it moves the worse way by more
/// than `tolerance_percent` of the baseline (rates: and by at least 0.1 point).
pub fn compare(
    baseline: &Summary,
    current: &Summary,
    baseline_name: &str,
    tolerance_percent: f64,
) -> Comparison {
    let mut figures = Vec::new();
    let mut add =
        |figure: String, unit: &str, worse: Worse, pick: &dyn Fn(&Summary) -> Option<f64>| {
            let (b, c) = (pick(baseline), pick(current));
            if b.is_none() && c.is_none() {
                return;
            }
            figures.push(delta(figure, unit, worse, b, c, tolerance_percent));
        };
    add(
        "throughput".into(),
        "completed runs/s",
        Worse::Lower,
        &|s| (s.duration_secs > 0.0).then(|| s.runs.completed as f64 / s.duration_secs),
    );
    add("error rate".into(), "%", Worse::Higher, &|s| {
        Some(s.error_rate_percent())
    });
    let kinds: std::collections::BTreeSet<&String> = baseline
        .failures
        .keys()
        .chain(current.failures.keys())
        .collect();
    for kind in kinds {
        add(format!("error rate {kind}"), "%", Worse::Higher, &|s| {
            let n = s.failures.get(kind).map_or(0, |b| b.count);
            Some(s.share_of_attempts_percent(n))
        });
    }
    type Pick = fn(&Summary) -> Option<&super::metrics::SerializedLatency>;
    let requests: [(&str, Pick); 4] = [
        ("WS agent_run", |s| s.latency.agent_run.as_ref()),
        ("WS connect", |s| s.latency.connect.as_ref()),
        ("WS first_event", |s| s.latency.time_to_first_event.as_ref()),
        ("run span", |s| s.latency.run_span.as_ref()),
    ];
    for (name, pick) in requests {
        for (q, get) in QUANTILES {
            add(format!("{name} {q}"), "ms", Worse::Higher, &|s| {
                pick(s).map(|l| get(&l.stats))
            });
        }
    }
    type SessionPick =
        fn(&super::sessions::SessionsSummary) -> Option<&super::metrics::SerializedLatency>;
    let session_times: [(&str, SessionPick); 2] = [
        ("session first turn", |s| s.first_turn.as_ref()),
        ("session length", |s| s.duration.as_ref()),
    ];
    for (name, pick) in session_times {
        for (q, get) in QUANTILES {
            add(format!("{name} {q}"), "ms", Worse::Higher, &|s| {
                pick(s.sessions.as_ref()?).map(|l| get(&l.stats))
            });
        }
    }
    // Where the time goes: each tool's and agent's P95, the phases', delivery lag.
    let breakdown = |s: &Summary| {
        s.breakdown
            .as_ref()
            .map(|b| b.figures())
            .unwrap_or_default()
    };
    let (before, after) = (breakdown(baseline), breakdown(current));
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for name in names {
        let pick = |s: &Summary| -> Option<f64> {
            let own = if std::ptr::eq(s, baseline) {
                &before
            } else {
                &after
            };
            own.get(name).copied()
        };
        add(name.clone(), "ms", Worse::Higher, &pick);
    }
    add("arrivals dropped".into(), "%", Worse::Higher, &|s| {
        let sessions = s.sessions.as_ref()?;
        (sessions.model == "open").then(|| sessions.dropped_percent())
    });
    let events: std::collections::BTreeSet<&String> = baseline
        .latency
        .from_start
        .keys()
        .chain(current.latency.from_start.keys())
        .collect();
    for event in events {
        for (q, get) in QUANTILES {
            add(
                format!("{event} from start {q}"),
                "ms",
                Worse::Higher,
                &|s| s.latency.from_start.get(event).map(|l| get(&l.stats)),
            );
        }
    }
    add(
        "generator memory per connection".into(),
        "bytes",
        Worse::Higher,
        &|s| {
            s.resources
                .as_ref()?
                .generator
                .as_ref()?
                .bytes_per_connection
        },
    );
    add(
        "target memory per connection".into(),
        "bytes",
        Worse::Higher,
        &|s| s.resources.as_ref()?.target.as_ref()?.bytes_per_connection,
    );
    add(
        "server memory per connection".into(),
        "bytes",
        Worse::Higher,
        &|s| s.server.as_ref()?.memory_per_connection_bytes,
    );
    add(
        "server CPU per run".into(),
        "seconds",
        Worse::Higher,
        &|s| s.server.as_ref()?.cpu_seconds_per_run,
    );
    add(
        "capacity".into(),
        "users within the SLA",
        Worse::Lower,
        &|s| s.capacity.as_ref()?.max_users.map(|u| u as f64),
    );
    add(
        "capacity (arrival rate)".into(),
        "sessions/s within the SLA",
        Worse::Lower,
        &|s| s.capacity.as_ref()?.max_rate,
    );
    Comparison {
        baseline: baseline_name.to_string(),
        tolerance_percent,
        figures,
    }
}

type Quantile = (&'static str, fn(&super::metrics::LatencyStats) -> f64);
const QUANTILES: [Quantile; 3] = [
    ("P50", |l| l.p50_ms),
    ("P95", |l| l.p95_ms),
    ("P99", |l| l.p99_ms),
];

fn delta(
    figure: String,
    unit: &str,
    worse_when: Worse,
    baseline: Option<f64>,
    current: Option<f64>,
    tolerance_percent: f64,
) -> FigureDelta {
    let change_percent = match (baseline, current) {
        (Some(b), Some(c)) if b != 0.0 => Some(100.0 * (c - b) / b),
        _ => None,
    };
    let regressed = match (baseline, current) {
        (Some(b), Some(c)) => {
            let worse_by = match worse_when {
                Worse::Higher => c - b,
                Worse::Lower => b - c,
            };
            let past_tolerance = worse_by > b.abs() * tolerance_percent / 100.0;
            let rate = unit == "%";
            past_tolerance && (!rate || worse_by >= RATE_FLOOR_POINTS) && worse_by > 0.0
        }
        // A capacity or throughput that vanished is a regression; a new figure is not.
        (Some(b), None) => worse_when == Worse::Lower && b > 0.0,
        _ => false,
    };
    FigureDelta {
        figure,
        unit: unit.to_string(),
        baseline,
        current,
        change_percent,
        worse_when,
        regressed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::summary::{FailureBucket, RunCounts};

    fn run(completed: u64, failed: u64, secs: f64) -> Summary {
        let mut s = Summary {
            duration_secs: secs,
            runs: RunCounts {
                started: completed + failed,
                completed,
                failed,
                resumed: 0,
                interrupted: 0,
            },
            ..Summary::default()
        };
        if failed > 0 {
            s.failures.insert(
                "transport.timeout".into(),
                FailureBucket {
                    count: failed,
                    example: "late".into(),
                },
            );
        }
        s
    }

    #[test]
    fn a_run_against_itself_has_no_regression() {
        let s = run(100, 2, 10.0);
        let c = compare(&s, &s, "base", 10.0);
        assert_eq!(c.regressions().count(), 0);
        assert!(c
            .figures
            .iter()
            .any(|f| f.figure == "error rate transport.timeout"));
    }

    #[test]
    fn fewer_runs_and_more_errors_regress_past_the_tolerance_only() {
        let base = run(100, 0, 10.0);
        let slower = run(85, 0, 10.0);
        let c = compare(&base, &slower, "base", 10.0);
        let t = &c.figures[0];
        assert!(t.regressed && (t.change_percent.unwrap() + 15.0).abs() < 1e-9);
        assert_eq!(
            compare(&base, &run(95, 0, 10.0), "b", 10.0)
                .regressions()
                .count(),
            0
        );
        let errors = compare(&base, &run(100, 5, 10.0), "base", 10.0);
        let names: Vec<&str> = errors.regressions().map(|f| f.figure.as_str()).collect();
        assert_eq!(names, ["error rate", "error rate transport.timeout"]);
        // A tiny rise from zero is below the rate floor.
        let mut tiny = run(10_000, 0, 10.0);
        tiny.runs.failed = 1;
        tiny.runs.started += 1;
        assert_eq!(
            compare(&run(10_000, 0, 10.0), &tiny, "b", 10.0)
                .regressions()
                .count(),
            0
        );
    }
}
