//! What a merge takes: each shard's report and its folder, and why shards may not merge.

use crate::model::shard::ShardInfo;
use crate::model::summary::Summary;

/// Why shards can not be merged: one line each.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("{folder}: not a shard's report (it has no shard metadata: run with --shard I/N)")]
    NotAShard { folder: String },
    #[error("shards of different load tests: {a} has run id `{a_id}`, {b} has `{b_id}`")]
    RunIds {
        a: String,
        a_id: String,
        b: String,
        b_id: String,
    },
    #[error("shards ran different plans: {a} has plan digest {a_digest}, {b} has {b_digest}")]
    PlanDigests {
        a: String,
        a_digest: String,
        b: String,
        b_digest: String,
    },
    #[error("shards disagree on the shard count: {a} is one of {a_count}, {b} one of {b_count}")]
    Counts {
        a: String,
        a_count: usize,
        b: String,
        b_count: usize,
    },
    #[error("shard {index} appears twice: {a} and {b}")]
    Duplicate { index: usize, a: String, b: String },
    #[error(
        "shard(s) {missing:?} of {count} missing: pass every shard's folder, or --allow-partial"
    )]
    Missing { missing: Vec<usize>, count: usize },
    #[error(
        "{folder}: shard {index} {why}: its figures cover part of its load; merge with \
         --allow-partial to take them as they are"
    )]
    Incomplete {
        folder: String,
        index: usize,
        why: String,
    },
    #[error("{folder}: histogram `{name}` does not decode: {message}")]
    Histogram {
        folder: String,
        name: String,
        message: String,
    },
    #[error("no shard folders to merge")]
    Empty,
}

/// A shard's summary and the folder it came from.
pub struct ShardReport {
    pub folder: String,
    pub summary: Summary,
}

impl ShardReport {
    pub(super) fn info(&self) -> &ShardInfo {
        self.summary.shard.as_ref().expect("checked by `check`")
    }
}
