//! `GET /metrics`: the target's ground truth in the Prometheus text format, as the platform's
//! backend publishes it (`prometheus_client`, outside authentication): its process's memory
//! and CPU (the names every official client library writes), open connections, runs started
//! and completed, events sent. Tests read it by URL, as a remote deployment is read.

use super::state::State;
use std::fmt::Write;

/// The exposition, text format 0.0.4.
pub fn render(state: &State) -> String {
    let s = state.stats();
    let (rss, cpu) = process();
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        rss,
    );
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        cpu,
    );
    let c = |n: u64| n as f64;
    metric(
        "agent_connections_open",
        "gauge",
        "WebSocket connections open.",
        c(s.connections_open),
    );
    metric(
        "agent_connections_total",
        "counter",
        "WebSocket connections accepted.",
        c(s.connections_total),
    );
    metric(
        "agent_runs_started_total",
        "counter",
        "Agent runs started.",
        c(s.runs_started),
    );
    metric(
        "agent_runs_completed_total",
        "counter",
        "Agent runs completed.",
        c(s.runs_completed),
    );
    metric(
        "agent_events_sent_total",
        "counter",
        "Agent events sent.",
        c(s.events_sent),
    );
    if state.replicas.lock.is_some() {
        metric(
            "agent_lock_busy_seconds_total",
            "counter",
            "Seconds the lock every replica shares was held.",
            s.lock_busy_secs,
        );
        metric(
            "agent_lock_wait_seconds_total",
            "counter",
            "Seconds runs waited for the shared lock.",
            s.lock_wait_secs,
        );
    }
    for (name, kind, help, pick) in [
        (
            "agent_replica_sessions_open",
            "gauge",
            "Sockets open on each backend replica.",
            (|r: &super::stats::ReplicaStats| r.sessions_open) as fn(&_) -> u64,
        ),
        (
            "agent_replica_runs_total",
            "counter",
            "Runs started on each backend replica.",
            |r: &super::stats::ReplicaStats| r.runs_started,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (i, r) in s.replicas.iter().enumerate() {
            let _ = writeln!(out, "{name}{{replica=\"{i}\"}} {}", pick(r));
        }
    }
    out
}

/// This process's resident memory (bytes) and CPU time (seconds), from /proc/self.
fn process() -> (f64, f64) {
    // SAFETY: sysconf reads constants of the running system.
    let (page, ticks) = unsafe {
        (
            libc::sysconf(libc::_SC_PAGESIZE) as f64,
            libc::sysconf(libc::_SC_CLK_TCK) as f64,
        )
    };
    let rss = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| t.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * page);
    // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|t| {
            let rest = t.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks.max(1.0))
        })
        .unwrap_or(0.0);
    (rss, cpu)
}
