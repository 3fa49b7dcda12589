//! The collector's state: the stripes users record into, the runs folded out of them, the
//! gauges, and each part's figures (`parts`). The files beside it give `Collector` the
//! methods of what each of them tells.

use super::folded::Folded;
use super::parts::breakdown::Breakdowns;
use super::parts::mix::ScenarioMeta;
use super::parts::outages::Outages;
use super::parts::reading::Cached;
use super::parts::sessions::SessionFigures;
use super::parts::throttle::Throttle;
use super::stripe::Shard;
use crate::model::summary::CheckSummary;
use crate::plan::checks::ResultCheck;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};

/// Outcomes go to one of (at most) this many shards by user, so users never wait on one
/// global lock: two per CPU the process may run on. Fewer shards keep the histograms a run
/// feeds in cache.
const MAX_SHARDS: usize = 16;

fn shard_count() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    (2 * cpus).clamp(2, MAX_SHARDS)
}

/// Collects outcomes from every user while the load runs.
pub struct Collector {
    pub(super) shards: Vec<Mutex<Shard>>,
    /// Runs older than the shards' logs keep, folded into tallies (for all shards: one
    /// tally per span, however many shards). Locked after a shard, never before.
    pub(super) folded: Mutex<Folded>,
    pub(super) checks: Vec<ResultCheck>,
    /// Sockets open right now (the sampler reads it).
    pub(super) open: Arc<AtomicI64>,
    /// Runs whose start message was sent, and runs ended (every outcome): what is in flight.
    pub(super) runs_begun: AtomicU64,
    pub(super) runs_ended: AtomicU64,
    pub(super) started: std::time::Instant,
    /// The scenarios of the mix, by index (empty: no per-scenario figures).
    pub(super) mix: Vec<ScenarioMeta>,
    /// `started` on the wall clock, Unix milliseconds (shards' timelines line up on it).
    pub(super) origin_unix_ms: i64,
    /// Windows in which the target could not be reached; `outage_watch` says when a success
    /// needs to look at them (so a healthy test never takes this lock).
    pub(super) outages: Mutex<Outages>,
    pub(super) outage_watch: AtomicBool,
    /// Attempts the platform shed.
    pub(super) throttle: Mutex<Throttle>,
    /// Sessions, when users hold them.
    pub(super) session_figures: Mutex<SessionFigures>,
    /// The last cheap reading (the guard's, the exporter's).
    pub(super) reading: Mutex<Cached>,
    /// Where the time goes: tools, agents, phases, delivery lag.
    pub(super) breakdown: Mutex<Breakdowns>,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Collector")
    }
}

impl Default for Collector {
    fn default() -> Self {
        Collector::new(Vec::new())
    }
}

impl Collector {
    pub fn new(checks: Vec<ResultCheck>) -> Collector {
        Collector::with_mix(checks, Vec::new())
    }

    /// A collector that also breaks figures down by the scenarios of `mix`.
    pub fn with_mix(checks: Vec<ResultCheck>, mix: Vec<ScenarioMeta>) -> Collector {
        let blank = Shard {
            checks: checks
                .iter()
                .map(|c| {
                    let summary = CheckSummary {
                        name: c.name.clone(),
                        rule: c.rule(),
                        required: c.required,
                        ..Default::default()
                    };
                    (summary, Vec::new())
                })
                .collect(),
            ..Default::default()
        };
        Collector {
            shards: (0..shard_count())
                .map(|_| Mutex::new(blank.clone()))
                .collect(),
            folded: Mutex::default(),
            checks,
            open: Arc::new(AtomicI64::new(0)),
            runs_begun: AtomicU64::new(0),
            runs_ended: AtomicU64::new(0),
            started: std::time::Instant::now(),
            mix,
            origin_unix_ms: chrono::Utc::now().timestamp_millis(),
            outages: Mutex::default(),
            outage_watch: AtomicBool::new(false),
            throttle: Mutex::default(),
            session_figures: Mutex::default(),
            reading: Mutex::default(),
            breakdown: Mutex::default(),
        }
    }
}
