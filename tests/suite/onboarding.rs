//! A new platform in minutes (#30): `probe` proposes a `[protocol]` section with which `run`
//! passes unedited, in both dialects, with and without a handshake, with renamed events;
//! `record` → `target --replay` → `run` passes the same checks with the recording's timing;
//! and no secret ever shows in a transcript, a plan or a recording.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const BYPASS: &str = "it-bypass-key";
const RENAMES: &str =
    "started=run_begin,thinking=reasoning_step,executing=tool_call,executed=tool_result,completed=run_finished";

fn agentload(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("IT_CLIENT_SECRET", SECRET)
        .env("IT_BYPASS", BYPASS)
        .output()
        .unwrap()
}

/// A plan that knows the platform's address and auth, and nothing of its protocol.
fn bare_plan(dir: &Path, t: &TargetProc, login: bool) -> std::path::PathBuf {
    let auth = match login {
        true => "[auth]\nmode = \"login\"\nbypass_key_env = \"IT_BYPASS\"\n",
        false => "[auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n",
    };
    let plan = format!(
        "name = \"onboard\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n{auth}\
         [scenario]\nthink_time = \"100ms\"\n[sampler]\nenabled = false\n\
         [[stages]]\nusers = 3\nduration = \"1s\"\n[[stages]]\nusers = 3\nduration = \"3s\"\n\
         [report]\ndir = \"{}\"\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        dir.join("reports").display()
    );
    let path = dir.join("bare.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

/// No secret in `text`: not the JWT secret, not the bypass key, no token.
fn no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET) && !text.contains(BYPASS) && !text.contains("eyJ"),
        "a secret shows in {what}:\n{text}"
    );
}

fn probe_then_run(profile: &str, handshake: bool, renamed: bool, login: bool) {
    probe_then_run_with(&[], profile, handshake, renamed, login);
}

/// As `probe_then_run`, the target started with `extra` flags too; the probe's section must
/// read every run it probed.
fn probe_then_run_with(
    extra: &[&str],
    profile: &str,
    handshake: bool,
    renamed: bool,
    login: bool,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = vec!["--profile", profile, "--event-delay-ms", "20"];
    flags.extend_from_slice(extra);
    if handshake {
        flags.push("--handshake");
    }
    if renamed {
        flags.extend(["--rename-events", RENAMES]);
    }
    let t = TargetProc::start(dir.path(), &flags);
    let bare = bare_plan(dir.path(), &t, login);
    let written = dir.path().join("onboard.toml");
    let probe = agentload(
        dir.path(),
        &[
            "probe",
            bare.to_str().unwrap(),
            "--write",
            written.to_str().unwrap(),
        ],
    );
    let said = explain(&probe);
    assert_eq!(probe.status.code(), Some(0), "{said}");
    // Every run it probed (five, or more while new shapes kept appearing) read clean.
    let verdict = said
        .lines()
        .find(|l| l.starts_with("PASS: the proposed section reads the probed runs clean: "))
        .unwrap_or_else(|| panic!("{said}"));
    let counts: Vec<u64> = verdict
        .split(": ")
        .nth(2)
        .unwrap()
        .split(' ')
        .filter_map(|w| w.parse().ok())
        .take(2)
        .collect();
    assert!(counts[0] == counts[1] && counts[0] >= 5, "{verdict}");
    if renamed {
        assert!(said.contains("\"run_begin\" = \"agent_started\""), "{said}");
    }
    if handshake {
        assert!(said.contains("wait_for = \"handshake_response\""), "{said}");
    }
    let plan_text = std::fs::read_to_string(&written).unwrap();
    no_secret("the probe's output", &said);
    no_secret("the written plan", &plan_text);
    let transcript = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path().join("probe.txt"))
        .find(|p| p.is_file())
        .unwrap();
    no_secret("probe.txt", &std::fs::read_to_string(transcript).unwrap());
    // The probe's folder aside: the run's report is the one folder there.
    std::fs::remove_dir_all(dir.path().join("reports")).unwrap();
    // The written plan, unedited, runs.
    let before = t.stats_until(|s| s["connections_open"] == 0);
    let out = run_plan_file(
        dir.path(),
        &written,
        &[("IT_CLIENT_SECRET", SECRET), ("IT_BYPASS", BYPASS)],
    );
    assert_eq!(
        out.code,
        0,
        "{profile} {handshake} {renamed}: {}\n{plan_text}",
        out.explain()
    );
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    let s = out.summary();
    let delta = |k: &str| stats[k].as_u64().unwrap() - before[k].as_u64().unwrap();
    assert_eq!(
        s["runs"]["started"].as_u64().unwrap(),
        delta("runs_started"),
        "{stats}"
    );
    assert_eq!(
        s["runs"]["completed"].as_u64().unwrap(),
        delta("runs_completed"),
        "{stats}"
    );
    assert!(s["runs"]["completed"].as_u64().unwrap() >= 3, "{s}");
    assert_eq!(s["runs"]["failed"], 0, "{s}\n{plan_text}");
    said
}

#[test]
fn a_probed_section_reads_every_layout_a_platform_mixes() {
    // The platform's emitters pick each event's layout: flat, in `data`, in `payload`, or
    // wrapped in agent_progress / system_message / agent_response_complete. The probe reads
    // several runs on two sockets and proposes the built-in profile that reads them all,
    // recognised by its welcome.
    let said = probe_then_run_with(&["--random-layouts", "7"], "netra", false, false, false);
    assert!(
        said.contains("profile = \"netra\"   # its welcome"),
        "{said}"
    );
    assert!(said.contains("on 2 socket(s)"), "{said}");
    let layouts = said.lines().find(|l| l.contains("layout(s) seen")).unwrap();
    assert!(
        layouts.contains("wrapped") && layouts.contains("flat"),
        "{layouts}"
    );
    // With a handshake, and runs the server names itself.
    probe_then_run_with(
        &["--random-layouts", "11", "--server-run-ids"],
        "netra",
        true,
        false,
        false,
    );
    // With the events renamed (in every layout), logging in.
    let said = probe_then_run_with(&["--random-layouts", "3"], "netra", false, true, true);
    assert!(
        said.contains("\"run_finished\" = \"agent_completed\""),
        "{said}"
    );
}

#[test]
fn a_start_message_and_a_token_carrier_only_the_variants_find() {
    // The platform starts a run only on `{"type": "chat", "message": …}` and reads its token
    // from the query string only: no built-in profile's start message, nor the plan's
    // carrier, gets a run; the probe's variants do, and the section says so.
    let said = probe_then_run_with(
        &["--start-type", "chat", "--token-carrier", "query"],
        "reference",
        false,
        false,
        false,
    );
    let start = said
        .lines()
        .find(|l| l.starts_with("start_message = "))
        .unwrap_or_else(|| panic!("{said}"));
    assert!(
        start.contains("\"type\" = \"chat\"")
            && start.contains("\"message\" = \"{{user_request}}\""),
        "{said}"
    );
    assert!(said.contains("token_carriers = [\"query\"]"), "{said}");
}

#[test]
fn a_probed_section_runs_unedited_reference() {
    probe_then_run("reference", false, false, false);
    probe_then_run("reference", true, true, true);
}

#[test]
fn a_probed_section_runs_unedited_netra() {
    probe_then_run("netra", true, false, false);
    probe_then_run("netra", false, true, true);
}

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
    let probe = agentload(
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
    let probe = agentload(dir.path(), &args);
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
    let rec = agentload(dir, &args);
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
