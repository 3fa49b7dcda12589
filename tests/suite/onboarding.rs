//! A new platform in minutes (#30): `probe` proposes a `[protocol]` section with which `run`
//! passes unedited, in both dialects, with and without a handshake, with renamed events;
//! `record` → `target --replay` → `run` passes the same checks with the recording's timing;
//! and no secret ever shows in a transcript, a plan or a recording.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

const BYPASS: &str = "it-bypass-key";
const RENAMES: &str =
    "started=run_begin,thinking=reasoning_step,executing=tool_call,executed=tool_result,completed=run_finished";

fn agentload_in(dir: &Path, args: &[&str]) -> Output {
    crate::common::agentload()
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
    let probe = agentload_in(
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

mod replay;
