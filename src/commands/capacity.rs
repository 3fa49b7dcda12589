//! `agentload capacity PLAN.toml`: a stepped search for the most users (closed plans) or the
//! highest arrival rate (open plans) the deployment holds within the SLA in steady state. One
//! live load runs the whole search: the controller moves it from step to step (warm) and
//! judges each step on its own hold once it is steady; the limiting rule; a projection for
//! an enterprise's user count. With `[capacity.scaling]`, a search at each deployment size
//! and the study of them (`capacity::scaling`).

use super::exit::{exit_code, stopped_while_reporting};
use super::shard::ShardArgs;
use crate::capacity::{self, scaling};
use crate::errors::Exit;
use crate::load::drive::{RunOptions, SetupError};
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
    size: Option<u32>,
) -> Exit {
    exit_code(run_inner(plan_path, options, shard, between, size).await)
}

async fn run_inner(
    plan_path: &Path,
    options: &RunOptions,
    shard_args: &ShardArgs,
    between: Option<(usize, usize)>,
    size: Option<u32>,
) -> Result<Exit, SetupError> {
    let mut plan = Plan::load(plan_path)?;
    if let Some(size) = size {
        // One size of a study, measured on its own: the report says which.
        plan.capacity.size = Some(size);
        plan.capacity.scaling = None;
        if plan.target.embedded {
            plan.target.replicas = Some(size as usize);
        }
    }
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
        let dir =
            capacity::ladder::walk_in_step(&plan, &plan_text, &sharding, between, options).await?;
        let shard = sharding.shard;
        println!(
            "agentload capacity: shard {shard}: report in {}",
            dir.display()
        );
        return Ok(stopped_while_reporting(Exit::Pass));
    }
    if let (Some(scaling), None) = (plan.capacity.scaling.clone(), between) {
        let (dir, stopped) = scaling::run::run(&plan, &scaling, options).await?;
        println!("agentload capacity: study in {}", dir.display());
        if let Some(why) = stopped {
            return Err(SetupError::Scaling(why));
        }
        return Ok(stopped_while_reporting(Exit::Pass));
    }
    let dir = capacity::node::run(&plan, between, options).await?;
    println!("agentload capacity: report in {}", dir.display());
    Ok(stopped_while_reporting(Exit::Pass))
}
