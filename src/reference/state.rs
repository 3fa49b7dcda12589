//! What every handler of the reference target shares: its arguments, keys, counters, runs,
//! replicas and limits.

use super::args::TargetArgs;
use super::{batch, faults, replay, replicas, runs, shedding, stats, tokens, tools};
use std::sync::Arc;

/// What every handler shares.
pub struct State {
    pub args: TargetArgs,
    pub keys: tokens::Keys,
    pub bypass_key: Option<String>,
    pub counters: stats::Counters,
    pub registry: faults::Registry,
    pub runs: runs::Runs,
    /// The backend's replicas (one by default): their slots and batches, and their lock.
    pub replicas: replicas::Replicas,
    /// Runs in flight across the replicas, and their high-water mark.
    pub batch: batch::Batch,
    pub shedding: shedding::Shedding,
    pub tools: tools::Tools,
    /// `--replay`: the recording served instead of the reference agents.
    pub replay: Option<Arc<replay::Replay>>,
}

impl State {
    /// The counters as `/stats` answers, with the throttler's.
    pub fn stats(&self) -> stats::TargetStats {
        use std::sync::atomic::Ordering::Relaxed;
        let mut s = self.counters.snapshot();
        s.connections_refused = self.shedding.connections_refused.load(Relaxed);
        s.runs_shed = self.shedding.runs_shed.load(Relaxed);
        s.retry_gap_min_ms = self.shedding.retry_gap_min_ms();
        s.tools = self.tools.stats();
        s.runs_in_flight = self.batch.in_flight();
        s.runs_in_flight_peak = self.batch.peak();
        s.replicas = self
            .replicas
            .counts()
            .into_iter()
            .map(|(sessions_open, runs_started)| stats::ReplicaStats {
                sessions_open,
                runs_started,
            })
            .collect();
        if let Some(lock) = &self.replicas.lock {
            (s.lock_busy_secs, s.lock_wait_secs) = lock.seconds();
        }
        s
    }
}
