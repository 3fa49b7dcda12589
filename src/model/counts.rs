//! The counters a summary (and each scenario of a mix) keeps: runs, connections, failures by
//! kind.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunCounts {
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    /// Reconnect-and-resume rounds (a run may need more than one).
    #[serde(default)]
    pub resumed: u64,
    /// Runs still open when a stop's grace ran out (SIGTERM, Ctrl-C): started, neither
    /// completed nor failed, and not in the error rate.
    #[serde(default)]
    pub interrupted: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConnectionCounts {
    pub attempted: u64,
    pub established: u64,
    pub failed: u64,
    pub closed_cleanly: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FailureBucket {
    pub count: u64,
    /// The first message seen of this kind.
    pub example: String,
}

pub fn add_failures(
    into: &mut BTreeMap<String, FailureBucket>,
    from: &BTreeMap<String, FailureBucket>,
) {
    for (kind, b) in from {
        let m = into.entry(kind.clone()).or_default();
        if m.count == 0 {
            m.example = b.example.clone();
        }
        m.count += b.count;
    }
}
