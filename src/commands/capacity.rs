//! `agentload capacity PLAN.toml`: a stepped search for the most users the deployment holds
//! within the SLA, judged per step on that step's own hold window; the limiting rule; a
//! projection for an enterprise's user count.

use super::shard::ShardArgs;
use super::{exit_code, report_folder};
use crate::engine::capacity::{self as search, CapacityReport, StepResult};
use crate::engine::load::{
    client_credential, load, resolve_target, Resolved, RunOptions, SetupError,
};
use crate::errors::Exit;
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::{Dur, Plan, Sla, Stage};
use std::path::Path;

/// `agentload capacity PLAN`: prints each step and the conclusion, writes `capacity.json`
/// and `index.html`.
/// `options`: the console (`verbose`, `progress`) and `junit`; the rest is `run`'s.
pub async fn run(
    plan_path: &Path,
    options: &RunOptions,
    shard: &ShardArgs,
    between: Option<(usize, usize)>,
) -> Exit {
    exit_code(run_inner(plan_path, options, shard, between).await)
}

async fn run_inner(
    plan_path: &Path,
    options: &RunOptions,
    shard_args: &ShardArgs,
    between: Option<(usize, usize)>,
) -> Result<Exit, SetupError> {
    let mut plan = Plan::load(plan_path)?;
    if let Some((low, high)) = between {
        if low == 0 || low >= high {
            return Err(SetupError::Shard(format!(
                "--between {low} {high}: give the last users that held and the first that failed, \
                 lowest first"
            )));
        }
        plan.capacity.steps = plan.capacity.between(low, high);
        plan.capacity.ceiling = plan.capacity.ceiling.max(high);
    }
    let sharding = shard_args.resolve(std::env::var("JOB_COMPLETION_INDEX").ok().as_deref())?;
    if sharding.is_sharded() {
        let plan_text = std::fs::read(plan_path).unwrap_or_default();
        return super::capacity_ladder::walk(&plan, &plan_text, &sharding, between, options).await;
    }
    let started_at = chrono::Utc::now();
    let dir = report_folder(&plan, "capacity", started_at)?;
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &dir).await?;
    let by_rate = plan.is_open();
    let step = async |level: Level| {
        let step = measure(&plan, &resolved, &credential, &dir, level, options).await?;
        // Ctrl-C stops the step's Goose run; it also ends the search, keeping what was measured.
        if step.interrupted {
            return Ok(None);
        }
        println!("{}", step_line(&step));
        Ok::<_, SetupError>(Some(step))
    };
    let found = match by_rate {
        true => {
            search::search_rates(&plan.capacity, &plan.sla, async |rate| {
                step(Level::Rate(rate)).await
            })
            .await
        }
        false => {
            search::search(&plan.capacity, &plan.sla, async |users| {
                step(Level::Users(users)).await
            })
            .await
        }
    };
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let mut report = found?;
    report.between = between;
    print_steps(&report);
    let summary = capacity_summary(&plan, started_at, &resolved.ws_url, report);
    write_capacity(&dir, summary, options)?;
    println!("agentload capacity: report in {}", dir.display());
    Ok(Exit::Pass)
}

