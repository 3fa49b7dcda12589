//! A test stopped from outside loses nothing: SIGTERM (a Kubernetes pod stop) writes the
//! reports and exits 3, a shard stopped that way is refused by `report merge` unless
//! `--allow-partial`, and SIGKILL leaves the last checkpoint.

use crate::common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn plan(t: &TargetProc, dir: &Path, extra: &str) -> PathBuf {
    let plan = format!(
        "name = \"stop\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n\
         [scenario]\nthink_time = \"100ms\"\nrun_timeout = \"60s\"\n\
         [[stages]]\nusers = 5\nduration = \"1s\"\n[[stages]]\nusers = 5\nduration = \"60s\"\n\
         [report]\ndir = \"{}\"\n{extra}",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        dir.join("reports").display()
    );
    let path = dir.join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

fn spawn(plan: &Path, args: &[&str]) -> Child {
    agentload()
        .arg("run")
        .arg(plan)
        .args(args)
        .env("IT_CLIENT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn report_dir(dir: &Path) -> PathBuf {
    report_in(dir, "reports")
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Half the runs stall (the target never finishes them): at the stop, runs are in flight, and
/// a 1 s grace interrupts them.
fn stopped_by_sigterm(shard: &[&str]) -> (tempfile::TempDir, Output, Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--event-delay-ms", "50", "--stall-rate", "0.5"],
    );
    let path = plan(&t, dir.path(), "");
    let mut args = vec!["--grace", "1s"];
    args.extend_from_slice(shard);
    let child = spawn(&path, &args);
    // Load is flowing: every user has started a run.
    t.stats_until(|s| s["runs_started"].as_u64().unwrap_or(0) >= 10);
    let signalled = Instant::now();
    signal(&child, "-TERM");
    let out = child.wait_with_output().unwrap();
    // Bounded by the grace, not by the 60 s plan.
    assert!(
        signalled.elapsed() < Duration::from_secs(15),
        "{}",
        explain(&out)
    );
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    let report = report_dir(dir.path());
    let summary = json(&report.join("summary.json"));
    (dir, out, summary, stats)
}

#[test]
fn sigterm_writes_the_reports_counts_open_runs_as_interrupted_and_exits_3() {
    let (dir, out, s, stats) = stopped_by_sigterm(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    let report = report_dir(dir.path());
    assert!(report.join("index.html").is_file());
    assert!(!report.join("summary.partial.json").exists());
    assert_eq!(s["interrupted"]["signal"], "SIGTERM", "{s}");
    assert!(s["interrupted"]["at_s"].as_f64().unwrap() > 0.0);
    // Every start the target read is a run here: completed, failed or interrupted.
    assert_eq!(s["runs"]["started"], stats["runs_started"], "{s}\n{stats}");
    let runs = &s["runs"];
    let ended = runs["completed"].as_u64().unwrap()
        + runs["failed"].as_u64().unwrap()
        + runs["interrupted"].as_u64().unwrap();
    assert_eq!(ended, runs["started"].as_u64().unwrap(), "{s}");
    // Stalled runs were in flight at the stop: interrupted, and no failure of the target's.
    assert!(runs["interrupted"].as_u64().unwrap() >= 1, "{s}");
    assert_eq!(s["failures"].get("interrupted"), None, "{s}");
    assert_eq!(runs["completed"], stats["runs_completed"], "{s}\n{stats}");
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("STOPPED EARLY: SIGTERM"), "{html}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("STOPPED EARLY (SIGTERM"),
        "{}",
        explain(&out)
    );
}

#[test]
fn a_shard_stopped_by_sigterm_is_refused_by_merge_unless_partial_is_allowed() {
    let (dir, out, s, stats) = stopped_by_sigterm(&["--shard", "0/1", "--run-id", "stop-test"]);
    assert_eq!(out.status.code(), Some(3), "{}", explain(&out));
    assert_eq!(s["runs"]["started"], stats["runs_started"], "{s}\n{stats}");
    let shard = report_dir(dir.path());
    let merge = |extra: &[&str]| {
        agentload()
            .args(["report", "merge"])
            .arg(&shard)
            .arg("--out")
            .arg(dir.path().join("merged"))
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = merge(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", explain(&refused));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("shard 0 was stopped early (SIGTERM") && stderr.contains("--allow-partial"),
        "{}",
        explain(&refused)
    );
    let partial = merge(&["--allow-partial"]);
    assert_eq!(partial.status.code(), Some(1), "{}", explain(&partial));
    let merged = json(&dir.path().join("merged/summary.json"));
    assert_eq!(merged["merge"]["partial"], true, "{merged}");
    assert_eq!(merged["merge"]["stopped_early"], serde_json::json!([0]));
    let html = std::fs::read_to_string(dir.path().join("merged/index.html")).unwrap();
    assert!(html.contains("shard(s) 0 stopped early"), "{html}");
}

#[test]
fn sigkill_leaves_the_last_checkpoint_and_render_marks_it_partial() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20"]);
    let path = plan(&t, dir.path(), "checkpoint = \"2s\"\n");
    let mut child = spawn(&path, &["--quiet"]);
    // Past a few checkpoints: the third is written 6 s in.
    let report = loop {
        if let Some(Ok(entry)) = std::fs::read_dir(dir.path().join("reports"))
            .ok()
            .and_then(|mut d| d.next())
        {
            break entry.path();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let partial = report.join("summary.partial.json");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(partial.is_file() && json(&partial)["duration_secs"].as_f64().unwrap() >= 5.0) {
        assert!(Instant::now() < deadline, "no checkpoint past 5 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    assert!(!report.join("summary.json").exists());
    let s = json(&partial);
    assert_eq!(s["partial"], true, "{s}");
    let completed = s["runs"]["completed"].as_u64().unwrap();
    assert!(completed >= 1, "{s}");
    assert!(
        completed <= stats["runs_completed"].as_u64().unwrap(),
        "{s}\n{stats}"
    );
    let render = agentload()
        .args(["report", "render"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(render.status.code(), Some(0), "{}", explain(&render));
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("PARTIAL: a checkpoint"), "{html}");
}

#[test]
fn a_second_sigterm_ends_at_once_with_a_last_checkpoint() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    // Every run stalls: the first signal's 60 s grace would keep the test open a minute.
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20", "--stall-rate", "1"]);
    let path = plan(&t, dir.path(), "checkpoint = \"0s\"\n");
    let mut child = spawn(&path, &["--grace", "60s", "--quiet"]);
    t.stats_until(|s| s["runs_started"].as_u64().unwrap_or(0) >= 5);
    signal(&child, "-TERM");
    // The first signal is taken (it says so) before the second is sent: two signals close
    // together may reach the handler as one.
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    for line in stderr.by_ref() {
        let line = line.unwrap();
        said.push(line.clone());
        if line.contains("SIGTERM: stopping the ramp") {
            break;
        }
    }
    let signalled = Instant::now();
    signal(&child, "-TERM");
    said.extend(stderr.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    assert!(signalled.elapsed() < Duration::from_secs(10), "{said:?}");
    assert_eq!(status.code(), Some(3), "{said:?}");
    // With checkpoints off, the last words are still written.
    let report = report_dir(dir.path());
    let s = json(&report.join("summary.partial.json"));
    assert_eq!(s["partial"], true, "{s}");
    assert_eq!(s["interrupted"]["signal"], "SIGTERM", "{s}");
    assert!(!report.join("summary.json").exists());
}

#[test]
fn a_second_ctrl_c_ends_at_once_with_a_last_checkpoint() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    // Every run stalls: the first signal's 60 s grace would keep the test open a minute.
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "20", "--stall-rate", "1"]);
    let path = plan(&t, dir.path(), "checkpoint = \"0s\"\n");
    let mut child = spawn(&path, &["--grace", "60s", "--quiet"]);
    t.stats_until(|s| s["runs_started"].as_u64().unwrap_or(0) >= 5);
    signal(&child, "-INT");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    for line in stderr.by_ref() {
        let line = line.unwrap();
        said.push(line.clone());
        if line.contains("SIGINT: stopping the ramp") {
            break;
        }
    }
    let signalled = Instant::now();
    signal(&child, "-INT");
    said.extend(stderr.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    assert!(signalled.elapsed() < Duration::from_secs(10), "{said:?}");
    // Agentload's exit for a stopped test (Goose's own second Ctrl-C exited 1).
    assert_eq!(status.code(), Some(3), "{said:?}");
    let report = report_dir(dir.path());
    assert!(report.join("summary.partial.json").is_file(), "{said:?}");
    let s = json(&report.join("summary.partial.json"));
    assert_eq!(s["partial"], true, "{s}");
    assert_eq!(s["interrupted"]["signal"], "SIGINT", "{s}");
    assert!(!report.join("summary.json").exists());
}
