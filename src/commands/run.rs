//! `agentload run PLAN.toml`: plan → target → Goose → summary → reports → exit code.

use super::exit::exit_code;
use super::report::{print_comparison, read_summary};
use super::shard::{self, ShardArgs};
use crate::errors::Exit;
pub use crate::load::drive::RunOptions;
use crate::load::drive::{client_credential, fetch_stats, load, resolve_target, SetupError};
use crate::load::folder::report_folder;
use crate::model::compare::compare;
use crate::model::summary::Summary;
use crate::plan::Plan;
use crate::report::folder;
use std::path::Path;

/// Runs a plan end to end; prints progress and the verdict; returns the exit code.
pub async fn run(plan_path: &Path, options: &RunOptions, shard: &ShardArgs) -> Exit {
    exit_code(run_inner(plan_path, options, shard).await)
}

async fn run_inner(
    plan_path: &Path,
    options: &RunOptions,
    shard_args: &ShardArgs,
) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    let plan_text = std::fs::read(plan_path).unwrap_or_default();
    let sharding = shard_args.resolve(std::env::var("JOB_COMPLETION_INDEX").ok().as_deref())?;
    let plan = shard::plan_for(&plan, &sharding)?;
    let options = &RunOptions {
        shard: sharding.shard,
        run_id: sharding.run_id.clone(),
        start_at: sharding.start_at,
        ..options.clone()
    };
    // A baseline that cannot be read stops the run before any load.
    let baseline = options.baseline.as_deref().map(read_summary).transpose()?;
    let started_at = chrono::Utc::now();
    let kind = match sharding.shard.is_whole() {
        true => String::new(),
        false => format!("shard{}of{}", sharding.shard.index, sharding.shard.count),
    };
    let report_dir = report_folder(&plan, &kind, started_at)?;
    if sharding.is_sharded() {
        eprintln!(
            "agentload: shard {} of run {}: {} of the plan's users at peak",
            sharding.shard,
            sharding.run_id.as_deref().unwrap_or("-"),
            plan.peak_users()
        );
    }
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &report_dir).await?;
    let preflight = match options.preflight {
        true => Some(crate::onboarding::preflight::checks(&plan, &resolved, &credential).await),
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
    if sharding.is_sharded() {
        summary.shard = Some(shard::info(&sharding, &plan_text, plan.peak_users()));
    }
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
    folder::write_report(
        &report_dir,
        &summary,
        Some(&plan_text),
        options.junit.as_deref(),
    )?;
    // The final summary is in place: the last checkpoint has served.
    let _ = std::fs::remove_file(report_dir.join(folder::PARTIAL));
    if let Some(c) = &summary.comparison {
        print_comparison(c);
    }
    if let Some(headline) = summary.breakdown.as_ref().and_then(|b| b.headline()) {
        println!("agentload: where the time goes: {headline}");
    }
    if let Some(what) = &summary.degraded_first {
        println!("agentload: what degraded first: {what}");
    }
    print_verdict(&summary, &report_dir);
    Ok(super::exit::stopped_while_reporting(exit))
}

pub(crate) fn print_verdict(s: &Summary, dir: &Path) {
    println!();
    println!(
        "agentload: {} runs, {} completed, {} failed; {} connects, {} failed",
        s.runs.started,
        s.runs.completed,
        s.runs.failed,
        s.connections.attempted,
        s.connections.failed
    );
    if let (calls @ 1.., failed) = s.api_calls() {
        println!("  api calls: {calls}, {failed} failed");
    }
    if s.runs.interrupted > 0 {
        println!(
            "  {} runs still open at the end of the grace: interrupted (not failures)",
            s.runs.interrupted
        );
    }
    if let Some(t) = &s.throttled {
        let reasons: Vec<String> = t.reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        println!(
            "  shed load: {} attempts refused by the platform ({} connects, {} runs), the first at {:.1} s with {} users open ({}); not in the error rate",
            t.count,
            t.connects,
            t.runs,
            t.first_at_s,
            t.first_at_users,
            reasons.join(", ")
        );
    }
    for outage in &s.outages {
        let until = outage
            .end_s
            .map_or("the end".to_string(), |e| format!("{e:.1} s"));
        println!(
            "  outage: target unreachable from {:.1} s to {until} ({} failed connects, {} runs cut{})",
            outage.start_s,
            outage.failed_connects,
            outage.runs_cut,
            outage
                .recovered_after_s
                .map_or(String::new(), |r| format!(", a run completed {r:.1} s after"))
        );
    }
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
    if let Some(stop) = &s.stopped {
        println!(
            "  stopped by the plan ({}) at {:.1} s: {}",
            stop.by, stop.at_s, stop.reason
        );
    }
    let verdict = match (&s.interrupted, s.passed) {
        (Some(stop), _) => format!("STOPPED EARLY ({} at {:.1} s)", stop.signal, stop.at_s),
        (None, true) => "PASS".into(),
        (None, false) => "FAIL".into(),
    };
    println!("agentload: {verdict} — report in {}", dir.display());
}
