//! `capacity PLAN --shard I/N --run-id ID --start-at TIME`: one shard of a distributed
//! capacity search. Shards can not tell each other whether a step held, so each walks the
//! same ladder, computed from the plan alone, at the same wall-clock times (step `k` starts
//! `k` slots after `--start-at`), running its share of each step's users; it writes each
//! step's hold-window figures with their histogram. `report merge` adds the shards' steps
//! exactly and judges them; `--between LO HI` walks a finer ladder for a second pass.

use super::capacity_output::{capacity_summary, print_steps, write_capacity};
use super::capacity_step::{measure, Level};
use super::report_folder;
use super::shard::{self, Sharding};
use crate::engine::capacity::{CapacityReport, StepResult};
use crate::engine::load::{client_credential, resolve_target, RunOptions, SetupError};
use crate::errors::Exit;
use crate::plan::Plan;

/// Walks this shard's ladder; writes `capacity.json` and `summary.json` (with its shard
/// metadata) to its folder.
pub(super) async fn walk(
    plan: &Plan,
    plan_text: &[u8],
    sharding: &Sharding,
    between: Option<(usize, usize)>,
    options: &RunOptions,
) -> Result<Exit, SetupError> {
    let shard = sharding.shard;
    let started_at = chrono::Utc::now();
    let kind = format!("capacity-shard{}of{}", shard.index, shard.count);
    let dir = report_folder(plan, &kind, started_at)?;
    let credential = client_credential(plan)?;
    let resolved = resolve_target(plan, &credential, &dir).await?;
    let start = sharding.start_at.unwrap_or(started_at);
    let slot = chrono::Duration::from_std(plan.capacity.slot()).unwrap_or_default();
    let options = RunOptions {
        shard,
        run_id: sharding.run_id.clone(),
        ..options.clone()
    };
    // Rate steps (an open plan) each run this shard's share of the rate; user steps its
    // share of the users.
    let ladder: Vec<Level> = match plan.is_open() {
        true => plan
            .capacity
            .rate_ladder()
            .into_iter()
            .map(Level::Rate)
            .collect(),
        false => plan
            .capacity
            .ladder()
            .into_iter()
            .map(Level::Users)
            .collect(),
    };
    eprintln!(
        "agentload: capacity shard {shard} of run {}: {} steps, one every {:.0} s from {}",
        sharding.run_id.as_deref().unwrap_or("-"),
        ladder.len(),
        slot.as_seconds_f64(),
        start.to_rfc3339()
    );
    let mut steps = Vec::new();
    for (k, level) in ladder.into_iter().enumerate() {
        let at = start + slot * k as i32;
        match (at - chrono::Utc::now()).to_std() {
            Ok(wait) => tokio::time::sleep(wait).await,
            Err(_) => eprintln!(
                "agentload: warning: step {level:?} starts {:.1} s behind its slot: its window \
                 lines up less well with the other shards'",
                (chrono::Utc::now() - at).as_seconds_f64()
            ),
        }
        let step = match level {
            Level::Users(users) => {
                let mine = shard.share(users);
                let mut step = match mine {
                    0 => StepResult::default(),
                    n => {
                        measure(
                            plan,
                            &resolved,
                            &credential,
                            &dir,
                            Level::Users(n),
                            &options,
                        )
                        .await?
                    }
                };
                (step.users, step.shard_users) = (users, Some(mine));
                step
            }
            Level::Rate(_) => measure(plan, &resolved, &credential, &dir, level, &options).await?,
        };
        let interrupted = step.interrupted;
        steps.push(step);
        // Ctrl-C or SIGTERM ends the walk, keeping what was measured.
        if interrupted {
            break;
        }
    }
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let report = CapacityReport {
        ceiling: plan.capacity.ceiling,
        headroom_percent: plan.capacity.headroom.0,
        between,
        conclusion: format!(
            "Shard {shard} walked {} step(s) of the ladder; `agentload report merge` adds the \
             shards' steps and judges them.",
            steps.len()
        ),
        steps,
        ..Default::default()
    };
    print_steps(&report);
    let mut summary = capacity_summary(plan, started_at, &resolved.ws_url, report);
    summary.shard = Some(shard::info(sharding, plan_text, summary.peak_users));
    summary.sla.clear();
    write_capacity(&dir, summary, &options)?;
    super::run::write_file(&dir.join("plan.toml"), plan_text)?;
    println!(
        "agentload capacity: shard {shard}: report in {}",
        dir.display()
    );
    Ok(super::stopped_while_reporting(Exit::Pass))
}