/// The steps in user order, and the conclusion.
pub(super) fn print_steps(report: &CapacityReport) {
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
pub(super) fn capacity_summary(
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

/// `capacity.json`, `summary.json` and `index.html` (and JUnit when asked), each whole.
pub(super) fn write_capacity(
    dir: &Path,
    summary: Summary,
    options: &RunOptions,
) -> Result<(), SetupError> {
    let report = summary.capacity.as_ref().expect("a capacity summary");
    let json = serde_json::to_string_pretty(report).expect("the report serializes");
    super::run::write_file(&dir.join("capacity.json"), json.as_bytes())?;
    super::run::write_summary(dir, &summary)?;
    crate::report::write(dir, &summary).map_err(|e| SetupError::Report {
        path: dir.join("index.html"),
        message: e.to_string(),
    })?;
    if let Some(path) = &options.junit {
        let xml = crate::report::junit::junit(&summary.plan, &summary.sla, None);
        super::report::write_junit(path, &xml)?;
    }
    Ok(())
}

/// What a capacity step holds: users (closed), or an arrival rate (open, test-wide).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Level {
    Users(usize),
    Rate(f64),
}

/// One step: ramp to `level` (users, or sessions arriving at a rate), hold, and read the hold
/// window's own figures. `options` carry the console, `--metrics-addr`, and a shard's identity.
pub(super) async fn measure(
    plan: &Plan,
    resolved: &Resolved,
    credential: &str,
    dir: &Path,
    level: Level,
    options: &RunOptions,
) -> Result<StepResult, SetupError> {
    let cap = &plan.capacity;
    let step_plan = step_plan(plan, level);
    let folder = match level {
        Level::Users(users) => format!("step-{users:05}-users"),
        Level::Rate(rate) => format!("step-{rate:09.3}-per-s"),
    };
    let step_dir = dir.join(&folder);
    std::fs::create_dir_all(&step_dir).map_err(|e| SetupError::Report {
        path: step_dir.clone(),
        message: e.to_string(),
    })?;
    let loaded = load(
        &step_plan,
        resolved,
        credential.to_string(),
        &step_dir,
        chrono::Utc::now(),
        &RunOptions {
            verbose: options.verbose,
            progress: options.progress,
            metrics_addr: options.metrics_addr,
            shard: options.shard,
            run_id: options.run_id.clone(),
            ..RunOptions::default()
        },
    )
    .await?;
    // The hold: after the ramp, from the first arrival (open) or the start (closed).
    let sessions = loaded.summary.sessions.as_ref();
    let origin = sessions
        .and_then(|s| s.arrivals.map(|w| w.from_secs))
        .unwrap_or(0.0);
    let from = (origin + cap.step_ramp.0.as_secs_f64()).ceil();
    let to = from + cap.step_hold.0.as_secs_f64();
    let mut step = super::capacity_step::figures(&loaded, plan, from, to);
    step.folder = Some(folder);
    match level {
        Level::Users(users) => step.users = users,
        Level::Rate(rate) => {
            step.rate = Some(rate);
            let hold = sessions.map(|s| {
                s.timeline
                    .iter()
                    .filter(|p| (from..to).contains(&p.at_secs))
                    .fold((0, 0), |(a, d), p| (a + p.arrived, d + p.dropped))
            });
            (step.sessions_arrived, step.sessions_dropped) = hold.unwrap_or_default();
            step.first_turn_p95_ms =
                sessions.and_then(|s| Some(s.first_turn.as_ref()?.stats.p95_ms));
        }
    }
    Ok(step)
}

/// The plan one step runs: its users over the ramp, then held (closed); or sessions arriving
/// at the step's rate through ramp and hold, no drain (open). Its rules are judged per step
/// by the search, none by Goose; a step is short: no checkpoints.
fn step_plan(plan: &Plan, level: Level) -> Plan {
    let cap = &plan.capacity;
    let mut step_plan = plan.clone();
    match level {
        Level::Users(users) => {
            step_plan.stages = vec![
                Stage {
                    users,
                    duration: cap.step_ramp,
                },
                Stage {
                    users,
                    duration: cap.step_hold,
                },
                Stage {
                    users: 0,
                    duration: Dur::from_secs(0),
                },
            ];
        }
        Level::Rate(rate) => {
            step_plan.arrivals = vec![crate::plan::Arrival {
                rate: crate::plan::Rate(rate),
                duration: Dur(cap.step_ramp.0 + cap.step_hold.0),
                ramp_to: None,
            }];
            step_plan.workload.drain = Dur::from_secs(0);
        }
    }
    step_plan.sla = Sla::default();
    step_plan.report.checkpoint = Dur::from_secs(0);
    step_plan
}

fn step_line(s: &StepResult) -> String {
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
