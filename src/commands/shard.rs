//! `run`'s distributed options: which shard this process is, the run id every shard shares,
//! and the instant they all start at. Flags, or env vars as a Kubernetes Indexed Job sets
//! them (`JOB_COMPLETION_INDEX` with `--shards N`).

use crate::load::drive::SetupError;
pub use crate::load::sharding::{info, plan_digest, Sharding};
use crate::plan::{Plan, Shard};

/// The command line's shard options, before they are checked.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ShardArgs {
    /// Run shard I of N of the plan's users (0-based, e.g. 0/3); the shards together run the plan
    #[arg(long, env = "AGENTLOAD_SHARD", value_name = "I/N")]
    pub shard: Option<String>,
    /// The shard count, with the index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)
    #[arg(long, env = "AGENTLOAD_SHARDS", value_name = "N")]
    pub shards: Option<usize>,
    /// One id shared by every shard of the test (user identities derive from it)
    #[arg(long, env = "AGENTLOAD_RUN_ID", value_name = "ID")]
    pub run_id: Option<String>,
    /// Wait for this instant (RFC 3339) before the load starts, so every shard's ramp lines up
    #[arg(long, env = "AGENTLOAD_START_AT", value_name = "TIME")]
    pub start_at: Option<String>,
}

fn bad(message: String) -> SetupError {
    SetupError::Shard(message)
}

impl ShardArgs {
    /// Checks the options; `completion_index` is `JOB_COMPLETION_INDEX`'s value, if set.
    pub fn resolve(&self, completion_index: Option<&str>) -> Result<Sharding, SetupError> {
        let shard = match (&self.shard, self.shards) {
            (Some(text), count) => {
                let shard = Shard::parse(text).map_err(|m| bad(format!("--shard: {m}")))?;
                if count.is_some_and(|n| n != shard.count) {
                    return Err(bad(format!(
                        "--shard {text} and --shards {} disagree on the shard count",
                        count.unwrap_or(0)
                    )));
                }
                shard
            }
            (None, Some(count)) => {
                let index = completion_index.ok_or_else(|| {
                    bad(format!(
                        "--shards {count} needs this shard's index: --shard I/{count}, or \
                         JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it)"
                    ))
                })?;
                let index: usize = index.trim().parse().map_err(|_| {
                    bad(format!(
                        "JOB_COMPLETION_INDEX=`{index}` is not a shard index"
                    ))
                })?;
                Shard::new(index, count).map_err(|m| bad(format!("--shards: {m}")))?
            }
            (None, None) => Shard::WHOLE,
        };
        let run_id = self.run_id.as_ref().map(|s| s.trim().to_string());
        if run_id.as_deref() == Some("") {
            return Err(bad("--run-id is empty".into()));
        }
        if !shard.is_whole() && run_id.is_none() {
            return Err(bad(format!(
                "shard {shard} needs the run id every shard shares: --run-id ID or AGENTLOAD_RUN_ID"
            )));
        }
        // Empty is unset: a Kubernetes manifest may leave the key blank (start when scheduled).
        let start_at = match self.start_at.as_deref().filter(|t| !t.trim().is_empty()) {
            None => None,
            Some(text) => Some(
                chrono::DateTime::parse_from_rfc3339(text.trim())
                    .map_err(|e| {
                        bad(format!(
                            "--start-at `{text}` is not an RFC 3339 time (e.g. \
                             2026-11-25T14:00:00Z): {e}"
                        ))
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        };
        Ok(Sharding {
            shard,
            run_id,
            start_at,
        })
    }
}

/// The plan as this shard runs it; a shard left without users is refused.
pub fn plan_for(plan: &Plan, sharding: &Sharding) -> Result<Plan, SetupError> {
    let shard = sharding.shard;
    let mine = plan.for_shard(shard);
    if mine.peak_users() == 0 {
        return Err(bad(format!(
            "shard {shard} gets no user: the plan's peak is {} user(s), fewer than {} shards",
            plan.peak_users(),
            shard.count
        )));
    }
    Ok(mine)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(shard: Option<&str>, shards: Option<usize>, run_id: Option<&str>) -> ShardArgs {
        ShardArgs {
            shard: shard.map(String::from),
            shards,
            run_id: run_id.map(String::from),
            start_at: None,
        }
    }

    #[test]
    fn an_indexed_job_gives_the_index() {
        let s = args(None, Some(3), Some("job")).resolve(Some("2")).unwrap();
        assert_eq!(s.shard, Shard::new(2, 3).unwrap());
        let e = args(None, Some(3), Some("job")).resolve(None).unwrap_err();
        assert!(e.to_string().contains("JOB_COMPLETION_INDEX"), "{e}");
    }

    #[test]
    fn bad_combinations_are_one_line_each() {
        let e = args(Some("1/3"), None, None).resolve(None).unwrap_err();
        assert!(e.to_string().contains("--run-id"), "{e}");
        let e = args(Some("1/3"), Some(4), Some("x"))
            .resolve(None)
            .unwrap_err();
        assert!(e.to_string().contains("disagree"), "{e}");
        let mut a = args(None, None, None);
        a.start_at = Some("tomorrow".into());
        assert!(a
            .resolve(None)
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
        assert!(!args(None, None, None).resolve(None).unwrap().is_sharded());
    }
}
