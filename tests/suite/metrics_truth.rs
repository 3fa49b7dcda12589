//! The figures are true: per-event timings report the target's fixed delay, and the sampler's
//! memory per connection reports the target's known per-connection allocation.

use crate::common::*;

fn plan(t: &TargetProc, stages: &str, extra: &str) -> String {
    format!(
        "name = \"truth\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"50ms\"\n{stages}\n{extra}\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    )
}

#[test]
fn per_event_gaps_report_the_targets_event_delay() {
    let dir = tempfile::tempdir().unwrap();
    let target = TargetProc::start(dir.path(), &["--event-delay-ms", "50"]);
    let stages =
        "[[stages]]\nusers = 2\nduration = \"1s\"\n[[stages]]\nusers = 2\nduration = \"2s\"\n";
    let out = run_plan(
        dir.path(),
        &plan(&target, stages, ""),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    for event in [
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "agent_completed",
    ] {
        let gap = &s["latency"]["gap_before"][event];
        let p50 = gap["p50_ms"].as_f64().unwrap();
        // The target sleeps 50 ms before each event; a gap can not be shorter (within the
        // histogram's 0.1 % precision) and loopback adds little on top.
        assert!(
            (49.9..62.5).contains(&p50),
            "{event}: gap p50 {p50} ms, expected ~50"
        );
    }
    let first = s["latency"]["time_to_first_event"]["p50_ms"]
        .as_f64()
        .unwrap();
    assert!((49.9..62.5).contains(&first), "time to first event {first}");
    // Six events 50 ms apart: agent_completed arrives ~300 ms after the start message.
    let done = s["latency"]["from_start"]["agent_completed"]["p50_ms"]
        .as_f64()
        .unwrap();
    assert!((299.0..350.0).contains(&done), "agent_completed at {done}");
    assert!(!s["latency"]["gap_before"]["agent_thinking"]["histogram"]
        .as_str()
        .unwrap()
        .is_empty());
}

#[test]
fn sampler_measures_the_targets_memory_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    // 4 MiB resident per open connection.
    let target = TargetProc::start(
        dir.path(),
        &[
            "--ballast-kb-per-connection",
            "4096",
            "--event-delay-ms",
            "20",
        ],
    );
    let stages =
        "[[stages]]\nusers = 24\nduration = \"6s\"\n[[stages]]\nusers = 24\nduration = \"1s\"\n";
    let sampler = format!(
        "[sampler]\ninterval = \"200ms\"\ntarget_pid = {}\n",
        target.pid()
    );
    let out = run_plan(
        dir.path(),
        &plan(&target, stages, &sampler),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let r = &out.summary()["resources"];
    let per_conn = r["target"]["bytes_per_connection"]
        .as_f64()
        .expect("a slope");
    let knob = 4096.0 * 1024.0;
    assert!(
        (per_conn - knob).abs() <= 0.25 * knob,
        "measured {per_conn} bytes/connection, knob {knob}"
    );
    assert!(r["samples"].as_array().unwrap().len() >= 10);
}
