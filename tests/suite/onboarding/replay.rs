//! `record` → `target --replay` → `run`: a recording stands in for the platform, with its
//! timing and every layout it mixed.

use super::*;

/// Per event (its name as received), the times from the run's start: (P50, P95) in ms.
fn percentiles(times: BTreeMap<String, Vec<f64>>) -> BTreeMap<String, (f64, f64)> {
    times
        .into_iter()
        .map(|(name, mut t)| {
            t.sort_by(f64::total_cmp);
            // Nearest rank, as an HDR histogram reads a quantile.
            let at = |q: f64| t[((q * t.len() as f64).ceil() as usize).clamp(1, t.len()) - 1];
            (name, (at(0.5), at(0.95)))
        })
        .collect()
}

#[test]
fn a_recording_replays_as_a_faithful_stand_in() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &[
            "--profile",
            "netra",
            "--handshake",
            "--event-delay-ms",
            "80",
            "--rename-events",
            RENAMES,
        ],
    );
    let bare = bare_plan(dir.path(), &t, false);
    let plan = dir.path().join("onboard.toml");
    let probe = agentload_in(
        dir.path(),
        &[
            "probe",
            bare.to_str().unwrap(),
            "--write",
            plan.to_str().unwrap(),
        ],
    );
    assert_eq!(probe.status.code(), Some(0), "{}", explain(&probe));
    let recording = record(dir.path(), &plan);
    let text = std::fs::read_to_string(&recording).unwrap();
    no_secret("the recording", &text);
    // The recording's own timing: each run event's time from its start message.
    let ours: BTreeMap<&str, &str> = [
        ("run_begin", "agent_started"),
        ("reasoning_step", "agent_thinking"),
        ("tool_call", "tool_executing"),
        ("tool_result", "tool_completed"),
        ("run_finished", "agent_completed"),
    ]
    .into();
    let mut recorded: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let line: Value = serde_json::from_str(line).unwrap();
        let frame = &line["frame"];
        // A wrapped event names itself in data.event; the platform's names are renamed ours.
        let wire = frame["data"]["event"]
            .as_str()
            .or(frame["event"].as_str())
            .or(frame["type"].as_str())
            .unwrap_or("");
        let name = ours.get(wire).copied().unwrap_or(wire).to_string();
        if line["run"].as_u64() > Some(0) && line["dir"] == "in" && line["frame"]["seq"].is_u64() {
            recorded
                .entry(name)
                .or_default()
                .push(line["at_ms"].as_f64().unwrap());
        }
    }
    drop(t);
    // The stand-in: the recording served by the reference target.
    let (out, stats) = run_on_replay(dir.path(), &plan, &recording);
    let s = out.summary();
    assert_eq!(s["runs"]["started"], stats["runs_started"], "{stats}");
    assert_eq!(s["runs"]["completed"], stats["runs_completed"], "{stats}");
    // Each event's time from the start, P50 and P95, within 20% of the recording's.
    let recorded = percentiles(recorded);
    let mut compared = 0;
    for (name, (p50, p95)) in &recorded {
        let Some(live) = s["latency"]["from_start"].get(name) else {
            continue;
        };
        let (l50, l95) = (
            live["p50_ms"].as_f64().unwrap(),
            live["p95_ms"].as_f64().unwrap(),
        );
        assert!(
            (l50 / p50 - 1.0).abs() <= 0.2,
            "{name}: P50 {l50} replayed, {p50} recorded"
        );
        assert!(
            (l95 / p95 - 1.0).abs() <= 0.2,
            "{name}: P95 {l95} replayed, {p95} recorded"
        );
        compared += 1;
    }
    assert!(
        compared >= 4,
        "{compared} events compared: {recorded:?} / {}",
        s["latency"]["from_start"]
    );
}

/// The `host:port` the plan points at.
fn bare_address(plan: &Path) -> String {
    let text = std::fs::read_to_string(plan).unwrap();
    let line = text.lines().find(|l| l.starts_with("base_url")).unwrap();
    line.split("://")
        .nth(1)
        .unwrap()
        .trim_end_matches('"')
        .to_string()
}

#[test]
fn a_recording_keeps_every_layout_a_platform_mixes_and_replays_it() {
    // Events in layouts drawn per event: the recording keeps each run's as it came, and the
    // replay serves them so; the probed plan reads the replay as it read the platform.
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "--profile",
        "netra",
        "--event-delay-ms",
        "20",
        "--random-layouts",
        "5",
    ];
    let t = TargetProc::start(dir.path(), &flags);
    let bare = bare_plan(dir.path(), &t, false);
    let plan = dir.path().join("onboard.toml");
    let args = [
        "probe",
        bare.to_str().unwrap(),
        "--write",
        plan.to_str().unwrap(),
    ];
    let probe = agentload_in(dir.path(), &args);
    assert_eq!(probe.status.code(), Some(0), "{}", explain(&probe));
    let recording = record(dir.path(), &plan);
    let text = std::fs::read_to_string(&recording).unwrap();
    no_secret("the recording", &text);
    let mut layouts = std::collections::BTreeSet::new();
    for line in text.lines().skip(1) {
        let line: Value = serde_json::from_str(line).unwrap();
        let f = &line["frame"];
        if line["dir"] != "in" || !f["seq"].is_u64() {
            continue;
        }
        layouts.insert(match () {
            _ if f["data"]["event"].is_string() || f["event"].is_string() => "wrapped",
            _ if f["payload"].is_object() => "payload",
            _ if f["data"].is_object() => "data",
            _ => "flat",
        });
    }
    assert!(layouts.len() >= 3, "{layouts:?}");
    drop(t);
    let (out, stats) = run_on_replay(dir.path(), &plan, &recording);
    let s = out.summary();
    assert_eq!(s["runs"]["failed"], 0, "{s}");
    assert_eq!(s["runs"]["completed"], stats["runs_completed"], "{stats}");
}

/// `agentload record PLAN --runs 6` into `dir/platform.jsonl` (it must succeed).
fn record(dir: &Path, plan: &Path) -> std::path::PathBuf {
    let recording = dir.join("platform.jsonl");
    let args = [
        "record",
        plan.to_str().unwrap(),
        "--runs",
        "6",
        "--out",
        recording.to_str().unwrap(),
    ];
    let rec = agentload_in(dir, &args);
    assert_eq!(rec.status.code(), Some(0), "{}", explain(&rec));
    recording
}

/// Serves `recording` from the reference target, points `plan` at it and runs it (it must
/// pass): its output and the stand-in's `/stats` once every socket closed.
fn run_on_replay(dir: &Path, plan: &Path, recording: &Path) -> (RunOutput, Value) {
    let replay = TargetProc::start(dir, &["--replay", recording.to_str().unwrap()]);
    let plan_text = std::fs::read_to_string(plan).unwrap().replace(
        &bare_address(plan),
        &replay.base_url.replace("https://", ""),
    );
    std::fs::write(plan, plan_text).unwrap();
    // The probe's folder aside: the run's report is the one folder there.
    let _ = std::fs::remove_dir_all(dir.join("reports"));
    let out = run_plan_file(dir, plan, &[("IT_CLIENT_SECRET", SECRET)]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let stats = replay.stats_until(|s| s["connections_open"] == 0);
    (out, stats)
}
