//! Ground-truth counters of the reference target, served at `/stats`: atomics, and the set
//! of user ids that connected (`/stats/users`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Counters {
    pub connections_open: AtomicU64,
    pub connections_total: AtomicU64,
    pub runs_started: AtomicU64,
    pub runs_completed: AtomicU64,
    pub runs_abandoned: AtomicU64,
    pub events_sent: AtomicU64,
    pub auth_rejections: AtomicU64,
    pub tokens_issued: AtomicU64,
    pub logins_refused: AtomicU64,
    pub tokens_refreshed: AtomicU64,
    pub tokens_expired: AtomicU64,
    /// Runs ended by an injected agent_error.
    pub runs_errored: AtomicU64,
    /// Completed runs whose events were reordered or trimmed on purpose.
    pub runs_completed_faulty: AtomicU64,
    pub resumes: AtomicU64,
    pub faults: super::faults::FaultCounters,
    /// Every user id that opened a socket (once each).
    pub users: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Runs by agent, and HTTP API calls by endpoint.
    pub by_agent: std::sync::Mutex<BTreeMap<String, AgentStats>>,
    pub http: std::sync::Mutex<BTreeMap<String, u64>>,
    pub pings_sent: AtomicU64,
    pub pongs_received: AtomicU64,
    /// Runs started on each thread so far, and runs by their place in their thread.
    pub threads: std::sync::Mutex<Threads>,
}

/// A thread's runs are its session's turns: the first run on a new thread begins a session.
#[derive(Debug, Default)]
pub struct Threads {
    runs: std::collections::HashMap<String, u32>,
    by_turn: Vec<u64>,
}

/// Runs by turn keep a row per turn up to this one; later turns share the last row (as the
/// client's summary does).
const TURN_ROWS: usize = 32;

/// One agent's runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AgentStats {
    pub runs_started: u64,
    pub runs_completed: u64,
}

/// A snapshot of the counters, as `/stats` answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TargetStats {
    pub connections_open: u64,
    pub connections_total: u64,
    pub runs_started: u64,
    pub runs_completed: u64,
    pub runs_abandoned: u64,
    pub events_sent: u64,
    pub auth_rejections: u64,
    pub tokens_issued: u64,
    pub logins_refused: u64,
    /// Tokens handed to an open socket with `token_refresh`.
    pub tokens_refreshed: u64,
    /// Sockets closed because their token lapsed.
    pub tokens_expired: u64,
    pub runs_errored: u64,
    pub runs_completed_faulty: u64,
    /// Runs picked up again on a new socket.
    pub resumes: u64,
    /// Faults injected, by kind.
    pub faults: super::faults::FaultStats,
    /// Distinct user ids that opened a socket.
    #[serde(default)]
    pub users_seen: u64,
    /// Runs by agent (`cost_optimizer`, `triage`, `data_helper`).
    #[serde(default)]
    pub agents: BTreeMap<String, AgentStats>,
    /// HTTP API calls by endpoint (`GET /api/threads`), answered or refused.
    #[serde(default)]
    pub http_requests: BTreeMap<String, u64>,
    #[serde(default)]
    pub pings_sent: u64,
    #[serde(default)]
    pub pongs_received: u64,
    /// Sockets refused past `--max-connections` (429, or netra's `rate_limited` + 1013).
    #[serde(default)]
    pub connections_refused: u64,
    /// Starts refused past `--shed-runs-over` (a `rate_limit_exceeded` error).
    #[serde(default)]
    pub runs_shed: u64,
    /// The shortest wait of a refused user before its next try, in ms.
    #[serde(default)]
    pub retry_gap_min_ms: Option<u64>,
    /// Threads that had a run: sessions.
    #[serde(default)]
    pub sessions: u64,
    /// Runs started, by their place in their thread (index 0: the first run of a thread).
    #[serde(default)]
    pub runs_by_turn: Vec<u64>,
    /// Tool executions by tool: started (`tool_executing` sent) and completed.
    #[serde(default)]
    pub tools: BTreeMap<String, super::tools::ToolStats>,
    /// Runs in flight (begun their events, not ended) now, and the most at once.
    #[serde(default)]
    pub runs_in_flight: u64,
    #[serde(default)]
    pub runs_in_flight_peak: u64,
    /// `--replicas`: each replica's sessions open and runs started.
    #[serde(default)]
    pub replicas: Vec<ReplicaStats>,
    /// `--contention-ms`: seconds the shared lock was held, and seconds runs waited for it.
    #[serde(default)]
    pub lock_busy_secs: f64,
    #[serde(default)]
    pub lock_wait_secs: f64,
}

/// One replica's counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReplicaStats {
    pub sessions_open: u64,
    pub runs_started: u64,
}

pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// `user_id` opened a socket.
    pub fn saw_user(&self, user_id: &str) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if !users.contains(user_id) {
            users.insert(user_id.to_string());
        }
    }

    /// A run of `agent` started (`completed: false`) or completed.
    pub fn agent_run(&self, agent: &str, completed: bool) {
        let mut agents = self.by_agent.lock().unwrap_or_else(|p| p.into_inner());
        let a = agents.entry(agent.to_string()).or_default();
        match completed {
            false => a.runs_started += 1,
            true => a.runs_completed += 1,
        }
    }

    /// A run started on `thread` (a start message naming no thread is no session's).
    pub fn thread_run(&self, thread: Option<&str>) {
        let Some(thread) = thread else { return };
        let mut t = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        let runs = match t.runs.get_mut(thread) {
            Some(n) => {
                *n += 1;
                *n
            }
            None => {
                t.runs.insert(thread.to_string(), 1);
                1
            }
        };
        let row = (runs as usize).min(TURN_ROWS) - 1;
        if t.by_turn.len() <= row {
            t.by_turn.resize(row + 1, 0);
        }
        t.by_turn[row] += 1;
    }

    /// An HTTP API call.
    pub fn http_request(&self, endpoint: &str) {
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        *http.entry(endpoint.to_string()).or_default() += 1;
    }

    /// The user ids that opened a socket, sorted.
    pub fn users(&self) -> Vec<String> {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.iter().cloned().collect()
    }

    pub fn snapshot(&self) -> TargetStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TargetStats {
            connections_open: get(&self.connections_open),
            connections_total: get(&self.connections_total),
            runs_started: get(&self.runs_started),
            runs_completed: get(&self.runs_completed),
            runs_abandoned: get(&self.runs_abandoned),
            events_sent: get(&self.events_sent),
            auth_rejections: get(&self.auth_rejections),
            tokens_issued: get(&self.tokens_issued),
            logins_refused: get(&self.logins_refused),
            tokens_refreshed: get(&self.tokens_refreshed),
            tokens_expired: get(&self.tokens_expired),
            runs_errored: get(&self.runs_errored),
            runs_completed_faulty: get(&self.runs_completed_faulty),
            resumes: get(&self.resumes),
            faults: self.faults.snapshot(),
            users_seen: self.users.lock().map_or(0, |u| u.len() as u64),
            agents: self.by_agent.lock().map(|a| a.clone()).unwrap_or_default(),
            http_requests: self.http.lock().map(|h| h.clone()).unwrap_or_default(),
            pings_sent: get(&self.pings_sent),
            pongs_received: get(&self.pongs_received),
            sessions: self.threads.lock().map_or(0, |t| t.runs.len() as u64),
            runs_by_turn: self
                .threads
                .lock()
                .map(|t| t.by_turn.clone())
                .unwrap_or_default(),
            ..TargetStats::default()
        }
    }
}
