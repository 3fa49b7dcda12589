//! Where the time goes (#29), against the reference target's own counters: one of three tools
//! slowed (both dialects), a backed-up send path, a tool that slows down with load in a
//! capacity search, and shards whose per-tool histograms add up exactly.

use crate::common::plan::Plan;
use crate::common::*;
use agentload::model::metrics::Latency;
use serde_json::Value;

struct Traced {
    out: RunOutput,
    stats: Value,
    _dir: tempfile::TempDir,
}

fn run(profile: &str, flags: &[&str], users: usize, hold: &str) -> Traced {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["--profile", profile, "--event-delay-ms", "20"];
    all.extend_from_slice(flags);
    let t = TargetProc::start(dir.path(), &all);
    let out = Plan::against(&t, "breakdown")
        .with(&format!(
            "[protocol]\nprofile = \"{profile}\"\n[scenario]\nthink_time = \"50ms\"\n\
             [[stages]]\nusers = {users}\nduration = \"1s\"\n[[stages]]\nusers = {users}\nduration = \"{hold}\"\n"
        ))
        .run(dir.path(), &[("IT_CLIENT_SECRET", SECRET)]);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    Traced {
        out,
        stats,
        _dir: dir,
    }
}

fn tool<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["breakdown"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name}: {}", s["breakdown"]))
}

