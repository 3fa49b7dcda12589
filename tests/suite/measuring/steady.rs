//! Capacity a deployment can sustain (#33): the search's answer against the ground truth, a
//! discrete-event simulation of the reference target's queue (8 slots served in order, each
//! run holding one for the service time) fed by the plan's own sessions. Queues scale with
//! time, so the plan is the enterprise-onboarding plan at a tenth: 5 ms between events (a run
//! of ~40 ms where the full size has ~310 ms), think times and the SLA a tenth.
//!
//! The service time and the client's overhead are measured, not assumed: the service from the
//! target's throughput when it is saturated (slots / runs per second, the median second of a
//! saturating load before the search and one after), the overhead from an unloaded run less
//! the service.

use crate::common::plan::Plan;
use crate::common::queue::{self, Queue, Sessions};
use crate::common::serial;
use crate::common::*;
use serde_json::Value;
use std::path::Path;

const SLOTS: usize = 8;
const SLA_MS: f64 = 140.0;

/// A closed load of `users` (think 20 ms) for `secs` s after a 1 s ramp: its summary.
pub(super) fn closed(t: &TargetProc, dir: &Path, users: usize, secs: u32) -> Value {
    let dir = dir.join(format!("closed-{users}"));
    std::fs::create_dir_all(&dir).unwrap();
    let plan = Plan::against(t, "measure").with(&format!(
        "[scenario]\nthink_time = \"20ms\"\n\
         [[stages]]\nusers = {users}\nduration = \"1s\"\n[[stages]]\nusers = {users}\nduration = \"{secs}s\"\n"
    ));
    let out = plan.run(&dir, &[("IT_CLIENT_SECRET", SECRET)]);
    out.summary().clone()
}

