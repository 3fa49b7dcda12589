//! Sessions and seats (#28), against the reference target's own counters: Poisson arrivals on
//! a healthy target (the rate, Little's law, sessions and runs by turn equal to the target's,
//! in both wire dialects); the open model over capacity (arrivals dropped and counted, first
//! turns growing from when they were due) beside the closed model on the same target (flat).

use crate::common::plan::Plan;
use crate::common::*;
use serde_json::Value;

struct Sessions {
    out: RunOutput,
    stats: Value,
    _dir: tempfile::TempDir,
}

/// Runs `load` (the workload's keys) against a target with `flags`, in `profile`.
fn run(profile: &str, flags: &[&str], load: &str) -> Sessions {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--profile", profile];
    all.extend_from_slice(flags);
    let t = TargetProc::start(dir.path(), &all);
    let out = Plan::against(&t, "sessions")
        .with(&format!("[protocol]\nprofile = \"{profile}\"\n{load}"))
        .run(dir.path(), &[("IT_CLIENT_SECRET", SECRET)]);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    Sessions {
        out,
        stats,
        _dir: dir,
    }
}

fn healthy(profile: &str) {
    let load = "[scenario]\nthink_time = \"exp(500ms)\"\n\
                [workload]\nmodel = \"open\"\nmax_sessions = 100\ndrain = \"30s\"\nseed = 42\n\
                [session]\nturns = \"2..4\"\n\
                [[arrivals]]\nrate = \"3/s\"\nduration = \"20s\"\n";
    let r = run(profile, &["--event-delay-ms", "50"], load);
    assert_eq!(r.out.code, 0, "{}", r.out.explain());
    let s = r.out.summary();
    let ss = &s["sessions"];
    assert_eq!(ss["model"], "open", "{ss}");
    // The measured rate: arrivals over the schedule's 20 s, beside the planned 3/s.
    let arrived = ss["arrived"].as_f64().unwrap();
    let window =
        ss["arrivals"]["to_secs"].as_f64().unwrap() - ss["arrivals"]["from_secs"].as_f64().unwrap();
    let rate = arrived / window;
    assert!((rate / 3.0 - 1.0).abs() <= 0.15, "measured {rate}/s: {ss}");
    // Nothing was late or dropped on a healthy target: every arrival started, every session
    // completed, within a fraction of a run of when it was due (a generator behind its
    // schedule lags by seconds; CI's suite, 12 threads on 2 cores, once read a p99 of 120 ms).
    assert_eq!(ss["dropped"], 0, "{ss}");
    assert_eq!(ss["started"], ss["arrived"], "{ss}");
    assert_eq!(ss["completed"], ss["started"], "{ss}");
    let lag_p99 = ss["start_lag"]["p99_ms"].as_f64().unwrap();
    assert!(lag_p99 < 250.0, "start lag p99 {lag_p99} ms");
    // Little's law: sessions in progress = arrival rate × mean length, within 20%.
    let law = &ss["littles_law"];
    let (measured, predicted) = (
        law["mean_concurrency"].as_f64().unwrap(),
        law["predicted"].as_f64().unwrap(),
    );
    assert!(
        (measured / predicted - 1.0).abs() <= 0.2,
        "in progress {measured}, λ·W {predicted}: {law}"
    );
    // The target's ground truth: its sessions (threads) and runs by turn.
    assert_eq!(ss["completed"], r.stats["sessions"], "{}", r.stats);
    let by_turn: Vec<u64> = ss["by_turn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["started"].as_u64().unwrap())
        .collect();
    let target: Vec<u64> = serde_json::from_value(r.stats["runs_by_turn"].clone()).unwrap();
    assert_eq!(by_turn, target, "{}", r.stats);
    assert!(by_turn.len() >= 2 && by_turn.len() <= 4, "{by_turn:?}");
    assert_eq!(s["runs"]["started"], r.stats["runs_started"]);
    assert_eq!(
        by_turn.iter().sum::<u64>(),
        s["runs"]["started"].as_u64().unwrap()
    );
    // Each session was a user of its own, and its socket closed cleanly.
    assert_eq!(r.stats["users_seen"], ss["started"], "{}", r.stats);
    assert_eq!(s["connections"]["closed_cleanly"], ss["started"]);
    let html =
        std::fs::read_to_string(r.out.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(html.contains("Sessions (open model)") && html.contains("Little's law"));
}

#[test]
fn poisson_arrivals_on_a_healthy_target_reference() {
    healthy("reference");
}

#[test]
fn poisson_arrivals_on_a_healthy_target_netra() {
    healthy("netra");
}

/// The mean first turn (by session start) over the first two points that have one, the middle
/// third of them and the last third.
fn first_turns(ss: &Value) -> (f64, f64, f64) {
    let points: Vec<(f64, f64)> = ss["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            Some((
                p["first_turns"].as_f64()?,
                p["first_turn_mean_ms"].as_f64()?,
            ))
        })
        .collect();
    let mean = |part: &[(f64, f64)]| {
        part.iter().map(|(n, m)| n * m).sum::<f64>() / part.iter().map(|p| p.0).sum::<f64>()
    };
    let third = points.len() / 3;
    (
        mean(&points[..2]),
        mean(&points[third..2 * third]),
        mean(&points[points.len() - third..]),
    )
}

