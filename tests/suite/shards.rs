//! Distributed runs: shard processes of one plan against one `agentload target` (started by
//! the test), merged with `agentload report merge`; the merged figures are checked against the
//! target's own counters and against the shards' histograms added by hand.

use crate::common::{explain, TargetProc, SECRET};
use agentload::model::metrics::Latency;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// A plan whose target comes from env vars, so shards pointed at different targets still run
/// the same plan file (one digest).
const PLAN: &str = r#"
name = "sharded"
[target]
base_url = "${IT_BASE}"
ws_url = "${IT_WS}"
ca_file = "${IT_CA}"
[auth]
secret_env = "IT_CLIENT_SECRET"
[scenario]
think_time = "20ms"
[[stages]]
users = 7
duration = "1s"
[[stages]]
users = 7
duration = "2s"
[sla]
agent_run_p95 = "300ms"
error_rate = "1%"
"#;

fn write_plan(dir: &Path) -> PathBuf {
    let path = dir.join("plan.toml");
    let text = format!(
        "{PLAN}\n[report]\ndir = \"{}\"\n",
        dir.join("reports").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn start_at(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

/// Starts shard `index`/3 of `plan` against `target`; `env_style` passes the shard as a
/// Kubernetes Indexed Job does (JOB_COMPLETION_INDEX + AGENTLOAD_SHARDS + AGENTLOAD_RUN_ID).
fn spawn_shard(
    plan: &Path,
    target: &TargetProc,
    index: usize,
    at: &str,
    env_style: bool,
) -> std::process::Child {
    let mut cmd = crate::common::agentload();
    cmd.arg("run").arg(plan).args(["--start-at", at, "-q"]);
    if env_style {
        cmd.env("JOB_COMPLETION_INDEX", index.to_string())
            .env("AGENTLOAD_SHARDS", "3")
            .env("AGENTLOAD_RUN_ID", "it-run");
    } else {
        cmd.args(["--shard", &format!("{index}/3"), "--run-id", "it-run"]);
    }
    cmd.env("IT_BASE", &target.base_url)
        .env("IT_WS", &target.ws_url)
        .env("IT_CA", &target.ca_file)
        .env("IT_CLIENT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn a shard")
}

fn agentload(args: &[&str]) -> Output {
    crate::common::agentload().args(args).output().unwrap()
}

fn summary(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

fn shard_folders(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

/// `report merge DIR/reports --out DIR/merged`.
fn merge_all(dir: &Path) -> (Output, PathBuf) {
    let merged = dir.join("merged");
    let reports = dir.join("reports");
    let args = [
        "report",
        "merge",
        reports.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ];
    (agentload(&args), merged)
}

/// The shards' `agent_run` histograms added into one.
fn union(shards: &[Value]) -> Latency {
    let mut all = Latency::default();
    for s in shards {
        let text = s["latency"]["agent_run"]["histogram"].as_str().unwrap();
        all.add(&Latency::decode(text).unwrap());
    }
    all
}

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap() - b).abs() < 1e-9
}

#[test]
fn three_shards_merge_into_the_targets_counts_and_one_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let target = TargetProc::start(dir.path(), &["--event-delay-ms", "10"]);
    let plan = write_plan(dir.path());
    let at = start_at(4);
    let children: Vec<_> = (0..3)
        .map(|i| spawn_shard(&plan, &target, i, &at, i == 2))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    }
    let folders = shard_folders(dir.path());
    assert_eq!(folders.len(), 3, "{folders:?}");
    let shards: Vec<Value> = folders.iter().map(|f| summary(f)).collect();
    // Shares 3/2/2 of 7 users, every shard waited for the same instant.
    let at_ms = chrono::DateTime::parse_from_rfc3339(&at)
        .unwrap()
        .timestamp_millis();
    let mut users: Vec<u64> = shards
        .iter()
        .map(|s| s["shard"]["users"].as_u64().unwrap())
        .collect();
    users.sort();
    assert_eq!(users, vec![2, 2, 3]);
    for s in &shards {
        assert!(
            s["timeline_origin_unix_ms"].as_i64().unwrap() >= at_ms,
            "{s}"
        );
        assert_eq!(s["shard"]["run_id"], "it-run");
    }

    let (out, merged_dir) = merge_all(dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let m = summary(&merged_dir);
    assert!(merged_dir.join("index.html").is_file());

    // The target's own counters, after every shard closed its sockets.
    let stats = target.stats_until(|s| s["connections_open"] == 0);
    assert_eq!(m["runs"]["started"], stats["runs_started"], "{stats}");
    assert_eq!(m["runs"]["completed"], stats["runs_completed"], "{stats}");
    let events: u64 = m["events"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(events, stats["events_sent"].as_u64().unwrap(), "{stats}");
    assert!(m["runs"]["started"].as_u64().unwrap() > 20, "{m}");

    // No user id in two shards: the target saw users 0..7 of one run, each once.
    assert_eq!(stats["users_seen"], 7, "{stats}");
    let mut numbers: Vec<usize> = target
        .users()
        .iter()
        .map(|id| id[1..id.find('-').unwrap()].parse().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (0..7).collect::<Vec<_>>());
    assert_eq!(m["peak_users"], 7);

    // Merged percentiles equal those of one histogram of every shard's values.
    let all = union(&shards).stats();
    let run = &m["latency"]["agent_run"];
    assert_eq!(run["count"], all.count);
    assert!(close(&run["p50_ms"], all.p50_ms), "{run} vs {all:?}");
    assert!(close(&run["p95_ms"], all.p95_ms), "{run} vs {all:?}");
    assert!(close(&run["p99_ms"], all.p99_ms), "{run} vs {all:?}");
    assert_eq!(m["merge"]["shards"].as_array().unwrap().len(), 3);
    assert_eq!(m["merge"]["partial"], false);

    refusals(dir.path(), &folders);
}

/// Copies `folder` to `to`, editing its summary with `edit`.
fn copy_with(folder: &Path, to: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    for name in ["summary.json", "plan.toml"] {
        std::fs::copy(folder.join(name), to.join(name)).unwrap();
    }
    let mut s = summary(to);
    edit(&mut s);
    std::fs::write(to.join("summary.json"), s.to_string()).unwrap();
    to.to_path_buf()
}

/// Merge refuses mismatched shards with exit 2 and one line; a partial merge is marked.
fn refusals(dir: &Path, f: &[PathBuf]) {
    let refused = |dirs: &[&Path], words: &str| {
        let mut args = vec!["report", "merge"];
        args.extend(dirs.iter().map(|d| d.to_str().unwrap()));
        let out = agentload(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(words), "{err}");
    };
    let other_run = copy_with(&f[2], &dir.join("x/run"), |s| {
        s["shard"]["run_id"] = "another-run".into();
    });
    refused(&[&f[0], &f[1], &other_run], "different load tests");
    let other_plan = copy_with(&f[2], &dir.join("x/plan"), |s| {
        s["shard"]["plan_digest"] = "0123456789abcdef".into();
    });
    refused(&[&f[0], &f[1], &other_plan], "different plans");
    refused(&[&f[0], &f[1], &f[1]], "appears twice");
    refused(&[&f[0], &f[1]], "missing");

    let out_dir = dir.join("partial");
    let out = agentload(&[
        "report",
        "merge",
        f[0].to_str().unwrap(),
        f[1].to_str().unwrap(),
        "--allow-partial",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let m = summary(&out_dir);
    assert_eq!(m["merge"]["partial"], true);
    assert_eq!(m["merge"]["missing"].as_array().unwrap().len(), 1);
    let html = std::fs::read_to_string(out_dir.join("index.html")).unwrap();
    assert!(html.contains("PARTIAL"), "the report says it is partial");
}

#[test]
fn the_verdict_follows_the_merged_histogram_not_one_shard() {
    let dir = tempfile::tempdir().unwrap();
    // Each target in its own folder: each writes its own CA there.
    let (fast_dir, slow_dir) = (dir.path().join("fast"), dir.path().join("slow"));
    std::fs::create_dir_all(&fast_dir).unwrap();
    std::fs::create_dir_all(&slow_dir).unwrap();
    let fast = TargetProc::start(&fast_dir, &["--event-delay-ms", "5"]);
    let slow = TargetProc::start(&slow_dir, &["--event-delay-ms", "150"]);
    let plan = write_plan(dir.path());
    let at = start_at(3);
    let children: Vec<_> = (0..3)
        .map(|i| spawn_shard(&plan, if i == 2 { &slow } else { &fast }, i, &at, false))
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let folders = shard_folders(dir.path());
    let shards: Vec<Value> = folders.iter().map(|f| summary(f)).collect();
    let own_p95 = |i: usize| {
        let s = shards.iter().find(|s| s["shard"]["index"] == i).unwrap();
        s["latency"]["agent_run"]["p95_ms"].as_f64().unwrap()
    };
    // Each shard judged alone: the slow one fails its share, the fast ones pass theirs.
    assert!(
        own_p95(2) > 300.0 && own_p95(0) < 300.0,
        "{:?}",
        explain(&outs[2])
    );
    assert_eq!(outs[2].status.code(), Some(1), "{}", explain(&outs[2]));
    assert_eq!(outs[0].status.code(), Some(0), "{}", explain(&outs[0]));

    let (out, merged_dir) = merge_all(dir.path());
    let m = summary(&merged_dir);
    let p95 = union(&shards).stats().p95_ms;
    assert!(close(&m["latency"]["agent_run"]["p95_ms"], p95), "{m}");
    let rule = m["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "p95<=300ms for WS agent_run")
        .unwrap();
    assert_eq!(rule["passed"], p95 <= 300.0, "{rule}");
    assert!(rule["judged_by"].as_str().unwrap().contains("merged"));
    let expected = if m["sla"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["passed"] == true)
    {
        0
    } else {
        1
    };
    assert_eq!(out.status.code(), Some(expected), "{}", explain(&out));
    // The fast shards ran far more runs: the merged P95 sits with them, below the slow one's.
    assert!(
        p95 < own_p95(2),
        "merged {p95} vs slow shard {}",
        own_p95(2)
    );
}

#[test]
fn bad_shard_options_are_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        "target = \"embedded\"\n[[stages]]\nusers = 2\nduration = \"1s\"\n",
    )
    .unwrap();
    let plan = plan.to_str().unwrap();
    for (args, words) in [
        (vec!["--shard", "3/3", "--run-id", "r"], "out of range"),
        (vec!["--shard", "1/3"], "--run-id"),
        (vec!["--shard", "2/3", "--run-id", "r"], "gets no user"),
        (
            vec!["--shards", "3", "--run-id", "r"],
            "JOB_COMPLETION_INDEX",
        ),
        (vec!["--start-at", "soon"], "RFC 3339"),
    ] {
        let mut all = vec!["run", plan];
        all.extend(args.iter());
        let out = crate::common::agentload()
            .args(&all)
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", explain(&out));
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(words), "{args:?}: {err}");
    }
    // A capacity shard needs the run id its shards share, as a run shard does.
    let out = crate::common::agentload()
        .args(["capacity", plan])
        .env("AGENTLOAD_SHARD", "0/2")
        .env_remove("AGENTLOAD_RUN_ID")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", explain(&out));
    assert!(
        err.trim().lines().count() == 1 && err.contains("run id"),
        "{err}"
    );
}
