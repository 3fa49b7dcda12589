//! Capacity against a backend that batches (#43): the reference target's `--shared-capacity
//! 2` (up to 2 runs at full speed, every run slower past it, nobody queued), each search
//! checked against a discrete-event simulation of that backend (`common::batch`), on a plan
//! where a queue of 2 slots would answer ~20% higher — a search that assumed a queue, or one
//! that only saw saturation, would miss it. Time is scaled as in `steady`: 5 ms between
//! events (a run of ~33 ms), one-turn sessions, an SLA of 100 ms. The client's overhead is
//! measured, not assumed: unloaded (a run less its delays), and under a load near the knee
//! (a run less what the simulation gives a run there): on two cores a run's CPU, a TLS
//! handshake each in the test build, grows with the load beside it (10 ms unloaded, ~20 at
//! 30/s), which the simulation's constant overhead does not model.

use super::steady::closed;
use crate::common::batch::{self, Backend, Load};
use crate::common::plan::Plan;
use crate::common::queue::Sessions;
use crate::common::serial;
use crate::common::*;
use serde_json::Value;
use std::path::Path;

const CAPACITY: usize = 2;
const EVENTS: u32 = 6;
const DELAY_MS: f64 = 5.0;
const SLA_MS: f64 = 100.0;
/// The closed plan's think time.
const THINK_MS: f64 = 400.0;

/// One-turn sessions (think times never used).
const ONE_TURN: Sessions = Sessions {
    turns: (1, 1),
    think_median: 0.2,
    think_p95: 0.8,
};

fn backend(shared: bool, overhead: f64) -> Backend {
    Backend {
        capacity: CAPACITY,
        shared,
        events: EVENTS,
        delay: DELAY_MS / 1000.0,
        overhead,
    }
}

/// The target that batches, and the client's overhead measured on it (s).
fn measured_target(dir: &Path) -> (TargetProc, f64) {
    let t = TargetProc::start(
        dir,
        &[
            "--event-delay-ms",
            &DELAY_MS.to_string(),
            "--shared-capacity",
            &CAPACITY.to_string(),
        ],
    );
    let unloaded = closed(&t, dir, 1, 3);
    let mean_ms = unloaded["latency"]["agent_run"]["mean_ms"]
        .as_f64()
        .unwrap();
    let overhead = (mean_ms - f64::from(EVENTS) * DELAY_MS).max(0.0) / 1000.0;
    (t, overhead)
}

/// The overhead of a run under `load` (s): a load held 20 s on the target, its run-time P95
/// less the simulation's at that load without overhead (the tail is what the SLA reads, and
/// what the CPU's hiccups widen); never less than `unloaded`.
fn loaded_overhead(t: &TargetProc, dir: &Path, load: Load, unloaded: f64) -> f64 {
    let workload = match load {
        Load::Open { rate, .. } => format!(
            "[workload]\nmodel = \"open\"\nmax_sessions = 2000\nseed = 3\n[session]\nturns = 1\n\
             [[arrivals]]\nrate = \"{rate}/s\"\nduration = \"20s\""
        ),
        Load::Closed { users, .. } => format!(
            "[[stages]]\nusers = {users}\nduration = \"1s\"\n\
             [[stages]]\nusers = {users}\nduration = \"20s\""
        ),
    };
    let dir = dir.join("loaded");
    std::fs::create_dir_all(&dir).unwrap();
    let plan = Plan::against(t, "loaded").with(&format!(
        "[scenario]\nthink_time = \"{THINK_MS}ms\"\n{workload}\n"
    ));
    let out = plan.run(&dir, &[("IT_CLIENT_SECRET", SECRET)]);
    let measured = out.summary()["latency"]["agent_run"]["p95_ms"]
        .as_f64()
        .unwrap();
    beyond_the_model(measured, load, unloaded)
}

/// The overhead a run-time P95 of `measured` ms under `load` shows: what it takes beyond the
/// simulation's P95 there without overhead (s), never less than `unloaded`.
fn beyond_the_model(measured: f64, load: Load, unloaded: f64) -> f64 {
    let model = batch::run_p95(backend(true, 0.0), load, 600.0, 60.0, 7);
    (measured / 1000.0 - model).max(unloaded)
}

/// The overhead of a run at a closed search's `step` (its users, and the overhead in s), as
/// `loaded_overhead` reads it from a load of its own. The users search's first step is held
/// at ~80% of the limit, where `loaded_overhead` held a load of 20 s of its own after the
/// search.
fn step_overhead(step: &Value, think: f64, unloaded: f64) -> (usize, f64) {
    let users = step["users"].as_u64().expect("a step's users") as usize;
    let measured = step["p95_ms"].as_f64().expect("a step's P95");
    let load = Load::Closed { users, think };
    (users, beyond_the_model(measured, load, unloaded))
}

/// `agentload capacity` on a plan with `workload` lines and the `[capacity]` lines.
fn search(t: &TargetProc, dir: &Path, workload: &str, capacity: &str) -> (Value, String) {
    let plan = Plan::against(t, "batch").with(&format!(
        "[scenario]\nthink_time = \"{THINK_MS}ms\"\nrun_timeout = \"10s\"\n\
         {workload}\n[sla]\nagent_run_p95 = \"{SLA_MS}ms\"\nerror_rate = \"1%\"\n\
         [capacity]\n{capacity}\n"
    ));
    let path = plan.write(dir, &dir.join("r"));
    let (out, _, cap) = capacity_search(&path, &[], dir, "r");
    (cap, explain(&out))
}