#[test]
fn over_capacity_the_open_model_drops_and_queues_where_the_closed_one_looks_flat() {
    // The target streams 4 runs at once, ~300 ms each: ~13 runs/s, ~4.4 sessions/s of 3 turns.
    let flags = ["--event-delay-ms", "50", "--max-concurrent-runs", "4"];
    let session = "[scenario]\nthink_time = \"exp(1s)\"\n[session]\nturns = 3\n[sla]\nerror_rate = \"100%\"\n";
    // Arrivals at 16/s, 4x what it holds: sessions pile up in the pool until its 120 users
    // are all busy, then arrivals are dropped.
    let open = format!(
        "{session}[workload]\nmodel = \"open\"\nmax_sessions = 120\ndrain = \"15s\"\nseed = 5\n\
         [[arrivals]]\nrate = \"16/s\"\nduration = \"20s\"\n"
    );
    let r = run("reference", &flags, &open);
    assert_eq!(r.out.code, 0, "{}", r.out.explain());
    let ss = &r.out.summary()["sessions"];
    let (arrived, dropped, started) = (
        ss["arrived"].as_u64().unwrap(),
        ss["dropped"].as_u64().unwrap(),
        ss["started"].as_u64().unwrap(),
    );
    assert!(dropped > 0, "{ss}");
    assert_eq!(
        arrived,
        dropped + started,
        "every arrival started or was dropped: {ss}"
    );
    // Every session that sent a first turn is a thread at the target.
    assert_eq!(
        ss["by_turn"][0]["started"], r.stats["sessions"],
        "{}",
        r.stats
    );
    // First turns, timed from when their session was due, grow as the queue builds.
    let (first, _, last) = first_turns(ss);
    eprintln!("open: first turns {first:.0} ms → {last:.0} ms, {dropped} of {arrived} dropped");
    assert!(
        last > 3.0 * first,
        "open: first turns {first:.0} ms → {last:.0} ms"
    );
    let html =
        std::fs::read_to_string(r.out.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(
        html.contains("were dropped: demand the platform did not serve"),
        "the report says why"
    );

    // Closed: 40 seats holding sessions back to back on the same target. Their first turns
    // settle once every seat has had one, and stay there: the load waits for the platform.
    let closed = format!(
        "{session}[[stages]]\nusers = 40\nduration = \"1s\"\n[[stages]]\nusers = 40\nduration = \"24s\"\n"
    );
    let c = run("reference", &flags, &closed);
    assert_eq!(c.out.code, 0, "{}", c.out.explain());
    let cs = &c.out.summary()["sessions"];
    assert_eq!(cs["model"], "closed");
    let (first, middle, last) = first_turns(cs);
    eprintln!("closed: first turns {first:.0}, {middle:.0}, {last:.0} ms");
    assert!(
        last < 1.35 * middle && middle < 1.35 * last,
        "closed: first turns {first:.0}, {middle:.0}, {last:.0} ms"
    );
    let html =
        std::fs::read_to_string(c.out.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(html.contains("coordinated omission"), "the report says why");
    // A closed seat's sessions are one user's conversations: as many users as seats.
    assert_eq!(c.stats["users_seen"], 40, "{}", c.stats);
    assert_eq!(
        cs["by_turn"][0]["started"], c.stats["sessions"],
        "{}",
        c.stats
    );
}
