//! `agentload capacity PLAN.toml`: a stepped search for the most users (closed plans) or the
//! highest arrival rate (open plans) the deployment holds
//! within the SLA, judged per step on that step's own hold window; the limiting rule; a
//! projection for an enterprise's user count.

use super::capacity_output::{capacity_summary, print_steps, step_line, write_capacity};
use super::capacity_step::{measure, Level};
use super::shard::ShardArgs;
use super::{exit_code, report_folder};
use crate::engine::capacity as search;
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
    Ok(super::stopped_while_reporting(Exit::Pass))
}
