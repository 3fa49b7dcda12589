//! The reference target misbehaves on purpose, one knob at a time; the matching detector fires
//! with the right kind, counted against the target's own ground truth, and is silent without it.

mod common;

use common::*;
use serde_json::Value;

struct Faulty {
    out: RunOutput,
    stats: Value,
    /// Keeps the report folder until the test ends.
    _dir: tempfile::TempDir,
}

fn run_against(flags: &[&str], users: usize, hold: &str, extra: &str) -> Faulty {
    // Generous: under a loaded machine a slow run must not pass for a fault.
    run_with_timeout(flags, users, hold, extra, "20s")
}

fn run_with_timeout(
    flags: &[&str],
    users: usize,
    hold: &str,
    extra: &str,
    run_timeout: &str,
) -> Faulty {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--event-delay-ms", "5"];
    all.extend_from_slice(flags);
    let t = TargetProc::start(dir.path(), &all);
    // Scenario keys in `extra` join the plan's [scenario] table.
    let (scenario, extra) = match extra.strip_prefix("[scenario]\n") {
        Some(keys) => (keys, ""),
        None => ("", extra),
    };
    let plan = format!(
        "name = \"faults\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"50ms\"\nrun_timeout = \"{run_timeout}\"\n{scenario}\
         [[stages]]\nusers = {users}\nduration = \"1s\"\n[[stages]]\nusers = {users}\nduration = \"{hold}\"\n{extra}\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    );
    let out = run_plan(dir.path(), &plan, &[("IT_CLIENT_SECRET", SECRET)]);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    Faulty {
        out,
        stats,
        _dir: dir,
    }
}

fn failures(f: &Faulty, kind: &str) -> u64 {
    f.out.summary()["failures"][kind]["count"]
        .as_u64()
        .unwrap_or(0)
}

fn fault(f: &Faulty, kind: &str) -> u64 {
    f.stats["faults"][kind].as_u64().unwrap()
}

/// Every run ends in exactly one outcome, and the counts match the target's.
fn outcomes_add_up(f: &Faulty) {
    let s = f.out.summary();
    let runs = &s["runs"];
    assert_eq!(
        runs["started"],
        f.stats["runs_started"],
        "{}\n{}",
        f.stats,
        f.out.explain()
    );
    // Runs the target finished with reordered or omitted events fail our checks.
    let content_faults = f.stats["runs_completed_faulty"].as_u64().unwrap();
    let finished = f.stats["runs_completed"].as_u64().unwrap();
    assert_eq!(
        runs["completed"].as_u64().unwrap(),
        finished - content_faults,
        "{}",
        f.stats
    );
    let by_kind: u64 = s["failures"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("isolation") && !k.starts_with("security"))
        .map(|(_, b)| b["count"].as_u64().unwrap())
        .sum();
    let failed = runs["failed"].as_u64().unwrap() + s["connections"]["failed"].as_u64().unwrap();
    assert_eq!(by_kind, failed, "{s}");
}

#[test]
fn without_faults_every_detector_is_silent() {
    let f = run_against(&[], 4, "2s", "[security]\nbad_token_share = 0.3\n");
    assert_eq!(f.out.code, 0, "{}", f.out.explain());
    let s = f.out.summary();
    assert_eq!(s["failures"], serde_json::json!({}), "{s}");
    assert_eq!(s["isolation"]["violations"], 0);
    assert_eq!(s["isolation"]["suspected_auth_bypass"], Value::Null);
    let sec = &s["security"];
    assert!(
        sec["probes"].as_u64().unwrap() > 0 && sec["probes"] == sec["refused"],
        "{sec}"
    );
    assert_eq!(f.stats["auth_rejections"], sec["probes"]);
    outcomes_add_up(&f);
}

#[test]
fn dropped_sockets_are_resumed_without_losing_an_event() {
    let f = run_against(&["--drop-rate", "0.3"], 3, "3s", "");
    let s = f.out.summary();
    let drops = fault(&f, "drop");
    assert!(drops > 0);
    assert_eq!(
        s["failures"],
        serde_json::json!({}),
        "every dropped run resumed: {s}"
    );
    assert_eq!(s["runs"]["resumed"], f.stats["resumes"], "{}", f.stats);
    assert_eq!(s["runs"]["resumed"].as_u64().unwrap(), drops, "{}", f.stats);
    assert!(
        s["connections"]["established"].as_u64().unwrap() > 3,
        "users reconnected"
    );
    outcomes_add_up(&f);
}

#[test]
fn without_resume_on_the_target_a_drop_is_not_resumable() {
    let f = run_against(&["--drop-rate", "0.3", "--no-resume"], 3, "3s", "");
    let drops = fault(&f, "drop");
    assert!(drops > 0);
    assert_eq!(
        failures(&f, "reconnect.not_resumable"),
        drops,
        "{}",
        f.out.summary()
    );
    assert_eq!(
        f.out.summary()["runs"]["completed"],
        f.stats["runs_completed"]
    );
}

#[test]
fn a_client_that_drops_its_socket_mid_run_resumes_every_run() {
    let f = run_against(&[], 3, "2s", "[scenario]\ndrop_after_events = 3\n");
    let s = f.out.summary();
    assert_eq!(f.out.code, 0, "{}", f.out.explain());
    let completed = s["runs"]["completed"].as_u64().unwrap();
    assert!(completed > 0);
    assert_eq!(s["runs"]["failed"], 0, "no lost or duplicated events: {s}");
    assert_eq!(s["runs"]["resumed"].as_u64().unwrap(), completed);
    assert_eq!(f.stats["resumes"].as_u64().unwrap(), completed);
    // Every one of the five events reached every run, across two sockets.
    for pair in s["funnel"].as_array().unwrap() {
        assert_eq!(pair[1].as_u64().unwrap(), completed, "{pair}");
    }
}

#[test]
fn stalled_runs_time_out() {
    let f = run_with_timeout(&["--stall-rate", "0.3"], 3, "4s", "", "2s");
    assert!(fault(&f, "stall") > 0);
    assert_eq!(
        failures(&f, "transport.timeout"),
        fault(&f, "stall"),
        "{}",
        f.out.summary()
    );
    outcomes_add_up(&f);
}

#[test]
fn reordered_events_are_out_of_order() {
    let f = run_against(&["--reorder-rate", "0.3"], 3, "2s", "");
    assert!(fault(&f, "reorder") > 0);
    assert_eq!(
        failures(&f, "sequence.out_of_order"),
        fault(&f, "reorder"),
        "{}",
        f.out.summary()
    );
    outcomes_add_up(&f);
}

#[test]
fn omitted_events_are_missing() {
    let f = run_against(&["--omit-rate", "0.3"], 3, "2s", "");
    assert!(fault(&f, "omit") > 0);
    assert_eq!(
        failures(&f, "sequence.missing_event"),
        fault(&f, "omit"),
        "{}",
        f.out.summary()
    );
    outcomes_add_up(&f);
}

#[test]
fn agent_errors_end_runs_as_typed_failures() {
    let f = run_against(&["--error-rate", "0.3"], 3, "2s", "");
    assert!(fault(&f, "error") > 0);
    assert_eq!(
        failures(&f, "agent.error"),
        fault(&f, "error"),
        "{}",
        f.out.summary()
    );
    assert_eq!(f.stats["runs_errored"], fault(&f, "error"));
    outcomes_add_up(&f);
}

#[test]
fn a_target_accepting_bad_tokens_is_a_critical_failure() {
    let f = run_against(
        &["--accept-bad-tokens"],
        3,
        "2s",
        "[security]\nbad_token_share = 0.5\n",
    );
    assert_eq!(f.out.code, 1, "{}", f.out.explain());
    let s = f.out.summary();
    let accepted: u64 = s["security"]["accepted"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(accepted > 0, "{s}");
    assert_eq!(accepted, fault(&f, "bad_token_accepted"));
    let verdict = s["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"].as_str().unwrap().starts_with("bad tokens"))
        .unwrap();
    assert_eq!(verdict["passed"], false);
}

#[test]
fn one_user_id_for_everyone_is_a_suspected_auth_bypass() {
    let f = run_against(&["--single-user-id", "demo-user-001"], 3, "1s", "");
    assert_eq!(f.out.code, 1, "{}", f.out.explain());
    let s = f.out.summary();
    assert_eq!(
        s["isolation"]["suspected_auth_bypass"], "demo-user-001",
        "{s}"
    );
    assert_eq!(
        s["isolation"]["violations"], 0,
        "the same id everywhere is no cross-user leak"
    );
}

#[test]
fn a_leak_of_one_event_in_a_thousand_is_caught_in_a_200_user_run() {
    let f = run_against(&["--leak-rate", "0.001"], 200, "4s", "");
    let s = f.out.summary();
    let leaked = fault(&f, "leak");
    let seen = s["isolation"]["violations"].as_u64().unwrap();
    assert!(leaked > 0, "the target leaked nothing: {}", f.stats);
    assert!(seen > 0, "no leak detected of {leaked}");
    // A copy sent to a socket that is closing may go unread; none is counted twice.
    assert!(seen <= leaked, "{seen} > {leaked}");
    assert_eq!(failures(&f, "isolation.leak"), seen);
    assert_eq!(f.out.code, 1, "zero tolerance fails the run");
    let example = &s["isolation"]["examples"][0];
    assert_ne!(example["receiver"], example["owner"]);
    // The report shows the offending event.
    let html =
        std::fs::read_to_string(f.out.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(
        html.contains("offending event") && html.contains("<code>"),
        "no leak table in the report"
    );
}

#[test]
fn auth_service_5xx_are_counted_as_token_failures() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--event-delay-ms", "5", "--http-5xx-rate", "0.5"],
    );
    let plan = format!(
        "[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nmode = \"login\"\nbypass_key_env = \"IT_BYPASS\"\n[scenario]\nthink_time = \"50ms\"\n\
         [[stages]]\nusers = 6\nduration = \"1s\"\n[[stages]]\nusers = 6\nduration = \"2s\"\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    );
    let out = run_plan(dir.path(), &plan, &[("IT_BYPASS", "it-bypass-key")]);
    let s = out.summary();
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    let token_failures = s["failures"]["auth.token"]["count"].as_u64().unwrap_or(0);
    let injected = stats["faults"]["http_5xx"].as_u64().unwrap();
    assert!(token_failures > 0, "{s}");
    // The start-up login probe may take one 503 of its own.
    assert!(
        injected - token_failures <= 1,
        "{token_failures} of {injected}"
    );
    assert!(s["failures"]["auth.token"]["example"]
        .as_str()
        .unwrap()
        .contains("503"));
}

#[test]
fn stop_on_leak_stops_the_load_test_at_the_first_violation() {
    let f = run_against(
        &["--leak-rate", "0.05"],
        6,
        "30s",
        "[scenario]\nstop_on_leak = true\n",
    );
    assert_eq!(f.out.code, 1, "{}", f.out.explain());
    assert!(
        f.out
            .stdout
            .contains("Killswitch triggered: isolation violation"),
        "{}",
        f.out.explain()
    );
    let violations = f.out.summary()["isolation"]["violations"].as_u64().unwrap();
    assert!(violations >= 1);
}
