//! Fault knobs: the reference target misbehaves on purpose, so every detector of the tool can
//! be shown to fire. Each rate is a per-run (or per-event, for leaks) probability.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct Faults {
    /// Per run: drop the socket mid-run, without a close frame.
    #[arg(long, default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Per run: stop sending mid-run; the run never completes.
    #[arg(long, default_value_t = 0.0)]
    pub stall_rate: f64,
    /// Per run: send agent_thinking before agent_started.
    #[arg(long, default_value_t = 0.0)]
    pub reorder_rate: f64,
    /// Per run: leave out every agent_thinking event.
    #[arg(long, default_value_t = 0.0)]
    pub omit_rate: f64,
    /// Per run: send agent_error mid-run instead of finishing.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Per run: deliver one agent_thinking twice (netra: the copy says `"attempt": 2`, as the
    /// platform's emitter does when it retries a send).
    #[arg(long, default_value_t = 0.0)]
    pub duplicate_rate: f64,
    /// Per run: send one agent_thinking frame of `--giant-frame-mb` MiB mid-run (a server that
    /// floods its clients' memory).
    #[arg(long, default_value_t = 0.0)]
    pub giant_frame_rate: f64,
    /// The size of the giant frame, in MiB.
    #[arg(long, default_value_t = 32)]
    pub giant_frame_mb: usize,
    /// Per request: answer 503 on /health, /auth/health, /auth/token, /auth/refresh.
    #[arg(long = "http-5xx-rate", default_value_t = 0.0)]
    pub http_5xx_rate: f64,
    /// Per event: also deliver a copy to another user's socket (a cross-user data leak).
    #[arg(long, default_value_t = 0.0)]
    pub leak_rate: f64,
    /// Accept any token on the upgrade, or none (an auth bypass).
    #[arg(long)]
    pub accept_bad_tokens: bool,
    /// Map every connection to this one user id (as a platform's demo mode does).
    #[arg(long)]
    pub single_user_id: Option<String>,
}

/// The fault one run gets (at most one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFault {
    Drop,
    Stall,
    Reorder,
    Omit,
    Error,
    Duplicate,
    Giant,
}

/// Faults injected, by kind: the ground truth detections are checked against.
#[derive(Debug, Default)]
pub struct FaultCounters {
    pub drop: AtomicU64,
    pub stall: AtomicU64,
    pub reorder: AtomicU64,
    pub omit: AtomicU64,
    pub error: AtomicU64,
    pub duplicate: AtomicU64,
    pub giant_frame: AtomicU64,
    pub http_5xx: AtomicU64,
    pub leak: AtomicU64,
    pub bad_token_accepted: AtomicU64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FaultStats {
    pub drop: u64,
    pub stall: u64,
    pub reorder: u64,
    pub omit: u64,
    pub error: u64,
    #[serde(default)]
    pub duplicate: u64,
    #[serde(default)]
    pub giant_frame: u64,
    pub http_5xx: u64,
    pub leak: u64,
    pub bad_token_accepted: u64,
}

impl FaultCounters {
    pub fn snapshot(&self) -> FaultStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        FaultStats {
            drop: get(&self.drop),
            stall: get(&self.stall),
            reorder: get(&self.reorder),
            omit: get(&self.omit),
            error: get(&self.error),
            duplicate: get(&self.duplicate),
            giant_frame: get(&self.giant_frame),
            http_5xx: get(&self.http_5xx),
            leak: get(&self.leak),
            bad_token_accepted: get(&self.bad_token_accepted),
        }
    }
}

fn roll(rate: f64) -> bool {
    rate > 0.0 && rand::random::<f64>() < rate
}

impl Faults {
    /// Draws the fault of one run, counting it.
    pub fn pick(&self, counters: &FaultCounters) -> Option<RunFault> {
        let options = [
            (self.drop_rate, RunFault::Drop, &counters.drop),
            (self.stall_rate, RunFault::Stall, &counters.stall),
            (self.reorder_rate, RunFault::Reorder, &counters.reorder),
            (self.omit_rate, RunFault::Omit, &counters.omit),
            (self.error_rate, RunFault::Error, &counters.error),
            (
                self.duplicate_rate,
                RunFault::Duplicate,
                &counters.duplicate,
            ),
            (
                self.giant_frame_rate,
                RunFault::Giant,
                &counters.giant_frame,
            ),
        ];
        options.into_iter().find_map(|(rate, fault, counter)| {
            roll(rate).then(|| {
                counter.fetch_add(1, Ordering::Relaxed);
                fault
            })
        })
    }

    /// Whether this HTTP request gets a 503 (counted).
    pub fn http_5xx(&self, counters: &FaultCounters) -> bool {
        let hit = roll(self.http_5xx_rate);
        if hit {
            counters.http_5xx.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    pub fn leak_now(&self) -> bool {
        roll(self.leak_rate)
    }
}

/// Reorders or trims a run's script for the content faults.
pub fn apply(fault: Option<RunFault>, events: &mut Vec<(&'static str, Value)>) {
    match fault {
        Some(RunFault::Reorder) if events.len() > 1 => events.swap(0, 1),
        Some(RunFault::Omit) => events.retain(|(kind, _)| *kind != "agent_thinking"),
        _ => {}
    }
}

/// Live connections by id, with their user, so a leak can reach another user's socket.
#[derive(Default)]
pub struct Registry {
    live: Mutex<HashMap<u64, (String, super::sink::Sink)>>,
}

impl Registry {
    pub fn add(&self, id: u64, user: &str, sink: super::sink::Sink) {
        self.lock().insert(id, (user.to_string(), sink));
    }

    pub fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Some connection of a user other than `user`.
    pub fn other_than(&self, user: &str) -> Option<super::sink::Sink> {
        self.lock()
            .values()
            .find(|(u, _)| u != user)
            .map(|(_, sink)| sink.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (String, super::sink::Sink)>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }
}
