//! `agentload run PLAN.toml`: plan → target → Goose → summary → reports → exit code.

use super::report::{print_comparison, read_summary, write_junit};
use super::{exit_code, report_folder};
pub use crate::engine::load::RunOptions;
use crate::engine::load::{client_credential, fetch_stats, load, resolve_target, SetupError};
use crate::errors::Exit;
use crate::model::compare::compare;
use crate::model::summary::Summary;
use crate::plan::Plan;
use crate::report::junit::junit;
use std::path::Path;

/// Runs a plan end to end; prints progress and the verdict; returns the exit code.
pub async fn run(plan_path: &Path, options: &RunOptions) -> Exit {
    exit_code(run_inner(plan_path, options).await)
}

async fn run_inner(plan_path: &Path, options: &RunOptions) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    // A baseline that cannot be read stops the run before any load.
    let baseline = options.baseline.as_deref().map(read_summary).transpose()?;
    let started_at = chrono::Utc::now();
    let report_dir = report_folder(&plan, "", started_at)?;
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &report_dir).await?;
    let preflight = match options.preflight {
        true => Some(crate::engine::preflight::checks(&plan, &resolved, &credential).await),
        false => None,
    };
    let preflight = match preflight {
        Some(Ok(report)) => {
            print!("{}", report.table());
            Some(report)
        }
        Some(Err(e)) => return Err(e),
        None => None,
    };
    let blocked = preflight
        .as_ref()
        .is_some_and(|p| p.verdict() == crate::model::preflight::Verdict::Fail);
    let outcome = if blocked {
        eprintln!("agentload: preflight failed: no load was sent");
        let summary = Summary {
            plan: plan.name(),
            started_at: started_at.to_rfc3339(),
            target: resolved.ws_url.clone(),
            ..Summary::default()
        };
        Ok((summary, Exit::SlaFailed))
    } else {
        load(
            &plan,
            &resolved,
            credential,
            &report_dir,
            started_at,
            options,
        )
        .await
        .map(|l| (l.summary, l.exit))
    };
    let target_counters = match &resolved.embedded {
        Some(_) => fetch_stats(&resolved).await,
        None => None,
    };
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let (mut summary, mut exit) = outcome?;
    summary.target_counters = target_counters;
    summary.preflight = preflight;
    if let Some(base) = baseline {
        let c = compare(
            &base,
            &summary,
            &options.baseline_name(),
            options.tolerance_percent,
        );
        if c.regressions().count() > 0 && exit == Exit::Pass {
            exit = Exit::SlaFailed;
        }
        summary.comparison = Some(c);
    }
    write_summary(&report_dir, &summary)?;
    crate::report::write(&report_dir, &summary).map_err(|e| SetupError::Report {
        path: report_dir.join("index.html"),
        message: e.to_string(),
    })?;
    if let Some(path) = &options.junit {
        let xml = junit(&summary.plan, &summary.sla, summary.comparison.as_ref());
        write_junit(path, &xml)?;
    }
    if let Some(c) = &summary.comparison {
        print_comparison(c);
    }
    print_verdict(&summary, &report_dir);
    Ok(exit)
}

fn write_summary(dir: &Path, summary: &Summary) -> Result<(), SetupError> {
    let path = dir.join("summary.json");
    let text = serde_json::to_string_pretty(summary).expect("the summary serializes");
    std::fs::write(&path, text).map_err(|e| SetupError::Report {
        path,
        message: e.to_string(),
    })
}

fn print_verdict(s: &Summary, dir: &Path) {
    println!();
    println!(
        "agentload: {} runs, {} completed, {} failed; {} connects, {} failed",
        s.runs.started,
        s.runs.completed,
        s.runs.failed,
        s.connections.attempted,
        s.connections.failed
    );
    for (kind, bucket) in &s.failures {
        println!(
            "  failure {kind}: {} (e.g. {})",
            bucket.count, bucket.example
        );
    }
    if s.stale_frames > 0 {
        println!(
            "  {} frames of finished runs set aside (stale_frames)",
            s.stale_frames
        );
    }
    if let Some(rate) = s.goose_error_rate_percent {
        println!("  Goose error-rate over all its requests (not judged): {rate:.2}%");
    }
    for rule in &s.sla {
        let verdict = if rule.passed { "PASS" } else { "FAIL" };
        println!("  SLA {verdict} {} (observed {})", rule.rule, rule.observed);
    }
    println!(
        "agentload: {} — report in {}",
        if s.passed { "PASS" } else { "FAIL" },
        dir.display()
    );
}
