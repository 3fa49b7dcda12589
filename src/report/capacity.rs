//! The capacity search's charts: run time (P50, P95) against the load each step offered, with
//! the SLA's line and each step's verdict marked (steady and held, failed, not sustainable);
//! and throughput against offered load, where the two part is the knee, with the step that
//! completed the most and one past the knee that completed less marked.

use super::charts::{line_chart_with_marks, Series, BLUE, GREEN, ORANGE, PURPLE, RED};
use crate::model::capacity::{CapacityReport, StepResult};
use crate::model::summary::Summary;

const GREY: plotters::style::RGBColor = plotters::style::RGBColor(150, 150, 150);

/// (run time against offered load, throughput against offered load), as SVG.
pub fn charts(s: &Summary) -> (String, String) {
    let Some(cap) = &s.capacity else {
        return (String::new(), String::new());
    };
    let by_rate = cap.max_rate_tried.is_some();
    // A rate step offers runs per second; a user step offers its users.
    let x = |st: &StepResult| match by_rate {
        true => st.offered_runs_per_sec,
        false => Some(st.users as f64),
    };
    let mut steps: Vec<&StepResult> = cap.steps.iter().filter(|st| !st.skipped).collect();
    steps.sort_by(|a, b| x(a).unwrap_or(0.0).total_cmp(&x(b).unwrap_or(0.0)));
    let points = |f: fn(&StepResult) -> Option<f64>, keep: &dyn Fn(&StepResult) -> bool| {
        steps
            .iter()
            .filter(|st| keep(st))
            .filter_map(|st| Some((x(st)?, f(st)?)))
            .collect::<Vec<_>>()
    };
    let all = |_: &StepResult| true;
    let unit = match by_rate {
        true => "runs/s offered",
        false => "users",
    };
    let p95 = points(|st| st.p95_ms, &all);
    let top = p95.iter().map(|p| p.0).fold(0.0, f64::max);
    let sla = cap
        .run_p95_limit_ms
        .map(|limit| vec![(0.0, limit), (top, limit)])
        .unwrap_or_default();
    let line = |name: &str, color, points| Series {
        name: name.into(),
        color,
        points,
    };
    let latency = line_chart_with_marks(
        &format!("Agent run time against {unit} (each step's hold)"),
        unit,
        "ms",
        &[
            line("p50", GREEN, points(|st| st.p50_ms, &all)),
            line("p95", ORANGE, p95),
            line("SLA p95 limit", GREY, sla),
        ],
        &[
            line(
                "held (steady, within the SLA)",
                BLUE,
                points(|st| st.p95_ms, &|st| st.passed),
            ),
            line(
                "failed the SLA (steady)",
                RED,
                points(|st| st.p95_ms, &|st| !st.passed && !st.not_sustainable),
            ),
            line(
                "not sustainable",
                PURPLE,
                points(|st| st.p95_ms, &|st| st.not_sustainable),
            ),
        ],
    );
    let completed = |st: &StepResult| Some(st.completed as f64 / st.window_secs.max(1e-9));
    let diagonal = match by_rate {
        true => vec![(0.0, 0.0), (top, top)],
        false => Vec::new(),
    };
    let throughput = line_chart_with_marks(
        &format!("Runs completed per second against {unit} (where they part: the knee)"),
        unit,
        "runs/s",
        &[
            line("completed", BLUE, points(completed, &all)),
            line("offered", GREY, diagonal),
        ],
        &[
            line(
                "not sustainable",
                PURPLE,
                points(completed, &|st| st.not_sustainable),
            ),
            line(
                &most_text(cap),
                GREEN,
                points(completed, &|st| {
                    cap.max_throughput_at.as_deref() == Some(&st.level_text())
                }),
            ),
            line(
                "completed less under overload",
                RED,
                points(completed, &|st| {
                    cap.throughput_fallen_at.as_deref() == Some(&st.level_text())
                }),
            ),
        ],
    );
    (latency, throughput)
}

/// The legend of the step that completed the most: the deployment's ceiling when it was
/// saturated, else only a floor under it.
fn most_text(cap: &CapacityReport) -> String {
    match cap.max_throughput_measured {
        true => "most completed (saturated: the ceiling)".into(),
        false => "most completed (not saturated)".into(),
    }
}
