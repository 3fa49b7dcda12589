//! What a shard is: its place among the shards, the run id they share, the instant they all
//! start at, and the metadata its `summary.json` carries.

use crate::model::shard::ShardInfo;
use crate::plan::Shard;
use sha2::Digest;

/// What the shard options resolve to.
#[derive(Debug, Clone, Default)]
pub struct Sharding {
    pub shard: Shard,
    pub run_id: Option<String>,
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Sharding {
    pub fn is_sharded(&self) -> bool {
        !self.shard.is_whole() || self.run_id.is_some()
    }
}

/// The shard metadata `summary.json` carries.
pub fn info(sharding: &Sharding, plan_text: &[u8], users: usize) -> ShardInfo {
    let mut sys_host = sysinfo::System::host_name().unwrap_or_default();
    if sys_host.is_empty() {
        sys_host = std::env::var("HOSTNAME").unwrap_or_else(|_| "unknown".into());
    }
    ShardInfo {
        index: sharding.shard.index,
        count: sharding.shard.count,
        run_id: sharding.run_id.clone().unwrap_or_default(),
        plan_digest: plan_digest(plan_text),
        host: sys_host,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        users,
        start_at: sharding.start_at.map(|t| t.to_rfc3339()),
    }
}

/// SHA-256 of the plan file's bytes, hex.
pub fn plan_digest(text: &[u8]) -> String {
    sha2::Sha256::digest(text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