/// Completed runs in each second of a saturating load (32 users, the seconds 2..7 of 6 s held):
/// the deployment's throughput when every slot is busy.
fn saturated_seconds(t: &TargetProc, dir: &Path, tag: &str) -> Vec<f64> {
    let dir = dir.join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let saturated = closed(t, &dir, 32, 6);
    saturated["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| (2.0..7.0).contains(&p["at_secs"].as_f64().unwrap()))
        .map(|p| p["runs_completed"].as_f64().unwrap())
        .collect()
}

/// The queue as measured: the service from the saturated throughput (the median second of
/// `seconds`: a second the machine spent elsewhere does not move it), the overhead from one
/// user's mean run less the service.
fn queue_of(t: &TargetProc, dir: &Path, seconds: &[f64]) -> Queue {
    let mut busy = seconds.to_vec();
    busy.sort_by(f64::total_cmp);
    let per_sec = busy[busy.len() / 2];
    let service = SLOTS as f64 / per_sec;
    let unloaded = closed(t, dir, 1, 3);
    let mean_ms = unloaded["latency"]["agent_run"]["mean_ms"]
        .as_f64()
        .unwrap();
    Queue {
        slots: SLOTS,
        service,
        overhead: (mean_ms / 1000.0 - service).max(0.0),
    }
}

/// The reference target with 8 slots of a ~40 ms run.
fn target(dir: &Path) -> TargetProc {
    let flags = [
        "--event-delay-ms",
        "5",
        "--max-concurrent-runs",
        &SLOTS.to_string(),
    ];
    TargetProc::start(dir, &flags)
}

/// The reference target, and its queue as measured.
fn measured_target(dir: &Path) -> (TargetProc, Queue) {
    let t = target(dir);
    let seconds = saturated_seconds(&t, dir, "before");
    let q = queue_of(&t, dir, &seconds);
    (t, q)
}

/// Runs `agentload capacity` on an open plan of sessions of 3..8 turns with `think` and the
/// plan's `[capacity]` lines: its exit, output and `capacity.json`. No seed: each run draws
/// its own arrivals (a seeded search reads one stretch of one stream every run: seed 5's ran
/// 9% short where the holds near the knee fell, and its searches answered low run after run).
fn search(t: &TargetProc, dir: &Path, think: &str, capacity: &str) -> (Value, String) {
    let plan = Plan::against(t, "steady").with(&format!(
        "[scenario]\nthink_time = \"{think}\"\nrun_timeout = \"10s\"\n\
         [workload]\nmodel = \"open\"\nmax_sessions = 2000\n\
         [session]\nturns = \"3..8\"\n[[arrivals]]\nrate = \"1/s\"\nduration = \"10s\"\n\
         [sla]\nagent_run_p95 = \"{SLA_MS}ms\"\nerror_rate = \"1%\"\n\
         [capacity]\n{capacity}\n"
    ));
    let path = plan.write(dir, &dir.join("r"));
    let (out, _, cap) = capacity_search(&path, &[], dir, "r");
    (cap, explain(&out))
}

/// No step at or above the 100%-utilization rate `full` passed, nor is the answer there.
fn nothing_passed_at_or_above(cap: &Value, full: f64, context: &str) {
    for step in cap["steps"].as_array().unwrap() {
        let rate = step["rate"].as_f64().unwrap();
        assert!(rate < full || step["passed"] == false, "{step}\n{context}");
    }
    if let Some(found) = cap["max_rate"].as_f64() {
        assert!(found < full, "{context}");
    }
}

/// Searches the sustainable rate of sessions of 3..8 turns with `think` (a tenth of people's)
/// and checks it against the simulation's.
fn search_against_the_simulation(median_ms: u64, p95_ms: u64, resolution: &str) {
    let _one = serial::measuring();
    let dir = tempfile::tempdir().unwrap();
    let t = target(dir.path());
    // The deployment's throughput saturated, before the search and after it: the service
    // time is read from both (the machine's pace over the whole test).
    let before = saturated_seconds(&t, dir.path(), "before");
    // Holds of 10 s: a pass is credited less 0.7 of the sessions' slow swing over its hold
    // (7% on 6-s holds at ~32/s, 5% on 10-s ones), and the machine's own knee moves a few %
    // from run to run; on 6-s holds one CI run in seven answered just past 10% under.
    let (cap, out) = search(
        &t,
        dir.path(),
        &format!("lognormal({median_ms}ms, p95={p95_ms}ms)"),
        &format!(
            "start_rate = \"25/s\"\nfactor = 1.5\nmax_rate = \"60/s\"\n\
             rate_resolution = \"{resolution}\"\nstep_hold = \"10s\""
        ),
    );
    let after = saturated_seconds(&t, dir.path(), "after");
    let q = queue_of(&t, dir.path(), &[before, after].concat());
    let sessions = Sessions {
        turns: (3, 8),
        think_median: median_ms as f64 / 1000.0,
        think_p95: p95_ms as f64 / 1000.0,
    };
    let truth = queue::limit(q, sessions, SLA_MS / 1000.0, 1500.0);
    let full = SLOTS as f64 / q.service / 5.5;
    let found = cap["max_rate"].as_f64().expect("a limit");
    let context = format!(
        "found {found}/s; the simulation's steady-state limit {truth:.2}/s, 100% utilization at \
         {full:.2}/s (service {:.1} ms measured saturated, overhead {:.1} ms measured unloaded); \
         ceiling {} runs/s at {} (measured: {})\n{out}",
        q.service * 1000.0,
        q.overhead * 1000.0,
        cap["max_throughput"],
        cap["max_throughput_at"],
        cap["max_throughput_measured"],
    );
    eprintln!("{context}");
    assert!((found / truth - 1.0).abs() <= 0.10, "{context}");
    nothing_passed_at_or_above(&cap, full, &context);
}

#[test]
fn the_answer_is_the_steady_state_limit_with_short_think_times() {
    // A finer resolution: the answer is the last rate that held, up to a resolution below.
    search_against_the_simulation(500, 2000, "1/s");
}

/// In `just bench`: CI's measuring phase holds the short-think search, the users search of a
/// backend that batches and the sharded search, and stays under 12 minutes on a fresh clone.
/// The full-size people's-think search (`loadplans/enterprise-onboarding.toml` with these
/// think times) is run by hand for #49's figures; the transient check stays in CI
/// (`a_hold_that_cannot_reach_steady_state_never_passes_a_saturating_rate`).
#[test]
#[ignore = "minutes; `just bench` runs it (cargo test --test suite measuring:: -- --ignored)"]
fn the_answer_is_the_steady_state_limit_with_peoples_think_times() {
    search_against_the_simulation(1500, 6000, "2/s");
}

#[test]
fn the_simulation_reproduces_the_limit_of_the_issue() {
    // The full-size plan: 8 slots of 0.31 s, think lognormal(5 s, p95 20 s), 3..8 turns: the
    // steady-state run P95 reaches 1 s at about 4.3/s (4.69/s is 100% utilization); a
    // Python simulation of the same queue over 4 hours found 4.28/s.
    let q = Queue {
        slots: 8,
        service: 0.31,
        overhead: 0.0,
    };
    let sessions = Sessions {
        turns: (3, 8),
        think_median: 5.0,
        think_p95: 20.0,
    };
    let found = queue::limit(q, sessions, 1.0, 15_000.0);
    assert!((4.15..4.45).contains(&found), "{found}");
}

#[test]
fn a_hold_that_cannot_reach_steady_state_never_passes_a_saturating_rate() {
    // Long sessions (people's think times: ~10 s at a tenth), a ramp of 1 s, a hold of 2 s and
    // no room to hold longer: steps fill for longer than they are held. Whatever such a step
    // measures, none at or above the 100%-utilization rate passes: such a step fails as not
    // sustainable, or as not shown (too few runs to show a P95 within the limit).
    let _one = serial::measuring();
    let dir = tempfile::tempdir().unwrap();
    let (t, q) = measured_target(dir.path());
    let full = SLOTS as f64 / q.service / 5.5;
    let (cap, out) = search(
        &t,
        dir.path(),
        "lognormal(1500ms, p95=6000ms)",
        "start_rate = \"20/s\"\nfactor = 1.25\nmax_rate = \"60/s\"\nrate_resolution = \"2/s\"\n\
         step_ramp = \"1s\"\nstep_hold = \"2s\"\nmax_hold = \"2s\"",
    );
    let context = format!("100% utilization at {full:.2}/s\n{out}");
    nothing_passed_at_or_above(&cap, full, &context);
    let steps = cap["steps"].as_array().unwrap();
    // The search found its limit below the saturating rate: a step failed.
    assert!(steps.iter().any(|s| s["passed"] == false), "{context}");
}
