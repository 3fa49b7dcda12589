//! Security and isolation findings: cross-user data seen, users told apart or not, bad
//! tokens the target accepted.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LeakExample {
    /// The user that received the frame.
    pub receiver: usize,
    /// The user whose data it carried.
    pub owner: usize,
    pub excerpt: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IsolationSummary {
    pub violations: u64,
    pub examples: Vec<LeakExample>,
    /// Users whose welcome named a user id.
    pub users_welcomed: u64,
    pub distinct_user_ids: u64,
    /// The count of distinct ids is an estimate (past a few thousand, within a few percent).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distinct_estimated: bool,
    /// Set when two or more users were all given the same user id by the server.
    pub suspected_auth_bypass: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SecuritySummary {
    pub probes: u64,
    pub refused: u64,
    /// Bad tokens the target accepted, by kind: each one a critical failure.
    pub accepted: BTreeMap<String, u64>,
}
