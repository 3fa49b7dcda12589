//! Guards that stop a test in time: `abort_on_fail` stops a clearly failed test once past its
//! grace, naming the rule; `[limits] max_runs` caps the runs exactly (test-wide, shared by
//! shards) and `max_duration` the time.

use crate::common::*;
use serde_json::Value;
use std::process::Stdio;

fn plan(t: &TargetProc, users: usize, hold: &str, extra: &str) -> String {
    format!(
        "name = \"guard\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"50ms\"\n\
         [[stages]]\nusers = {users}\nduration = \"1s\"\n[[stages]]\nusers = {users}\nduration = \"{hold}\"\n{extra}",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    )
}

/// A 21 s plan against a target that fails half the runs; the target's counters after it.
fn failing(extra: &str) -> (tempfile::TempDir, RunOutput, Value) {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--event-delay-ms", "5", "--error-rate", "0.5"],
    );
    let out = run_plan(
        dir.path(),
        &plan(&t, 4, "20s", extra),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    (dir, out, stats)
}

#[test]
fn abort_on_fail_stops_a_failing_test_after_its_grace_and_names_the_rule() {
    let (_dir, out, stats) = failing("[sla]\nabort_on_fail = true\n");
    assert_eq!(out.code, 1, "{}", out.explain());
    let s = out.summary();
    let stopped = &s["stopped"];
    assert_eq!(stopped["by"], "abort_on_fail", "{s}");
    let at = stopped["at_s"].as_f64().unwrap();
    // Judged once past the 10 s grace, long before the 21 s plan ends.
    assert!((10.0..15.0).contains(&at), "stopped at {at} s");
    assert!(s["duration_secs"].as_f64().unwrap() < 17.0, "{s}");
    let reason = stopped["reason"].as_str().unwrap();
    assert!(reason.starts_with("error rate <= 0%"), "{reason}");
    assert!(
        out.stderr
            .contains("stopping the test (abort_on_fail): error rate"),
        "{}",
        out.explain()
    );
    let html =
        std::fs::read_to_string(out.report_dir.as_ref().unwrap().join("index.html")).unwrap();
    assert!(
        html.contains("STOPPED BY THE PLAN (abort_on_fail)"),
        "{html}"
    );
    // Every run the target started is counted: completed, failed or interrupted.
    assert_eq!(s["runs"]["started"], stats["runs_started"], "{s}\n{stats}");
}

#[test]
fn without_abort_on_fail_the_same_failing_plan_runs_to_its_end() {
    let (_dir, out, _) = failing("");
    assert_eq!(out.code, 1, "{}", out.explain());
    let s = out.summary();
    assert_eq!(s["stopped"], Value::Null, "{s}");
    assert!(s["duration_secs"].as_f64().unwrap() >= 20.0, "{s}");
}

#[test]
fn max_runs_starts_exactly_that_many_runs() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
    let out = run_plan(
        dir.path(),
        &plan(&t, 10, "60s", "[limits]\nmax_runs = 100\n"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    assert_eq!(s["runs"]["started"], 100, "{s}");
    assert_eq!(stats["runs_started"], 100, "{stats}");
    assert_eq!(s["runs"]["completed"], 100, "{s}");
    assert_eq!(s["stopped"]["by"], "max_runs", "{s}");
    assert!(s["duration_secs"].as_f64().unwrap() < 30.0, "{s}");
}

#[test]
fn max_runs_is_shared_by_the_shards() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
    let text = format!(
        "{}\n[report]\ndir = \"{}\"\n",
        plan(&t, 10, "60s", "[limits]\nmax_runs = 101\n"),
        dir.path().join("reports").display()
    );
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, text).unwrap();
    let shards: Vec<_> = (0..2)
        .map(|i| {
            agentload()
                .arg("run")
                .arg(&path)
                .args([
                    "--shard",
                    &format!("{i}/2"),
                    "--run-id",
                    "budget",
                    "--quiet",
                ])
                .env("IT_CLIENT_SECRET", SECRET)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut shard in shards {
        assert_eq!(shard.wait().unwrap().code(), Some(0));
    }
    let mut started = Vec::new();
    for entry in std::fs::read_dir(dir.path().join("reports")).unwrap() {
        let s: Value = serde_json::from_slice(
            &std::fs::read(entry.unwrap().path().join("summary.json")).unwrap(),
        )
        .unwrap();
        started.push(s["runs"]["started"].as_u64().unwrap());
    }
    started.sort();
    // 101 split as users are: 51 and 50.
    assert_eq!(started, [50, 51]);
    let stats = t.stats_until(|st| st["connections_open"] == 0);
    assert_eq!(stats["runs_started"], 101, "{stats}");
}

#[test]
fn max_duration_stops_the_load_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
    let out = run_plan(
        dir.path(),
        &plan(&t, 3, "60s", "[limits]\nmax_duration = \"3s\"\n"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let s = out.summary();
    assert_eq!(s["stopped"]["by"], "max_duration", "{s}");
    let at = s["stopped"]["at_s"].as_f64().unwrap();
    assert!((3.0..4.0).contains(&at), "stopped at {at} s");
    assert!(
        out.stdout.contains("stopped by the plan (max_duration)"),
        "{}",
        out.explain()
    );
}
