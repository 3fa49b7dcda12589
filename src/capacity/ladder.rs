//! `capacity PLAN --shard I/N --run-id ID --start-at TIME`: one shard of a distributed
//! capacity search. Shards can not tell each other whether a step held, so each walks the
//! same ladder, computed from the plan alone, in step with the others (step `k` starts `k`
//! slots after the first, on the wall clock), moving its one live load to its share of each
//! step's level; it writes each step's hold (the load sampled through it, each half's run
//! times) with its histograms. `report merge` adds the shards' steps exactly and judges
//! them; `--between LO HI` walks a finer ladder for a second pass.

use super::controller::{runs_started, Holding};
use super::one_load::{self, launch_time};
use super::output::{capacity_summary, print_steps, write_capacity};
use crate::load::drive::{client_credential, resolve_target, RunOptions, SetupError};
use crate::load::folder::report_folder;
use crate::load::sharding::{self as shard, Sharding};
use crate::model::capacity::CapacityReport;
use crate::plan::Plan;
use std::path::PathBuf;
use std::time::Duration;
use tokio::time::Instant;

/// Walks this shard's ladder; writes `capacity.json` and `summary.json` (with its shard
/// metadata) to its folder, which it returns.
pub async fn walk_in_step(
    plan: &Plan,
    plan_text: &[u8],
    sharding: &Sharding,
    between: Option<(usize, usize)>,
    options: &RunOptions,
) -> Result<PathBuf, SetupError> {
    let shard = sharding.shard;
    let started_at = chrono::Utc::now();
    let kind = format!("capacity-shard{}of{}", shard.index, shard.count);
    let dir = report_folder(plan, &kind, started_at)?;
    let credential = client_credential(plan)?;
    let resolved = resolve_target(plan, &credential, &dir).await?;
    let start = sharding.start_at.unwrap_or(started_at);
    // Rate steps (an open plan) each run this shard's share of the rate; user steps its
    // share of the users. Every shard computes the same ladder and the same slots.
    let ladder: Vec<f64> = match plan.is_open() {
        true => plan.capacity.rate_ladder(),
        false => plan
            .capacity
            .ladder()
            .into_iter()
            .map(|u| u as f64)
            .collect(),
    };
    let top = plan.capacity.ladder().into_iter().max().unwrap_or(1);
    let ramp = plan.capacity_ramp(None);
    let slot = plan.capacity.slot(ramp);
    let first = start + chrono::Duration::from_std(launch_time(plan, top)).unwrap_or_default();
    let options = RunOptions {
        shard,
        run_id: sharding.run_id.clone(),
        start_at: Some(start),
        ..options.clone()
    };
    eprintln!(
        "agentload: capacity shard {shard} of run {}: {} steps, one every {:.0} s from {}",
        sharding.run_id.as_deref().unwrap_or("-"),
        ladder.len(),
        slot.as_secs_f64(),
        first.to_rfc3339()
    );
    let (loaded, searched) = one_load::run(
        plan,
        top,
        &resolved,
        &credential,
        &dir,
        &options,
        async |mut controller| {
            let mut steps = Vec::new();
            for (k, level) in ladder.into_iter().enumerate() {
                let at = |offset: Duration| {
                    let wall = first
                        + chrono::Duration::from_std(slot * k as u32 + offset).unwrap_or_default();
                    let ahead = (wall - chrono::Utc::now()).to_std().unwrap_or_default();
                    Instant::now() + ahead
                };
                let holding = Holding::Until {
                    ramp_end: at(ramp),
                    hold_end: at(slot),
                };
                let Some(step) = controller.step(level, holding).await else {
                    break;
                };
                let interrupted = step.interrupted;
                steps.push(step);
                // Ctrl-C or SIGTERM ends the walk, keeping what was measured.
                if interrupted {
                    break;
                }
            }
            (steps, controller.finish())
        },
    )
    .await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let loaded = loaded?;
    let (mut steps, spans) = searched.unwrap_or_default();
    runs_started(&mut steps, &spans, loaded.collector.runs_begun_ended().0);
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
    write_capacity(&dir, summary, Some(plan_text), &options)?;
    Ok(dir.to_path_buf())
}