fn slowed_tool(profile: &str) {
    let r = run(
        profile,
        &["--tool-names", "a,b,c", "--slow-tool", "b=500"],
        6,
        "6s",
    );
    assert_eq!(r.out.code, 0, "{}", r.out.explain());
    let s = r.out.summary();
    // Counts: each tool's executions, as the target sent them.
    for name in ["a", "b", "c"] {
        assert_eq!(
            tool(s, name)["executed"],
            r.stats["tools"][name]["executed"],
            "{name}: {}",
            r.stats
        );
        assert!(
            tool(s, name)["executed"].as_u64().unwrap() >= 3,
            "{}",
            s["breakdown"]
        );
    }
    // b's time is the others' plus the 500 ms injected; each P95 is of a few executions, so
    // the gap is asked of 90% of the injected delay.
    let p95 = |name: &str| tool(s, name)["time"]["p95_ms"].as_f64().unwrap();
    assert!(
        p95("b") >= p95("a").max(p95("c")) + 450.0,
        "b {} a {} c {}",
        p95("b"),
        p95("a"),
        p95("c")
    );
    // The slowest first, and the platform's own figure beside ours: the tool ran ~500 ms,
    // the rest of the time is outside it.
    assert_eq!(s["breakdown"]["tools"][0]["name"], "b");
    let server = tool(s, "b")["server"]["p50_ms"].as_f64().unwrap();
    assert!(
        (500.0..600.0).contains(&server),
        "b ran {server} ms by the platform"
    );
    let outside = tool(s, "b")["outside"]["p50_ms"].as_f64().unwrap();
    assert!(outside < 200.0, "outside the tool {outside} ms");
    assert!(
        r.out
            .stdout
            .contains("where the time goes: tool `b` is the slowest of 3"),
        "{}",
        r.out.explain()
    );
    let agent = &s["breakdown"]["agents"][0];
    assert_eq!(agent["name"], "cost_optimizer");
    assert_eq!(agent["runs"], s["runs"]["started"]);
    let phases: Vec<&str> = s["breakdown"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        ["to agent_started", "thinking", "tools", "completion"]
    );
    let html =
        std::fs::read_to_string(r.out.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(html.contains("Where the time goes") && html.contains("tool `b` is the slowest"));
}

#[test]
fn a_slowed_tool_is_named_reference() {
    slowed_tool("reference");
}

#[test]
fn a_slowed_tool_is_named_netra() {
    slowed_tool("netra");
}

fn lag(profile: &str, flags: &[&str]) -> f64 {
    let r = run(profile, flags, 3, "3s");
    assert_eq!(r.out.code, 0, "{}", r.out.explain());
    let s = r.out.summary();
    s["breakdown"]["delivery_lag"]["p50_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("no lag: {}", s["breakdown"]))
}

#[test]
fn a_backed_up_send_path_reads_as_delivery_lag() {
    for profile in ["reference", "netra"] {
        let held = lag(profile, &["--send-lag-ms", "300"]);
        assert!(
            (held - 300.0).abs() <= 60.0,
            "{profile}: lag P50 {held} ms, held 300"
        );
        let prompt = lag(profile, &[]);
        assert!(prompt <= 20.0, "{profile}: lag P50 {prompt} ms with none");
    }
}

/// A target whose tool `b` runs 100 ms, two at a time: past a few users, runs queue for it.
fn slowing_tool(dir: &std::path::Path) -> TargetProc {
    let flags = "--event-delay-ms 20 --tool-names a,b --slow-tool b=100 --tool-capacity b=2";
    TargetProc::start(dir, &flags.split(' ').collect::<Vec<_>>())
}

#[test]
fn a_capacity_search_names_the_tool_that_slowed_with_load() {
    let dir = tempfile::tempdir().unwrap();
    let t = slowing_tool(dir.path());
    let path = Plan::against(&t, "cap")
        .with(
            "[scenario]\nthink_time = \"20ms\"\n\
             [[stages]]\nusers = 1\nduration = \"1s\"\n[sla]\nagent_run_p95 = \"600ms\"\nerror_rate = \"1%\"\n\
             [capacity]\nstart_users = 2\nfactor = 4\nstep_ramp = \"1s\"\nstep_hold = \"3s\"\nceiling = 32\nresolution = 8\n",
        )
        .write(dir.path(), &dir.path().join("r"));
    let (_, _, cap) = capacity_search(&path, &["--quiet"], dir.path(), "r");
    let degraded = cap["degraded_first"]
        .as_str()
        .unwrap_or_else(|| panic!("{cap}"));
    assert!(
        degraded.contains("tool `b` P95"),
        "what degraded first: {degraded}\n{}",
        cap["conclusion"]
    );
    assert!(cap["conclusion"]
        .as_str()
        .unwrap()
        .contains("What degraded first: from 2 users"));
}

#[test]
fn shards_per_tool_histograms_add_up_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &[
            "--event-delay-ms",
            "10",
            "--tool-names",
            "a,b,c",
            "--slow-tool",
            "c=50",
        ],
    );
    let plan = dir.path().join("plan.toml");
    let reports = dir.path().join("reports");
    std::fs::write(
        &plan,
        format!(
            "name = \"tools-sharded\"\n[target]\nbase_url = \"${{IT_BASE}}\"\nws_url = \"${{IT_WS}}\"\n\
             ca_file = \"${{IT_CA}}\"\n[auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n\
             [scenario]\nthink_time = \"20ms\"\n[[stages]]\nusers = 6\nduration = \"1s\"\n\
             [[stages]]\nusers = 6\nduration = \"3s\"\n[report]\ndir = \"{}\"\n",
            reports.display()
        ),
    )
    .unwrap();
    let merged_dir = dir.path().join("merged");
    let (m, shards) = run_shards_and_merge(&plan, &t, 3, &reports, &merged_dir);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    for name in ["a", "b", "c"] {
        let mut union = Latency::default();
        let mut executed = 0;
        for s in &shards {
            let part = tool(s, name);
            executed += part["executed"].as_u64().unwrap();
            union.add(&Latency::decode(part["time"]["histogram"].as_str().unwrap()).unwrap());
        }
        let merged = tool(&m, name);
        assert_eq!(merged["executed"], executed);
        assert_eq!(
            merged["executed"], stats["tools"][name]["executed"],
            "{stats}"
        );
        let hist = Latency::decode(merged["time"]["histogram"].as_str().unwrap()).unwrap();
        assert_eq!(hist.stats(), union.stats(), "{name}");
    }
}

#[test]
fn a_run_that_fails_names_what_degraded_from_its_first_stage_to_its_peak() {
    let dir = tempfile::tempdir().unwrap();
    let t = slowing_tool(dir.path());
    let out = Plan::against(&t, "stages")
        .with(
            "[scenario]\nthink_time = \"20ms\"\n\
             [[stages]]\nusers = 2\nduration = \"2s\"\n[[stages]]\nusers = 2\nduration = \"2s\"\n\
             [[stages]]\nusers = 24\nduration = \"1s\"\n[[stages]]\nusers = 24\nduration = \"4s\"\n\
             [sla]\nagent_run_p95 = \"400ms\"\n",
        )
        .run(dir.path(), &[("IT_CLIENT_SECRET", SECRET)]);
    assert_eq!(out.code, 1, "the SLA breaks at the peak: {}", out.explain());
    let what = out.summary()["degraded_first"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", out.explain()));
    assert!(
        what.starts_with("from stage 1 (2 users) to stage 4 (24 users), tool `b` P95"),
        "{what}"
    );
    assert!(
        out.stdout.contains("what degraded first: from stage 1"),
        "{}",
        out.explain()
    );
}
