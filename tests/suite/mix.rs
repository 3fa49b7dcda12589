//! A workload mix against the reference target, in both wire dialects: users per scenario
//! follow the weights, per-scenario counts equal the target's per-agent and per-endpoint
//! counters, idle users answer every ping, and a tool chain the target does not meet fails
//! its runs as `content.tool_chain`. Plan errors in `[[scenarios]]` name file, line and key.

use crate::common::*;
use serde_json::Value;

/// The mix; `target` is the plan's `[target]` table (an embedded or a started target).
fn mixed_plan(target: &str, profile: &str) -> String {
    format!(
        r#"name = "mix"
{target}
[auth]
secret_env = "IT_CLIENT_SECRET"
[protocol]
profile = "{profile}"
[scenario]
think_time = "50ms"
run_timeout = "20s"

[[scenarios]]
name = "cost"
weight = 3
agent = "cost_optimizer"
user_requests = ["Find savings in compute", "Find savings in storage"]

[[scenarios]]
name = "triage"
weight = 2
agent = "triage"
expect_tools = ["log_search", "incident_classifier"]

[[scenarios]]
name = "chain"
weight = 1
agent = "data_helper"
user_request = "Chart signups"
expect_tools = ["sql_query", "usage_report"]

[[scenarios]]
name = "api"
kind = "api"
weight = 2
think_time = "100ms"
[[scenarios.endpoints]]
path = "/api/threads"
weight = 2
json_path_checks = [{{ name = "threads", path = "count", op = ">=", value = 1 }}]
[[scenarios.endpoints]]
path = "/api/agents/config"

[[scenarios]]
name = "idle"
kind = "idle"
weight = 1
think_time = "300ms"

[[stages]]
users = 9
duration = "1s"
[[stages]]
users = 9
duration = "3s"
[sla]
error_rate = "0%"
rules = ["p95<=10s for WS agent_run [cost]"]
"#
    )
}

fn started_target(t: &TargetProc) -> String {
    format!(
        "[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    )
}

fn scenario<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name}: {s}"))
}

/// Runs the mix; `embedded`: against the embedded target (reference dialect), its counters
/// read from the summary; otherwise against a started target in `profile`'s dialect.
fn mix_in(profile: &str, embedded: bool) {
    let dir = tempfile::tempdir().unwrap();
    let env = [("IT_CLIENT_SECRET", SECRET)];
    let (out, stats) = if embedded {
        let target = "[target]\nembedded = true\nevent_delay = \"5ms\"\nping_interval = \"100ms\"";
        let out = run_plan(dir.path(), &mixed_plan(target, profile), &env);
        let stats = out.summary()["target_counters"].clone();
        (out, stats)
    } else {
        let t = TargetProc::start(
            dir.path(),
            &[
                "--event-delay-ms",
                "5",
                "--profile",
                profile,
                "--ping-interval-ms",
                "100",
            ],
        );
        let out = run_plan(dir.path(), &mixed_plan(&started_target(&t), profile), &env);
        (out, t.stats_until(|s| s["connections_open"] == 0))
    };
    let s = out.summary();
    // Users per scenario: Goose's allocation by weight (9 users over weights 3:2:1:2:1).
    for (name, users) in [
        ("cost", 3),
        ("triage", 2),
        ("chain", 1),
        ("api", 2),
        ("idle", 1),
    ] {
        assert_eq!(
            scenario(s, name)["users"],
            users,
            "{name}: {}",
            out.explain()
        );
    }
    // Agent scenarios against the target's own per-agent counters.
    let agent = |name: &str| &stats["agents"][name];
    let cost = scenario(s, "cost");
    assert!(
        cost["runs"]["completed"].as_u64().unwrap() > 0,
        "{}",
        out.explain()
    );
    assert_eq!(
        cost["runs"]["completed"],
        agent("cost_optimizer")["runs_completed"]
    );
    assert_eq!(cost["runs"]["failed"], 0, "{cost}");
    let triage = scenario(s, "triage");
    assert_eq!(
        triage["runs"]["completed"],
        agent("triage")["runs_completed"]
    );
    assert_eq!(triage["runs"]["failed"], 0, "{triage}");
    // The unmet tool chain: every run of the scenario fails with its kind, though the target
    // completed each one.
    let chain = scenario(s, "chain");
    let chain_runs = chain["runs"]["started"].as_u64().unwrap();
    assert!(chain_runs > 0);
    assert_eq!(chain["runs"]["failed"], chain_runs, "{chain}");
    assert_eq!(chain["failures"]["content.tool_chain"]["count"], chain_runs);
    assert_eq!(s["failures"]["content.tool_chain"]["count"], chain_runs);
    assert_eq!(agent("data_helper")["runs_completed"], chain_runs);
    assert_eq!(
        out.code,
        1,
        "the tool-chain failures fail the error rate: {}",
        out.explain()
    );
    // Api users: every request is the target's, per endpoint.
    let api = scenario(s, "api");
    for e in api["endpoints"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        let endpoint = name.trim_end_matches(" [api]");
        assert_eq!(
            e["requests"], stats["http_requests"][endpoint],
            "{name}: {stats}"
        );
        assert_eq!(e["failed"], 0, "{e}");
    }
    assert_eq!(api["endpoints"].as_array().unwrap().len(), 2, "{api}");
    // Idle users answered every ping they got, and the target heard each pong.
    let idle = &scenario(s, "idle")["idle"];
    assert!(idle["pings_answered"].as_u64().unwrap() > 0, "{idle}");
    assert_eq!(idle["pings_answered"], stats["pongs_received"], "{stats}");
    // Goose's own tables carry the scenario in the request names.
    let goose: Value =
        serde_json::from_slice(&std::fs::read(out.report_dir.unwrap().join("goose.json")).unwrap())
            .unwrap();
    let text = goose.to_string();
    assert!(
        text.contains("WS agent_run [triage]"),
        "no per-scenario request name"
    );
    assert!(
        text.contains("/api/threads [api]"),
        "no per-scenario endpoint name"
    );
}

