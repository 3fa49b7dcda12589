//! `agentload capacity PLAN.toml`: a stepped search for the most users (closed plans) or the
//! highest arrival rate (open plans) the deployment holds within the SLA in steady state. One
//! live load runs the whole search: the controller moves it from step to step (warm) and
//! judges each step on its own hold once it is steady; the limiting rule; a projection for
//! an enterprise's user count.

use super::capacity_output::{capacity_summary, print_steps, step_line, write_capacity};
use super::shard::ShardArgs;
use super::{exit_code, report_folder};
use crate::engine::capacity as search;
use crate::engine::capacity::controller::{runs_started, Holding};
use crate::engine::load::{client_credential, resolve_target, RunOptions, SetupError};
use crate::errors::Exit;
use crate::plan::Plan;
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
    let top = plan.capacity.ladder().into_iter().max().unwrap_or(1);
    let (loaded, searched) = super::capacity_live::run(
        &plan,
        top,
        &resolved,
        &credential,
        &dir,
        options,
        async |mut controller| {
            let mut step = async |level: f64| {
                let step = controller.step(level, Holding::Extend).await;
                // Stdout is Goose's (muted) while the load runs: the table comes at the end.
                if let (Some(step), Some(_)) = (&step, options.progress) {
                    eprintln!("agentload capacity: {}", step_line(step).trim_start());
                }
                Ok::<_, std::convert::Infallible>(step)
            };
            let found = match plan.is_open() {
                true => search::search_rates(&plan.capacity, &plan.sla, &mut step).await,
                false => {
                    let users = async |u: usize| step(u as f64).await;
                    search::search(&plan.capacity, &plan.sla, users).await
                }
            };
            let Ok(found) = found;
            (found, controller.finish())
        },
    )
    .await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let loaded = loaded?;
    let Some((mut report, spans)) = searched else {
        return Err(SetupError::Goose(
            "the capacity search's load ended before its first step".into(),
        ));
    };
    let begun = loaded.collector.runs_begun_ended().0;
    runs_started(&mut report.steps, &spans, begun);
    report.between = between;
    print_steps(&report);
    let summary = capacity_summary(&plan, started_at, &resolved.ws_url, report);
    write_capacity(&dir, summary, options)?;
    println!("agentload capacity: report in {}", dir.display());
    Ok(super::stopped_while_reporting(Exit::Pass))
}
