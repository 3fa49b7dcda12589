//! A capacity search's output: the steps and the conclusion on the console, and the report
//! folder (`capacity.json`, `summary.json`, `index.html`, JUnit).

use crate::load::drive::{RunOptions, SetupError};
use crate::model::capacity::{CapacityReport, StepResult};
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::Plan;
use crate::report::folder;
use std::path::Path;

/// The steps in user order, and the conclusion.
pub fn print_steps(report: &CapacityReport) {
    println!(
        "\n{:>8} {:>6} {:>9} {:>9} {:>7} {:>8} {:>8}  verdict",
        "step", "runs", "p95 ms", "p99 ms", "err %", "runs/s", "tgt CPU"
    );
    let mut steps = report.steps.clone();
    steps.sort_by(|a, b| a.level().total_cmp(&b.level()));
    for step in &steps {
        println!("{}", step_line(step));
    }
    println!("\nagentload capacity: {}", report.conclusion);
}

/// A capacity report as a summary: its header (the search's real duration, peak users).
pub fn capacity_summary(
    plan: &Plan,
    started_at: chrono::DateTime<chrono::Utc>,
    target: &str,
    mut report: CapacityReport,
) -> Summary {
    report.steps.sort_by_key(|s| s.users);
    Summary {
        plan: plan.name(),
        started_at: started_at.to_rfc3339(),
        duration_secs: (chrono::Utc::now() - started_at).as_seconds_f64(),
        target: target.to_string(),
        peak_users: report.steps.iter().map(|s| s.users).max().unwrap_or(0),
        sla: vec![RuleVerdict {
            rule: "capacity search".into(),
            observed: report.conclusion.clone(),
            passed: true,
            judged_by: "agentload".into(),
        }],
        passed: true,
        capacity: Some(report),
        ..Summary::default()
    }
}

/// `capacity.json`, `summary.json`, the plan when given (a shard's, a merge's), `index.html`
/// (and JUnit when asked), each whole.
pub fn write_capacity(
    dir: &Path,
    summary: Summary,
    plan_text: Option<&[u8]>,
    options: &RunOptions,
) -> Result<(), SetupError> {
    let report = summary.capacity.as_ref().expect("a capacity summary");
    folder::write_capacity(dir, &summary, report, plan_text, options.junit.as_deref())?;
    Ok(())
}

/// One step as a console line.
pub fn step_line(s: &StepResult) -> String {
    let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let verdict = match (&s.failed_rule, s.runs) {
        (Some(rule), _) => format!("FAIL {rule}"),
        (None, 0) => "(not judged yet)".to_string(),
        (None, _) if s.passed => "PASS".to_string(),
        (None, _) => "measured".to_string(),
    };
    let level = match s.rate {
        Some(rate) => format!("{}/s", crate::model::capacity::round3(rate)),
        None => s.users.to_string(),
    };
    format!(
        "{:>8} {:>6} {:>9} {:>9} {:>7.2} {:>8.1} {:>8}  {verdict}{}",
        level,
        s.runs,
        ms(s.p95_ms),
        ms(s.p99_ms),
        s.error_rate_percent,
        s.runs_per_sec,
        s.target_cpu_percent
            .map_or("-".into(), |c| format!("{c:.1}%")),
        if s.generator_saturated {
            " (generator busy)"
        } else {
            ""
        }
    )
}
