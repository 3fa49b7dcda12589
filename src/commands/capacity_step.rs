//! One capacity step's own figures, read from its load test's hold window `[from, to)`:
//! runs, run times (with the window's histogram, so shards' steps add up), shed attempts,
//! the server's rules, and the resources sampled in the window.

use crate::engine::capacity::StepResult;
use crate::engine::load::{load, Loaded, Resolved, RunOptions, SetupError};
use crate::plan::{Dur, Plan, Sla, Stage};
use std::path::Path;

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
    let mut step = figures(&loaded, plan, from, to);
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

pub(super) fn figures(loaded: &Loaded, plan: &Plan, from: f64, to: f64) -> StepResult {
    let w = loaded.collector.window(from, to);
    let hold = loaded.collector.window_latency(from, to);
    let samples: Vec<_> = loaded
        .summary
        .resources
        .as_ref()
        .map(|r| r.samples.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|s| (from..=to).contains(&s.at_secs))
        .collect();
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let shed = loaded.summary.throttled.clone().unwrap_or_default();
    let server = loaded.summary.server.as_ref();
    let server_failed = crate::model::sla::server_rules(&plan.sla, &loaded.summary)
        .into_iter()
        .find(|v| !v.passed)
        .map(|v| format!("{}: {}", v.rule, v.observed));
    StepResult {
        server_failed,
        runs_started: loaded.summary.runs.started,
        histogram: (hold.count() > 0).then(|| hold.encode()),
        window_secs: to - from,
        throttled: shed.attempts(),
        throttled_percent: loaded.summary.share_of_attempts_percent(shed.attempts()),
        throttled_first_at_users: (shed.count > 0).then_some(shed.first_at_users),
        throttle_reasons: shed.reasons.keys().cloned().collect(),
        throttled_connects: shed.connects,
        runs: w.runs,
        completed: w.completed,
        error_rate_percent: w.error_rate_percent,
        runs_per_sec: w.runs_per_sec,
        mean_ms: w.mean_ms,
        p50_ms: w.p50_ms,
        p95_ms: w.p95_ms,
        p99_ms: w.p99_ms,
        target_cpu_percent: mean(
            samples
                .iter()
                .filter_map(|s| s.target.map(|t| t.cpu_percent))
                .collect(),
        )
        .or_else(|| server.and_then(|s| s.mean_cpu_percent())),
        target_rss_bytes: samples
            .iter()
            .filter_map(|s| s.target.map(|t| t.rss_bytes))
            .max(),
        generator_cpu_percent: mean(
            samples
                .iter()
                .filter_map(|s| s.generator.map(|g| g.cpu_percent))
                .collect(),
        ),
        breakdown: loaded.summary.breakdown.clone(),
        server_peaks: server
            .map(|s| {
                let names: std::collections::BTreeSet<&String> =
                    s.series.iter().map(|x| &x.name).collect();
                names
                    .into_iter()
                    .filter_map(|n| Some((n.clone(), s.peak(n)?)))
                    .collect()
            })
            .unwrap_or_default(),
        interrupted: loaded.summary.interrupted.is_some()
            || loaded.summary.stopped.is_some()
            || crate::engine::watch::signals::signalled_while_reporting(),
        ..Default::default()
    }
}
