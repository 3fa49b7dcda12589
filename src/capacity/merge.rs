//! `report merge` of capacity shards: each step's counters and hold-window histograms added
//! exactly, every step judged on the merged figures with one-node capacity's rules, and one
//! `capacity.json` and report with the limit, the rule that broke first and the projection.

use super::output::{capacity_summary, print_steps, write_capacity};
use super::search::ladder_report;
use crate::load::drive::{RunOptions, SetupError};
use crate::load::folder::{merged_folder, shard_plan};
use crate::model::capacity::merge_steps;
use crate::model::merge::{check, ShardReport};
use crate::plan::Plan;
use std::path::{Path, PathBuf};

/// Where `report merge` writes, and what it accepts.
pub struct MergeTo<'a> {
    pub out: Option<&'a Path>,
    pub allow_partial: bool,
    pub junit: Option<&'a Path>,
}

/// Merges capacity shards into one report: its folder, and whether every shard was there.
pub fn merge(args: &MergeTo, shards: &[ShardReport]) -> Result<(PathBuf, bool), SetupError> {
    let missing = check(shards, args.allow_partial)?;
    let first = Path::new(&shards[0].folder);
    let (plan_path, plan_text) = shard_plan(first, "judge the steps")?;
    let plan = Plan::parse(&plan_text, &plan_path)?;
    let ladders: Vec<&[crate::model::capacity::StepResult]> = shards
        .iter()
        .filter_map(|s| s.summary.capacity.as_ref().map(|c| c.steps.as_slice()))
        .collect();
    let steps = merge_steps(&ladders).map_err(|message| SetupError::ReadReport {
        path: first.to_path_buf(),
        message,
    })?;
    let mut report = ladder_report(steps, &plan, &plan.sla);
    report.between = shards[0].summary.capacity.as_ref().and_then(|c| c.between);
    if !missing.is_empty() {
        report.conclusion = format!(
            "PARTIAL (shard(s) {missing:?} missing: the steps ran fewer users than they say). {}",
            report.conclusion
        );
    }
    print_steps(&report);
    let started_at = shards
        .iter()
        .filter_map(|s| chrono::DateTime::parse_from_rfc3339(&s.summary.started_at).ok())
        .min()
        .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
    let target = shards[0].summary.target.clone();
    let mut summary = capacity_summary(&plan, started_at, &target, report);
    summary.duration_secs = shards
        .iter()
        .map(|s| s.summary.duration_secs)
        .fold(0.0, f64::max);
    let merged = crate::model::merge::merge(shards, missing.clone())?;
    summary.merge = merged.merge;
    let info = summary.merge.as_ref().expect("merge sets it");
    let out = merged_folder(
        args.out,
        first,
        &summary.plan,
        "capacity-merged",
        &info.run_id,
    )?;
    let options = RunOptions {
        junit: args.junit.map(Path::to_path_buf),
        ..RunOptions::default()
    };
    write_capacity(&out, summary, Some(plan_text.as_bytes()), &options)?;
    Ok((out, missing.is_empty()))
}