#[test]
fn a_mix_against_the_embedded_target() {
    mix_in("reference", true);
}

#[test]
fn a_mix_in_the_netra_dialect() {
    mix_in("netra", false);
}

#[test]
fn idle_users_reconnect_when_the_server_cuts_them() {
    let dir = tempfile::tempdir().unwrap();
    // Tokens of 2 s on sockets nobody renews: the target cuts each (1008) as its token lapses.
    let plan = "name = \"idle\"\n[target]\nembedded = true\n[auth]\nlifetime = \"2s\"\n\
                refresh = false\n[[scenarios]]\nname = \"idle\"\nkind = \"idle\"\n\
                think_time = \"200ms\"\n[[stages]]\nusers = 2\nduration = \"1s\"\n\
                [[stages]]\nusers = 2\nduration = \"4s\"\n";
    let out = run_plan(dir.path(), plan, &[]);
    let s = out.summary();
    let idle = &scenario(s, "idle")["idle"];
    let cuts = idle["cuts"].as_u64().unwrap();
    assert!(
        cuts >= 2,
        "every socket outlived its token: {}",
        out.explain()
    );
    assert_eq!(
        cuts,
        s["target_counters"]["tokens_expired"].as_u64().unwrap()
    );
    // Each cut socket came back: one connect per user, plus one per cut (the last cut may
    // come as the test ends, before the user's next hold).
    let connects = s["connections"]["established"].as_u64().unwrap();
    assert!(
        connects >= 2 + cuts - 2 && connects <= 2 + cuts,
        "{connects} connects, {cuts} cuts"
    );
    assert_eq!(
        out.code,
        0,
        "a cut idle socket is no failure: {}",
        out.explain()
    );
}

#[test]
fn scenario_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.jsonl"), "\n").unwrap();
    let head = "target = \"embedded\"\n[[stages]]\nusers = 1\nduration = \"1s\"\n\n";
    for (entry, line, key, words) in [
        (
            "name = \"a\"\nweight = 0\n",
            8,
            "scenarios[0].weight",
            "1 or more",
        ),
        (
            "name = \"a\"\nweight = -2\n",
            8,
            "scenarios[0].weight",
            "1 or more",
        ),
        (
            "name = \"a\"\nkind = \"robot\"\n",
            8,
            "scenarios.kind",
            "unknown variant",
        ),
        (
            "name = \"a\"\nuser_requests_file = \"missing.jsonl\"\n",
            8,
            "scenarios[0].user_requests_file",
            "cannot read",
        ),
        (
            "name = \"a\"\nuser_requests_file = \"empty.jsonl\"\n",
            8,
            "scenarios[0].user_requests_file",
            "holds no request",
        ),
    ] {
        let plan = dir.path().join("plan.toml");
        std::fs::write(&plan, format!("{head}[[scenarios]]\n{entry}")).unwrap();
        let out = agentload().arg("run").arg(&plan).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{entry}: {err}");
        let at = format!("plan.toml:{line}: {key}:");
        assert!(err.contains(&at) && err.contains(words), "{entry}: {err}");
    }
}

#[test]
fn api_checks_fail_calls_and_count_in_the_error_rate() {
    let dir = tempfile::tempdir().unwrap();
    // Every /api/threads body misses its check; every /health answers 200, not the 201 asked.
    let plan = r#"name = "api"
target = "embedded"
[[scenarios]]
name = "api"
kind = "api"
think_time = "50ms"
[[scenarios.endpoints]]
path = "/api/threads"
weight = 2
json_path_checks = [{ name = "many threads", path = "count", op = ">=", value = 100 }]
[[scenarios.endpoints]]
path = "/health"
expect_status = 201
[[scenarios.endpoints]]
path = "/api/agents/config"
[[stages]]
users = 2
duration = "2s"
[sla]
error_rate = "10%"
"#;
    let out = run_plan(dir.path(), plan, &[]);
    let s = out.summary();
    let stats = &s["target_counters"]["http_requests"];
    let endpoints = scenario(s, "api")["endpoints"].as_array().unwrap().clone();
    let endpoint = |name: &str| {
        endpoints
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()
            .clone()
    };
    let threads = endpoint("GET /api/threads [api]");
    assert!(
        threads["requests"].as_u64().unwrap() > 0,
        "{}",
        out.explain()
    );
    assert_eq!(threads["requests"], stats["GET /api/threads"]);
    assert_eq!(threads["failed"], threads["requests"]);
    // Listed by kind with every other failure, and per endpoint.
    assert_eq!(
        s["failures"]["api.check_failed"]["count"],
        threads["requests"]
    );
    assert_eq!(
        threads["failures"]["api.check_failed"]["count"],
        threads["requests"]
    );
    let health = endpoint("GET /health [api]");
    assert_eq!(
        health["failures"]["api.status"]["count"],
        health["requests"]
    );
    assert_eq!(health["requests"], stats["GET /health"]);
    assert_eq!(endpoint("GET /api/agents/config [api]")["failed"], 0);
    // 3 of every 4 calls failed: the error rate counts them, and fails the plan.
    let rule = &s["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"].as_str().unwrap().starts_with("error rate"))
        .unwrap()
        .clone();
    assert_eq!(rule["passed"], false, "{rule}");
    assert!(
        rule["observed"].as_str().unwrap().contains("api calls"),
        "{rule}"
    );
    assert_eq!(out.code, 1, "{}", out.explain());
}
