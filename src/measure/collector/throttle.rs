//! Shed attempts as the platform's throttler made them: how many, of what (connects, runs,
//! cuts), the first one and the users open then, the reasons, and their count per second.

use super::parts::throttle::Attempt;
use super::state::Collector;
use crate::client::outcome::Failure;
use crate::model::incidents::Throttled;
use std::sync::atomic::Ordering;

impl Collector {
    /// Notes `failure` when the platform shed it.
    pub(super) fn note_throttle(&self, failure: &Failure, attempt: Attempt) {
        if !failure.is_throttled() {
            return;
        }
        let at = self.now_secs();
        let open = self.open.load(Ordering::Relaxed).max(0) as u64;
        let mut t = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        *t.per_second.entry(at as u32).or_default() += 1;
        let seen = t.seen.get_or_insert_with(|| Throttled {
            first_at_s: at,
            first_at_users: open,
            ..Throttled::default()
        });
        seen.count += 1;
        match attempt {
            Attempt::Connect => seen.connects += 1,
            Attempt::Run => seen.runs += 1,
            Attempt::Other => seen.other += 1,
        }
        let reason = failure.reason.clone().unwrap_or_else(|| "unnamed".into());
        *seen.reasons.entry(reason).or_default() += 1;
    }

    /// Shed attempts so far (`None`: the platform shed nothing).
    pub fn throttled(&self) -> Option<Throttled> {
        let t = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = t.seen.clone()?;
        seen.per_second = t
            .per_second
            .iter()
            .map(|(s, n)| (f64::from(*s), *n))
            .collect();
        Some(seen)
    }

    /// Shed attempts that ended in `[from, to)` seconds (whole seconds).
    pub fn throttled_between(&self, from: f64, to: f64) -> u64 {
        let t = self.throttle.lock().unwrap_or_else(|p| p.into_inner());
        t.per_second
            .iter()
            .filter(|(s, _)| (from..to).contains(&f64::from(**s)))
            .map(|(_, n)| n)
            .sum()
    }
}
