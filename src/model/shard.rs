//! What a shard's `summary.json` says about the shard, and what a merged report says about
//! the shards it was merged from.

use super::resources::ResourceStats;
use serde::{Deserialize, Serialize};

/// One shard of a distributed load test (`run --shard I/N`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ShardInfo {
    /// 0-based, as `JOB_COMPLETION_INDEX`.
    pub index: usize,
    pub count: usize,
    /// Shared by every shard of one load test (`--run-id`).
    pub run_id: String,
    /// SHA-256 of the plan file's bytes: shards of one test ran the same plan.
    pub plan_digest: String,
    pub host: String,
    /// CPU cores of the shard's machine (to turn its CPU share into CPU-seconds).
    pub cores: usize,
    /// This shard's peak users (its share of the plan's peak).
    pub users: usize,
    /// The instant every shard waited for (`--start-at`), RFC 3339.
    pub start_at: Option<String>,
}

/// A merged report's shards: which were merged, which were missing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MergeInfo {
    pub run_id: String,
    pub plan_digest: String,
    pub shard_count: usize,
    /// Indexes not merged (only with `--allow-partial`).
    pub missing: Vec<usize>,
    /// Some shards are missing or stopped early: the figures cover part of the load.
    pub partial: bool,
    /// Indexes of shards that were stopped early or left only a checkpoint (merged as they
    /// are, only with `--allow-partial`).
    #[serde(default)]
    pub stopped_early: Vec<usize>,
    pub shards: Vec<ShardRow>,
    /// The shards' generators together.
    pub total: ShardTotals,
}

/// One shard's line in the merged report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ShardRow {
    pub index: usize,
    pub host: String,
    pub folder: String,
    pub users: usize,
    pub runs: u64,
    pub completed: u64,
    pub failed: u64,
    pub connects_failed: u64,
    pub duration_secs: f64,
    /// The shard's own verdict (its share of the load, judged alone).
    pub passed: bool,
    pub generator: Option<ResourceStats>,
    /// Generator CPU over the run, in seconds of one core.
    pub generator_cpu_secs: Option<f64>,
}

/// The shards' generators together: what the distributed test cost.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ShardTotals {
    pub users: usize,
    pub runs: u64,
    pub failed: u64,
    pub generator_peak_rss_bytes: u64,
    pub generator_cpu_secs: f64,
}

impl ShardRow {
    pub fn totals(rows: &[ShardRow]) -> ShardTotals {
        ShardTotals {
            users: rows.iter().map(|r| r.users).sum(),
            runs: rows.iter().map(|r| r.runs).sum(),
            failed: rows.iter().map(|r| r.failed).sum(),
            generator_peak_rss_bytes: rows
                .iter()
                .filter_map(|r| r.generator.as_ref())
                .map(|g| g.peak_rss_bytes)
                .sum(),
            generator_cpu_secs: rows.iter().filter_map(|r| r.generator_cpu_secs).sum(),
        }
    }
}