/// What every search against the batching target must show: runs did batch past the
/// capacity (the target's high-water mark), and no utilization above 100% is claimed: a
/// share of a throughput the steps measured at its most, or, with none measured, only what
/// is known ("completes at least …").
fn batched_and_never_over_full(t: &TargetProc, cap: &Value, context: &str) {
    let peak = t.stats()["runs_in_flight_peak"].as_u64().unwrap();
    assert!(peak > CAPACITY as u64, "peak {peak}\n{context}");
    match cap["utilization_percent"].as_f64() {
        Some(share) => {
            assert!(share <= 100.0, "{context}");
            assert_eq!(cap["max_throughput_measured"], true, "{context}");
        }
        None => {
            assert_ne!(cap["max_throughput_measured"], true, "{context}");
            assert!(context.contains("completes at least"), "{context}");
        }
    }
}

#[test]
fn the_simulations_of_a_batch_and_of_a_queue_part_on_this_plan() {
    // The plan the searches run: a queue of 2 slots sustains ~20% more than the backend that
    // batches (its runs go at full speed until the 5% that wait). More than 15% apart.
    let sla = SLA_MS / 1000.0;
    let shared = batch::rate_limit(backend(true, 0.003), ONE_TURN, sla, 1200.0);
    let queue = batch::rate_limit(backend(false, 0.003), ONE_TURN, sla, 1200.0);
    assert!(
        queue > 1.15 * shared,
        "shared {shared:.2}/s, queue {queue:.2}/s"
    );
    // The queue of this simulation is `common::queue`'s, event by event.
    let q = crate::common::queue::Queue {
        slots: CAPACITY,
        service: 0.030,
        overhead: 0.003,
    };
    let whole = crate::common::queue::limit(q, ONE_TURN, sla, 1200.0);
    assert!(
        (queue / whole - 1.0).abs() < 0.03,
        "{queue:.2}/s, {whole:.2}/s"
    );
}

/// In `just bench`: a backend that batches has no steep knee (its runs slow together, its
/// P95 climbs gently with the load), so a level within 10% of its limit reads a P95 within a
/// few percent of the SLA's, which a 90% interval shows only after minutes; held 30–90 s a
/// step, the search answers ~15% under (shown within at ~30/s, not shown either way at
/// 33–36/s where the target's P95 reads 94–98 ms against 100).
#[test]
#[ignore = "minutes; `just bench` runs it (cargo test --test suite measuring:: -- --ignored)"]
fn the_rate_search_finds_the_steady_limit_of_a_backend_that_batches() {
    let _one = serial::measuring();
    let dir = tempfile::tempdir().unwrap();
    let (t, overhead) = measured_target(dir.path());
    let (cap, out) = search(
        &t,
        dir.path(),
        "[workload]\nmodel = \"open\"\nmax_sessions = 2000\n[session]\nturns = 1\n\
         [[arrivals]]\nrate = \"1/s\"\nduration = \"10s\"",
        "start_rate = \"24/s\"\nfactor = 1.5\nmax_rate = \"90/s\"\nrate_resolution = \"3/s\"\n\
         step_hold = \"30s\"\nmax_hold = \"90s\"",
    );
    let sla = SLA_MS / 1000.0;
    let near = 0.8 * batch::rate_limit(backend(true, overhead), ONE_TURN, sla, 1200.0);
    let open = Load::Open {
        rate: near,
        sessions: ONE_TURN,
    };
    let loaded = loaded_overhead(&t, dir.path(), open, overhead);
    let truth = batch::rate_limit(backend(true, loaded), ONE_TURN, sla, 1200.0);
    let queue = batch::rate_limit(backend(false, loaded), ONE_TURN, sla, 1200.0);
    let found = cap["max_rate"].as_f64().expect("a limit");
    let context = format!(
        "found {found}/s; the simulation of the backend that batches: {truth:.2}/s (a queue of \
         {CAPACITY}: {queue:.2}/s; overhead {:.1} ms measured unloaded, {:.1} ms at {near:.1}/s)\n\
         {out}",
        overhead * 1000.0,
        loaded * 1000.0
    );
    eprintln!("{context}");
    assert!((found / truth - 1.0).abs() <= 0.10, "{context}");
    batched_and_never_over_full(&t, &cap, &context);
}

/// In CI's measuring phase (#49): a closed search has no arrivals' noise to credit, and its
/// seats climb to the knee in whole users, so it lands within 10% in ~2 minutes (29 users
/// against the simulation's 30). It starts near the knee (24 users, then 30): the steps far
/// under it tell nothing this test checks, and its first step gives the overhead of a run
/// under load (`step_overhead`).
#[test]
fn the_users_search_finds_the_steady_limit_of_a_backend_that_batches() {
    let _one = serial::measuring();
    let dir = tempfile::tempdir().unwrap();
    let (t, overhead) = measured_target(dir.path());
    let (cap, out) = search(
        &t,
        dir.path(),
        "[[stages]]\nusers = 1\nduration = \"1s\"",
        "start_users = 24\nfactor = 1.25\nstep_ramp = \"1s\"\nstep_hold = \"20s\"\nmax_hold = \"90s\"\n\
         ceiling = 80\nresolution = 1",
    );
    let sla = SLA_MS / 1000.0;
    let think = THINK_MS / 1000.0;
    let (near, loaded) = step_overhead(&cap["steps"][0], think, overhead);
    let truth = batch::users_limit(backend(true, loaded), think, sla, 600.0);
    let found = cap["max_users"].as_u64().expect("a limit") as usize;
    let context = format!(
        "found {found} users; the simulation of the backend that batches: {truth} users \
         (overhead {:.1} ms measured unloaded, {:.1} ms at {near} users)\n{out}",
        overhead * 1000.0,
        loaded * 1000.0
    );
    eprintln!("{context}");
    assert!(
        found.abs_diff(truth) as f64 <= 0.10 * truth as f64,
        "{context}"
    );
    batched_and_never_over_full(&t, &cap, &context);
}
