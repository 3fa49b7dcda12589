//! Real platforms' dialects and the token lifecycle, end to end against the reference target.

use crate::common::*;

fn plan(t: &TargetProc, auth: &str, protocol: &str, hold: &str) -> String {
    format!(
        r#"
name = "proto"
[target]
base_url = "{base}"
ws_url = "{ws}"
ca_file = "{ca}"
[auth]
{auth}
[protocol]
{protocol}
[scenario]
think_time = "100ms"
[[stages]]
users = 3
duration = "1s"
[[stages]]
users = 3
duration = "{hold}"
"#,
        base = t.base_url,
        ws = t.ws_url,
        ca = t.ca_file.display()
    )
}

const MINT: &str = "secret_env = \"IT_CLIENT_SECRET\"";

fn no_failures(out: &RunOutput) {
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    assert_eq!(s["runs"]["failed"], 0, "{s}");
    assert_eq!(s["connections"]["failed"], 0, "{s}");
    assert!(s["runs"]["completed"].as_u64().unwrap() > 0, "{s}");
}

#[test]
fn netra_profile_runs_a_full_smoke_plan() {
    let dir = tempfile::tempdir().unwrap();
    // Three thoughts per run: layouts B, D and E (a system_message named at its root).
    let t = TargetProc::start(
        dir.path(),
        &[
            "--profile",
            "netra",
            "--event-delay-ms",
            "5",
            "--thinking-steps",
            "3",
        ],
    );
    let out = run_plan(
        dir.path(),
        &plan(
            &t,
            MINT,
            "profile = \"netra\"\ntoken_carriers = [\"header\", \"subprotocol\"]",
            "3s",
        ),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    no_failures(&out);
    let s = out.summary();
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    assert_eq!(stats["runs_completed"], s["runs"]["completed"], "{stats}");
    assert_eq!(stats["runs_started"], s["runs"]["started"], "{stats}");
    let thoughts = s["events"]["agent_thinking"].as_u64().unwrap();
    assert_eq!(
        thoughts,
        3 * s["runs"]["completed"].as_u64().unwrap(),
        "{s}"
    );
    // Heartbeats, progress and partial results came between the events, and were no events.
    assert_eq!(s["stale_frames"], 0, "{s}");
    assert_eq!(s["isolation"]["distinct_user_ids"], 3, "{s}");
    // Every layout was decoded into the five events.
    for (name, count) in s["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (&p[0], &p[1]))
    {
        assert_eq!(count, &s["runs"]["completed"], "{name}");
    }
}

#[test]
fn the_handshake_is_answered_and_its_thread_used() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--profile", "netra", "--handshake", "--event-delay-ms", "5"],
    );
    let handshake =
        "profile = \"netra\"\n[protocol.handshake]\nwait_for = \"handshake_response\"\n\
                     reply = { type = \"handshake_acknowledged\", thread_id = \"{{thread_id}}\" }\n\
                     complete = \"handshake_complete\"\ntimeout = \"5s\"";
    let out = run_plan(
        dir.path(),
        &plan(&t, MINT, handshake, "2s"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    no_failures(&out);

    // Without the handshake the target refuses to start runs.
    let sub = dir.path().join("no-handshake");
    std::fs::create_dir_all(&sub).unwrap();
    let out = run_plan(
        &sub,
        &plan(&t, MINT, "profile = \"netra\"", "2s"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.summary()["runs"]["completed"], 0, "{}", out.explain());
}

#[test]
fn the_reference_profile_does_not_understand_netra() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--profile", "netra", "--event-delay-ms", "5"]);
    // The netra target takes start_agent, but wraps events in layouts the reference profile
    // does not unwrap: the sequence checker must notice, not pass the runs.
    let out = run_plan(
        dir.path(),
        &plan(&t, MINT, "profile = \"reference\"", "2s"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    // No SLA set, and still no pass by omission: nothing completed.
    assert_eq!(out.code, 1, "{}", out.explain());
    assert!(
        out.stdout.contains("SLA FAIL the test completed work"),
        "{}",
        out.explain()
    );
    let s = out.summary();
    assert_eq!(s["runs"]["completed"], 0, "{s}");
    assert!(s["runs"]["failed"].as_u64().unwrap() > 0, "{s}");
}

#[test]
fn each_token_carrier_authenticates() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
    for carrier in ["header", "subprotocol", "query"] {
        let sub = dir.path().join(carrier);
        std::fs::create_dir_all(&sub).unwrap();
        let protocol = format!("token_carriers = [\"{carrier}\"]");
        let out = run_plan(
            &sub,
            &plan(&t, MINT, &protocol, "1s"),
            &[("IT_CLIENT_SECRET", SECRET)],
        );
        no_failures(&out);
    }
    assert_eq!(t.stats()["auth_rejections"], 0);
}

#[test]
fn short_tokens_are_refreshed_without_dropping_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20"]);
    let auth = format!("{MINT}\nlifetime = \"5s\"\nrefresh_before = \"2s\"");
    let out = run_plan(
        dir.path(),
        &plan(&t, &auth, "", "20s"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    no_failures(&out);
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    assert!(
        stats["tokens_refreshed"].as_u64().unwrap() >= 3 * 4,
        "{stats}"
    );
    assert_eq!(stats["tokens_expired"], 0, "{stats}");
    assert_eq!(stats["runs_completed"], out.summary()["runs"]["completed"]);
}

#[test]
fn without_refresh_expired_tokens_cut_runs_as_auth_failures() {
    expired_tokens_are_auth_failures("reference", &[]);
}

#[test]
fn netra_token_lapse_is_an_auth_failure_not_an_agent_error() {
    // The platform says `error_message` AUTH_FAILED, then closes with 1008.
    expired_tokens_are_auth_failures("netra", &[]);
}

#[test]
fn a_lapse_with_a_code_no_profile_knows_is_one_auth_failure() {
    // `{"type":"error","data":{"code":"AUTH_EXPIRED","message":"Token expired"}}`, then 1008.
    expired_tokens_are_auth_failures("reference", &["--lapse-error-code", "AUTH_EXPIRED"]);
}

#[test]
fn netra_lapse_with_a_code_no_profile_knows_is_one_auth_failure() {
    // `{"type":"error_message","error_code":"AUTH_EXPIRED","error_message":"Token expired"}`.
    expired_tokens_are_auth_failures("netra", &["--lapse-error-code", "AUTH_EXPIRED"]);
}

fn expired_tokens_are_auth_failures(profile: &str, knobs: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut flags = vec!["--event-delay-ms", "20", "--profile", profile];
    flags.extend_from_slice(knobs);
    let t = TargetProc::start(dir.path(), &flags);
    let auth = format!("{MINT}\nlifetime = \"5s\"\nrefresh = false");
    let out = run_plan(
        dir.path(),
        &plan(&t, &auth, &format!("profile = \"{profile}\""), "20s"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    let s = out.summary();
    let expired = s["failures"]["auth.token_expired"]["count"]
        .as_u64()
        .unwrap_or(0);
    assert!(expired > 0, "{s}");
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    // Each lapsed socket is one auth failure: a run it cut, or an idle socket it closed (no
    // start is sent on that one, so it is no run); completed and started runs match.
    assert_eq!(
        expired,
        stats["tokens_expired"].as_u64().unwrap(),
        "{s}\n{stats}"
    );
    assert_eq!(s["failures"]["agent.error"], serde_json::Value::Null, "{s}");
    assert_eq!(stats["runs_completed"], s["runs"]["completed"], "{stats}");
    // No start is sent on a socket whose token is lapsing (the user waits for the cut): every
    // run counted here is one the target started.
    assert_eq!(s["runs"]["started"], stats["runs_started"], "{s}\n{stats}");
}

#[test]
fn the_source_suites_execute_agent_message_starts_netra_runs() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--profile", "netra", "--event-delay-ms", "5"]);
    let protocol = "profile = \"netra\"\nstart_message = { type = \"execute_agent\", \
                    agent_type = \"cost_optimizer\", data = { message = \"{{user_request}}\", \
                    run_id = \"{{run_id}}\", thread_id = \"{{thread_id}}\", canary = \"{{canary}}\" } }";
    let out = run_plan(
        dir.path(),
        &plan(&t, MINT, protocol, "2s"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    no_failures(&out);
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    assert_eq!(stats["runs_completed"], out.summary()["runs"]["completed"]);
}

#[test]
fn a_netra_target_refuses_bad_tokens_after_the_upgrade() {
    // The platform accepts the upgrade, sends AUTH_FAILED and closes with 1008: one
    // readable refusal, counted as auth.refused against the target's own count.
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--profile", "netra", "--event-delay-ms", "5"]);
    let out = run_plan(
        dir.path(),
        &plan(&t, MINT, "profile = \"netra\"", "1s"),
        &[(
            "IT_CLIENT_SECRET",
            "a-different-secret-0123456789abcdef012345",
        )],
    );
    let s = out.summary();
    let refused = s["failures"]["auth.refused"]["count"].as_u64().unwrap_or(0);
    assert!(refused > 0, "{s}");
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    assert_eq!(
        refused,
        stats["auth_rejections"].as_u64().unwrap(),
        "{stats}"
    );
    assert_eq!(s["runs"]["started"], 0, "{s}");
}

#[test]
fn login_mode_logs_in_and_refreshes_through_the_auth_service() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--event-delay-ms", "20", "--token-lifetime-secs", "5"],
    );
    let auth = "mode = \"login\"\nbypass_key_env = \"IT_BYPASS\"\nrefresh_before = \"2s\"\nlifetime = \"5s\"";
    let out = run_plan(
        dir.path(),
        &plan(&t, auth, "", "8s"),
        &[("IT_BYPASS", "it-bypass-key")],
    );
    no_failures(&out);
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    // 3 logins (+1 probe) and refreshes through /auth/refresh, each issuing a pair.
    assert!(stats["tokens_issued"].as_u64().unwrap() > 4, "{stats}");
    assert!(stats["tokens_refreshed"].as_u64().unwrap() > 0, "{stats}");
    assert_eq!(stats["logins_refused"], 0, "{stats}");

    std::fs::create_dir_all(dir.path().join("bad")).unwrap();
    let bad = run_plan(
        &dir.path().join("bad"),
        &plan(&t, auth, "", "1s"),
        &[("IT_BYPASS", "wrong")],
    );
    assert_eq!(bad.code, 2, "{}", bad.explain());
    assert!(
        bad.stderr.contains("refused: HTTP 401"),
        "{}",
        bad.explain()
    );
    assert!(!bad.stderr.contains("wrong"), "the key is never printed");
}
