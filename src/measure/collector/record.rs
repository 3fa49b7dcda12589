//! What the collector's parts share: one run as the timeline keeps it, a window's figures,
//! and a lock that outlives a panicked holder.

use crate::client::outcome::Failure;
use crate::model::summary::FailureBucket;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// One run as the timeline needs it: 12 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunRecord {
    /// When the run ended, seconds since the collector was made.
    pub ended_secs: f32,
    pub elapsed_ms: f32,
    pub ok: bool,
}

impl RunRecord {
    /// The run's time, as the histograms take it.
    pub(crate) fn elapsed(&self) -> Duration {
        Duration::from_secs_f64(f64::from(self.elapsed_ms) / 1000.0)
    }
}

/// What happened in a time window: the figures an SLA step is judged on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowStats {
    pub runs: u64,
    pub completed: u64,
    pub failed: u64,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub error_rate_percent: f64,
    pub runs_per_sec: f64,
}

/// A lock a panicking user left poisoned still holds every other user's figures.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn add_failure(failures: &mut BTreeMap<String, FailureBucket>, f: &Failure) {
    let bucket = failures.entry(f.kind.clone()).or_default();
    if bucket.count == 0 {
        bucket.example = f.message.clone();
    }
    bucket.count += 1;
}

/// The entry for `key`, made on first use; the key is copied only then (this runs for every
/// event of every run).
pub(super) fn slot<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}
