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
    let mut rows = Rows {
        baseline,
        current,
        tolerance_percent,
        figures: Vec::new(),
    };
    rows.rates();
    rows.latencies();
    rows.sessions_and_breakdown();
    rows.events();
    rows.resources_and_capacity();
    Comparison {
        baseline: baseline_name.to_string(),
        tolerance_percent,
        figures: rows.figures,
    }
}

/// The rows of a comparison, as they are added.
struct Rows<'a> {
    baseline: &'a Summary,
    current: &'a Summary,
    tolerance_percent: f64,
    figures: Vec<FigureDelta>,
}

impl Rows<'_> {
    /// One figure of both runs (none when neither has it).
    fn add(
        &mut self,
        figure: String,
        unit: &str,
        worse: Worse,
        pick: &dyn Fn(&Summary) -> Option<f64>,
    ) {
        let (b, c) = (pick(self.baseline), pick(self.current));
        if b.is_some() || c.is_some() {
            let row = delta(figure, unit, worse, b, c, self.tolerance_percent);
            self.figures.push(row);
        }
    }

    /// The names either run has under `keys`, once each, in order.
    fn names(&self, keys: impl Fn(&Summary) -> Vec<String>) -> std::collections::BTreeSet<String> {
        keys(self.baseline)
            .into_iter()
            .chain(keys(self.current))
            .collect()
    }

    /// Throughput, the error rate, and the error rate of each failure kind.
    fn rates(&mut self) {
        self.add(
            "throughput".into(),
            "completed runs/s",
            Worse::Lower,
            &|s| (s.duration_secs > 0.0).then(|| s.runs.completed as f64 / s.duration_secs),
        );
        self.add("error rate".into(), "%", Worse::Higher, &|s| {
            Some(s.error_rate_percent())
        });
        for kind in self.names(|s| s.failures.keys().cloned().collect()) {
            self.add(format!("error rate {kind}"), "%", Worse::Higher, &|s| {
                let n = s.failures.get(&kind).map_or(0, |b| b.count);
                Some(s.share_of_attempts_percent(n))
            });
        }
    }

    /// Each request's P50/P95/P99.
    fn latencies(&mut self) {
        type Pick = fn(&Summary) -> Option<&super::metrics::SerializedLatency>;
        let requests: [(&str, Pick); 4] = [
            ("WS agent_run", |s| s.latency.agent_run.as_ref()),
            ("WS connect", |s| s.latency.connect.as_ref()),
            ("WS first_event", |s| s.latency.time_to_first_event.as_ref()),
            ("run span", |s| s.latency.run_span.as_ref()),
        ];
        for (name, pick) in requests {
            for (q, get) in QUANTILES {
                self.add(format!("{name} {q}"), "ms", Worse::Higher, &|s| {
                    pick(s).map(|l| get(&l.stats))
                });
            }
        }
    }

    /// Sessions' first turn and length, where the time goes (each tool's, agent's and phase's
    /// P95, delivery lag's), and dropped arrivals.
    fn sessions_and_breakdown(&mut self) {
        type SessionPick =
            fn(&super::sessions::SessionsSummary) -> Option<&super::metrics::SerializedLatency>;
        let session_times: [(&str, SessionPick); 2] = [
            ("session first turn", |s| s.first_turn.as_ref()),
            ("session length", |s| s.duration.as_ref()),
        ];
        for (name, pick) in session_times {
            for (q, get) in QUANTILES {
                self.add(format!("{name} {q}"), "ms", Worse::Higher, &|s| {
                    pick(s.sessions.as_ref()?).map(|l| get(&l.stats))
                });
            }
        }
        let breakdown = |s: &Summary| {
            s.breakdown
                .as_ref()
                .map(|b| b.figures())
                .unwrap_or_default()
        };
        for name in self.names(|s| breakdown(s).into_keys().collect()) {
            self.add(name.clone(), "ms", Worse::Higher, &|s| {
                breakdown(s).get(&name).copied()
            });
        }
        self.add("arrivals dropped".into(), "%", Worse::Higher, &|s| {
            let sessions = s.sessions.as_ref()?;
            (sessions.model == "open").then(|| sessions.dropped_percent())
        });
    }

    /// Each event's time from the start message, P50/P95/P99.
    fn events(&mut self) {
        for event in self.names(|s| s.latency.from_start.keys().cloned().collect()) {
            for (q, get) in QUANTILES {
                self.add(
                    format!("{event} from start {q}"),
                    "ms",
                    Worse::Higher,
                    &|s| s.latency.from_start.get(&event).map(|l| get(&l.stats)),
                );
            }
        }
    }

    /// Memory per connection (generator, target, server), server CPU per run, capacity.
    fn resources_and_capacity(&mut self) {
        self.add(
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
        self.add(
            "target memory per connection".into(),
            "bytes",
            Worse::Higher,
            &|s| s.resources.as_ref()?.target.as_ref()?.bytes_per_connection,
        );
        self.add(
            "server memory per connection".into(),
            "bytes",
            Worse::Higher,
            &|s| s.server.as_ref()?.memory_per_connection_bytes,
        );
        self.add(
            "server CPU per run".into(),
            "seconds",
            Worse::Higher,
            &|s| s.server.as_ref()?.cpu_seconds_per_run,
        );
        self.add(
            "capacity".into(),
            "users within the SLA",
            Worse::Lower,
            &|s| s.capacity.as_ref()?.max_users.map(|u| u as f64),
        );
        self.add(
            "capacity (arrival rate)".into(),
            "sessions/s within the SLA",
            Worse::Lower,
            &|s| s.capacity.as_ref()?.max_rate,
        );
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
