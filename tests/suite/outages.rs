//! A target that dies mid-test: the verdict cannot pass by omission, users back off, and the
//! outage is measured (when it began, how long it lasted, when runs completed again).

use crate::common::*;
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn plain_plan(
    t: &TargetProc,
    dir: &std::path::Path,
    users: usize,
    hold: &str,
) -> std::path::PathBuf {
    let plan = format!(
        "name = \"outage\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n\
         [scenario]\nthink_time = \"200ms\"\nrun_timeout = \"5s\"\nconnect_timeout = \"2s\"\n\
         [[stages]]\nusers = {users}\nduration = \"1s\"\n[[stages]]\nusers = {users}\nduration = \"{hold}\"\n\
         [report]\ndir = \"{}\"\n",
        t.base_url,
        t.ws_url,
        dir.join("reports").display()
    );
    let path = dir.join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    path
}

fn summary_in(dir: &std::path::Path) -> Value {
    let report = report_in(dir, "reports");
    serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_target_killed_and_restarted_is_one_measured_outage_and_fails_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let users = 20;
    let first = TargetProc::start_plain_on(0, &["--event-delay-ms", "20"]);
    let port = first.port();
    let plan = plain_plan(&first, dir.path(), users, "14s");
    let launched = Instant::now();
    let run = agentload()
        .arg("run")
        .arg(&plan)
        .env("IT_CLIENT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Load flows before the kill: the target has seen runs complete.
    first.stats_until(|s| s["runs_completed"].as_u64().unwrap_or(0) >= users as u64);
    std::thread::sleep(Duration::from_secs(4).saturating_sub(launched.elapsed()));
    drop(first); // SIGKILL
    let killed = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let second = TargetProc::start_plain_on(port, &["--event-delay-ms", "20"]);
    let gap = killed.elapsed().as_secs_f64();
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let explain = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    // No `[sla]` section: the default 0% error rule fails the plan.
    assert_eq!(out.status.code(), Some(1), "{explain}");
    assert!(
        stdout.contains(
            "error rate <= 0% (failed runs + connects + api calls, default: the plan sets none)"
        ),
        "{explain}"
    );
    let s = summary_in(dir.path());
    let outages = s["outages"].as_array().unwrap();
    assert_eq!(outages.len(), 1, "{}\n{explain}", s["outages"]);
    let o = &outages[0];
    let length = o["end_s"].as_f64().unwrap() - o["start_s"].as_f64().unwrap();
    assert!(
        (length - gap).abs() <= 1.5,
        "outage of {length:.2} s for a {gap:.2} s gap: {o}"
    );
    // Users back off: at most 8 failed connects per user in the gap (think-time pace would
    // be ~20 per user).
    let failed = o["failed_connects"].as_u64().unwrap();
    assert!(failed >= 1 && failed <= 8 * users as u64, "{o}");
    assert!(o["recovered_after_s"].as_f64().is_some(), "{o}");
    // Runs complete again after the restart: the new target counts them.
    let after = second.stats_until(|st| st["connections_open"] == 0);
    assert!(after["runs_completed"].as_u64().unwrap() >= 1, "{after}");
    // The live line said it while it lasted.
    assert!(stderr.contains("target unreachable for"), "{explain}");
}
