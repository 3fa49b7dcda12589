//! `agentload report merge DIR... [--out DIR] [--allow-partial]`: the shards of one
//! distributed load test into one report, judged on the merged figures, with `run`'s exit
//! codes (0 pass, 1 SLA failed, 2 refused).

use super::exit::exit_code;
use super::report::read_summary;
use super::run::print_verdict;
use crate::errors::Exit;
use crate::load::drive::SetupError;
use crate::model::merge::{check, merge, ShardReport};
use crate::model::summary::Summary;
use crate::plan::Sla;
use crate::report::folder::{self, has_summary};
use std::path::{Path, PathBuf};

/// What `report merge` was asked.
pub struct MergeArgs<'a> {
    pub dirs: &'a [PathBuf],
    pub out: Option<&'a Path>,
    pub allow_partial: bool,
    pub junit: Option<&'a Path>,
}

pub fn merge_dirs(args: &MergeArgs) -> Exit {
    exit_code(merge_inner(args))
}

fn merge_inner(args: &MergeArgs) -> Result<Exit, SetupError> {
    let shards = shard_reports(args.dirs)?;
    let capacity = shards
        .iter()
        .filter(|s| s.summary.capacity.is_some())
        .count();
    match capacity {
        0 => {}
        n if n == shards.len() => {
            let to = crate::capacity::merge::MergeTo {
                out: args.out,
                allow_partial: args.allow_partial,
                junit: args.junit,
            };
            let (out, whole) = crate::capacity::merge::merge(&to, &shards)?;
            println!("agentload capacity: merged report in {}", out.display());
            return Ok(match whole {
                true => Exit::Pass,
                false => Exit::SlaFailed,
            });
        }
        _ => {
            return Err(SetupError::Shard(
                "these folders mix run shards and capacity shards: merge each test's shards on \
                 their own"
                    .into(),
            ))
        }
    }
    let missing = check(&shards, args.allow_partial)?;
    // `check` refused an empty list: there is a first shard.
    let first = Path::new(&shards[0].folder);
    let (plan_path, plan_text) = crate::load::folder::shard_plan(first, "judge the SLA")?;
    let sla = read_sla(&plan_path, &plan_text)?;
    let mut merged = merge(&shards, missing)?;
    let by_shard: Vec<&Summary> = shards.iter().map(|s| &s.summary).collect();
    merged.sla = crate::model::threshold::judge_merged(&sla.goose_rules(), &merged, &by_shard);
    merged.sla.extend(
        crate::model::sla::judge(&sla, &merged)
            .into_iter()
            .map(|mut v| {
                v.judged_by = "agentload (merged)".into();
                v
            }),
    );
    let info = merged.merge.as_ref().expect("merge sets it");
    // A partial merge is never a pass: part of the load is not in the figures.
    merged.passed = merged.sla.iter().all(|r| r.passed) && !info.partial;
    let out =
        crate::load::folder::merged_folder(args.out, first, &merged.plan, "merged", &info.run_id)?;
    folder::write_report(&out, &merged, Some(plan_text.as_bytes()), args.junit)?;
    print_shards(&merged);
    print_verdict(&merged, &out);
    Ok(if merged.passed {
        Exit::Pass
    } else {
        Exit::SlaFailed
    })
}

/// Each DIR is a shard's report folder, or a folder of them (every subfolder with a
/// `summary.json`, but a merged report lying beside its shards), so `report merge /reports`
/// works where no shell expands a glob. Each summary is read once.
fn shard_reports(dirs: &[PathBuf]) -> Result<Vec<ShardReport>, SetupError> {
    let mut found: Vec<(PathBuf, Summary)> = Vec::new();
    for dir in dirs {
        if has_summary(dir) {
            found.push((dir.clone(), read_summary(dir)?));
            continue;
        }
        let entries = std::fs::read_dir(dir).map_err(|e| SetupError::ReadReport {
            path: dir.clone(),
            message: e.to_string(),
        })?;
        let mut inside: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| has_summary(p))
            .collect();
        inside.sort();
        let before = found.len();
        for folder in inside {
            let summary = read_summary(&folder)?;
            if summary.merge.is_none() {
                found.push((folder, summary));
            }
        }
        if found.len() == before {
            return Err(SetupError::ReadReport {
                path: dir.clone(),
                message: "no summary.json here or in a folder inside".into(),
            });
        }
    }
    Ok(found
        .into_iter()
        .map(|(f, summary)| ShardReport {
            folder: f.display().to_string(),
            summary,
        })
        .collect())
}

/// The plan's `[sla]` only: the rest (URLs from env vars, files) need not resolve here.
fn read_sla(path: &Path, text: &str) -> Result<Sla, SetupError> {
    let bad = |message: String| SetupError::ReadReport {
        path: path.to_path_buf(),
        message,
    };
    let table: toml::Table = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
    match table.get("sla") {
        None => Ok(Sla::default()),
        Some(sla) => sla
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| bad(format!("[sla]: {}", e.message()))),
    }
}

fn print_shards(m: &Summary) {
    let Some(info) = &m.merge else { return };
    println!(
        "agentload merge: run {} — {} of {} shards{}",
        info.run_id,
        info.shards.len(),
        info.shard_count,
        match info.partial {
            true => format!(" (PARTIAL: missing {:?})", info.missing),
            false => String::new(),
        }
    );
    println!(
        "  {:>5} {:<24} {:>7} {:>9} {:>8} {:>12}  own verdict",
        "shard", "host", "users", "runs", "failed", "gen CPU-s"
    );
    for r in &info.shards {
        println!(
            "  {:>5} {:<24} {:>7} {:>9} {:>8} {:>12}  {}",
            r.index,
            r.host,
            r.users,
            r.runs,
            r.failed,
            r.generator_cpu_secs
                .map_or("-".into(), |c| format!("{c:.1}")),
            if r.passed { "PASS" } else { "FAIL" }
        );
    }
    let t = &info.total;
    println!(
        "  {:>5} {:<24} {:>7} {:>9} {:>8} {:>12.1}",
        "all", "", t.users, t.runs, t.failed, t.generator_cpu_secs
    );
}
