//! Isolation: every frame a user receives is scanned for another user's identity — its
//! canary (a secret-shaped marker sent with each run), its user id or its run ids, all of which
//! carry the load test's tag and the user's number. Zero tolerance: one hit is a violation.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Most leak examples kept for the report.
const MAX_EXAMPLES: usize = 10;

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
    /// Set when two or more users were all given the same user id by the server.
    pub suspected_auth_bypass: Option<String>,
}

/// Shared by every user of a load test.
pub struct Isolation {
    user_prefix: String,
    canary_prefix: String,
    violations: AtomicU64,
    examples: Mutex<Vec<LeakExample>>,
    welcome_ids: Mutex<BTreeMap<usize, String>>,
}

impl Isolation {
    pub fn new(run_tag: &str) -> Isolation {
        Isolation {
            user_prefix: format!("agentload-{run_tag}-u"),
            canary_prefix: format!("sk-{run_tag}u"),
            violations: AtomicU64::new(0),
            examples: Mutex::new(Vec::new()),
            welcome_ids: Mutex::new(BTreeMap::new()),
        }
    }

    /// A fresh canary for `user`, shaped like an API key.
    pub fn canary(&self, user: usize) -> String {
        format!(
            "{}{user}x{:016x}",
            self.canary_prefix,
            rand::random::<u64>()
        )
    }

    /// The first other user whose identity `frame` carries.
    pub fn foreign_owner(&self, me: usize, frame: &str) -> Option<usize> {
        [&self.user_prefix, &self.canary_prefix]
            .into_iter()
            .flat_map(|prefix| numbers_after(frame, prefix))
            .find(|owner| *owner != me)
    }

    /// Checks a frame received by `me`; records and returns the owner on a leak.
    pub fn check(&self, me: usize, frame: &str) -> Option<usize> {
        let owner = self.foreign_owner(me, frame)?;
        self.violations.fetch_add(1, Ordering::Relaxed);
        let mut examples = self.examples.lock().unwrap_or_else(|p| p.into_inner());
        if examples.len() < MAX_EXAMPLES {
            examples.push(LeakExample {
                receiver: me,
                owner,
                excerpt: crate::protocol::excerpt(frame),
            });
        }
        Some(owner)
    }

    /// Notes the user id the server's welcome gave `user`.
    pub fn welcomed(&self, user: usize, user_id: &str) {
        self.welcome_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user, user_id.to_string());
    }

    pub fn summary(&self) -> IsolationSummary {
        let ids = self.welcome_ids.lock().unwrap_or_else(|p| p.into_inner());
        let mut distinct: Vec<&String> = ids.values().collect();
        distinct.sort();
        distinct.dedup();
        let bypass = (ids.len() >= 2 && distinct.len() == 1).then(|| distinct[0].clone());
        IsolationSummary {
            violations: self.violations.load(Ordering::Relaxed),
            examples: self
                .examples
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            users_welcomed: ids.len() as u64,
            distinct_user_ids: distinct.len() as u64,
            suspected_auth_bypass: bypass,
        }
    }
}

/// Every number written right after `prefix` in `text`.
fn numbers_after<'a>(text: &'a str, prefix: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(prefix).filter_map(move |(at, _)| {
        let rest = &text[at + prefix.len()..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        rest[..digits].parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_other_users_ids_and_canaries_only() {
        let iso = Isolation::new("abc123");
        let mine = r#"{"run_id":"agentload-abc123-u7-r3","user_id":"agentload-abc123-u7"}"#;
        assert_eq!(iso.check(7, mine), None);
        // u70 is not u7: numbers are read whole.
        let other = r#"{"run_id":"agentload-abc123-u70-r1"}"#;
        assert_eq!(iso.check(7, other), Some(70));
        let canary = iso.canary(12);
        assert!(canary.starts_with("sk-abc123u12x"));
        assert_eq!(
            iso.check(3, &format!(r#"{{"data":{{"canary":"{canary}"}}}}"#)),
            Some(12)
        );
        // Another load test's ids are not this one's users.
        assert_eq!(iso.check(7, r#"{"user_id":"agentload-ffffff-u9"}"#), None);
        let s = iso.summary();
        assert_eq!(s.violations, 2);
        assert_eq!(s.examples[0].owner, 70);
    }

    #[test]
    fn one_id_for_every_user_is_a_suspected_bypass() {
        let iso = Isolation::new("t");
        iso.welcomed(0, "demo-user-001");
        assert_eq!(
            iso.summary().suspected_auth_bypass,
            None,
            "one user proves nothing"
        );
        iso.welcomed(1, "demo-user-001");
        assert_eq!(
            iso.summary().suspected_auth_bypass.as_deref(),
            Some("demo-user-001")
        );
        iso.welcomed(2, "someone-else");
        assert_eq!(iso.summary().suspected_auth_bypass, None);
    }
}
