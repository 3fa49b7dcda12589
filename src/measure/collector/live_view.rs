//! What the live line needs while a load test runs: counts so far and the last interval's
//! figures, read without stopping the users for long (each shard is locked in turn).

use super::folded::KEEP_SECS;
use super::record::WindowStats;
use super::state::Collector;
use super::stripe::Shard;
use super::timeline::{window_stats, Gathered};
use std::sync::atomic::Ordering;

/// A moment of a running load test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveStats {
    /// Seconds since the collector was made (the load test's start).
    pub elapsed_secs: f64,
    pub runs_started: u64,
    pub runs_completed: u64,
    pub runs_failed: u64,
    /// Sockets open right now.
    pub open_sockets: i64,
    /// The most frequent failure kind so far, and all failures (runs and connects).
    pub top_failure: Option<(String, u64)>,
    pub failures: u64,
    /// Runs that ended in the last `interval` seconds.
    pub last_interval: WindowStats,
    /// How long the target has been unreachable, during an outage.
    pub unreachable_secs: Option<f64>,
    /// Sessions so far: started, completed, failed or cut, dropped (`None`: no sessions).
    pub sessions: Option<(u64, u64, u64, u64)>,
}

/// Records end out of order by at most a lock wait: read this far past the window's start
/// from each shard's tail, then keep exactly the window.
const SLACK_SECS: f32 = 1.0;

impl Collector {
    /// Sockets open right now.
    pub fn open_sockets(&self) -> i64 {
        self.open.load(std::sync::atomic::Ordering::Relaxed).max(0)
    }

    /// Runs started so far (each shard locked in turn).
    pub fn runs_started(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .counts
                    .runs
                    .started
            })
            .sum()
    }

    /// A run's start message is about to be sent: it is in flight until it is finished.
    pub fn run_began(&self) {
        self.runs_begun.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs begun and runs ended so far (a capacity step's samples).
    pub fn runs_begun_ended(&self) -> (u64, u64) {
        // Ended first: a run never reads as ended before it began.
        let ended = self.runs_ended.load(Ordering::Acquire);
        (self.runs_begun.load(Ordering::Acquire).max(ended), ended)
    }

    /// When the collector was made: the origin of the load test's clock.
    pub fn origin(&self) -> std::time::Instant {
        self.started
    }

    pub fn live(&self, interval_secs: f64) -> LiveStats {
        let elapsed = self.started.elapsed().as_secs_f64();
        let from = elapsed - interval_secs;
        let mut live = LiveStats {
            elapsed_secs: elapsed,
            open_sockets: self.open.load(std::sync::atomic::Ordering::Relaxed),
            unreachable_secs: self.unreachable_for(),
            sessions: self.session_counts(),
            ..LiveStats::default()
        };
        let mut by_kind = std::collections::BTreeMap::<String, u64>::new();
        let mut recent = Gathered::default();
        let mut add = |sh: &Shard| {
            live.runs_started += sh.counts.runs.started;
            live.runs_completed += sh.counts.runs.completed;
            live.runs_failed += sh.counts.runs.failed;
            for (kind, bucket) in &sh.counts.failures {
                *by_kind.entry(kind.clone()).or_default() += bucket.count;
            }
            sh.log
                .iter()
                .rev()
                .take_while(|r| r.ended_secs >= from as f32 - SLACK_SECS)
                .filter(|r| f64::from(r.ended_secs) >= from)
                .for_each(|r| recent.record(r));
        };
        if interval_secs < f64::from(KEEP_SECS) {
            // The interval is all in the shards' logs: each shard is locked in turn.
            for shard in &self.shards {
                add(&shard.lock().unwrap_or_else(|p| p.into_inner()));
            }
        } else {
            let (shards, folded) = self.all();
            shards.iter().for_each(|sh| add(sh));
            folded
                .starting_in(from, f64::INFINITY)
                .for_each(|(_, t)| recent.tally(t));
        }
        live.failures = by_kind.values().sum();
        live.top_failure = by_kind.into_iter().max_by_key(|(_, n)| *n);
        live.last_interval = window_stats(recent, interval_secs);
        live
    }
}
