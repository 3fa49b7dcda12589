//! Operator experience: the live line, quiet logs, `report render`, `report compare`,
//! `run --baseline` and `--junit`, all against the embedded reference target.

use crate::common::*;
use std::path::Path;

fn plan(event_delay: &str, sla: &str) -> String {
    format!(
        "name = \"op\"\n[target]\nembedded = true\ntls = false\nevent_delay = \"{event_delay}\"\n\
         [scenario]\nthink_time = \"50ms\"\nrun_timeout = \"20s\"\n\
         [[stages]]\nusers = 4\nduration = \"2s\"\n[[stages]]\nusers = 4\nduration = \"3s\"\n\
         [sampler]\nenabled = false\n{sla}"
    )
}

/// `(users active, runs)` of each live line in `stderr`.
fn live_lines(stderr: &str) -> Vec<(u64, u64)> {
    let number_after = |line: &str, key: &str| -> u64 {
        let rest = &line[line.find(key).unwrap() + key.len()..];
        let digits: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .filter(|c| *c != ',')
            .collect();
        digits.parse().unwrap()
    };
    stderr
        .lines()
        .filter(|l| l.starts_with("agentload ["))
        .map(|l| (number_after(l, "users "), number_after(l, "runs ")))
        .collect()
}

fn agentload(args: &[&str]) -> std::process::Output {
    crate::common::agentload().args(args).output().unwrap()
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn the_live_line_rises_and_ends_at_the_summary_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_plan_with(dir.path(), &plan("20ms", ""), &["--progress", "500ms"]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let lines = live_lines(&out.stderr);
    assert!(lines.len() >= 4, "{}", out.explain());
    assert!(lines.windows(2).all(|w| w[0].1 <= w[1].1), "{lines:?}");
    let most_users = lines.iter().map(|l| l.0).max().unwrap();
    assert!(lines[0].0 < most_users && most_users == 4, "{lines:?}");
    let last = lines.last().unwrap();
    assert_eq!(last.1, out.summary()["runs"]["started"].as_u64().unwrap());
    for stream in [&out.stdout, &out.stderr] {
        assert!(!stream.contains("[INFO]"), "{}", out.explain());
    }

    let quiet_dir = tempfile::tempdir().unwrap();
    let quiet = run_plan_with(quiet_dir.path(), &plan("20ms", ""), &["--quiet"]);
    assert_eq!(quiet.code, 0, "{}", quiet.explain());
    assert!(live_lines(&quiet.stderr).is_empty(), "{}", quiet.explain());
    assert!(!quiet.stdout.contains("[INFO]"));
}

#[test]
fn goose_log_comes_back_with_verbose() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_plan_with(dir.path(), &plan("5ms", ""), &["-v", "--quiet"]);
    assert_eq!(out.code, 0, "{}", out.explain());
    assert!(out.stdout.contains("[INFO]"), "{}", out.explain());
}

#[test]
fn compare_flags_a_slower_run_and_junit_lists_every_failure() {
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = run_plan_with(a_dir.path(), &plan("20ms", ""), &["--quiet"]);
    assert_eq!(a.code, 0, "{}", a.explain());
    let a_report = a.report_dir.clone().unwrap();

    // The same run against itself: nothing regressed.
    let same = agentload(&[
        "report",
        "compare",
        a_report.to_str().unwrap(),
        a_report.to_str().unwrap(),
    ]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stdout));
    assert!(text(&same.stdout).contains("no regression"));

    // Twice the event delay, compared at the end of the run, with a rule that fails.
    let junit = b_dir.path().join("junit.xml");
    let b = run_plan_with(
        b_dir.path(),
        &plan("40ms", "[sla]\nagent_run_p95 = \"1ms\"\n"),
        &[
            "--quiet",
            "--baseline",
            a_report.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(b.code, 1, "{}", b.explain());
    let s = b.summary();
    let regressed: Vec<&str> = s["comparison"]["figures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["regressed"] == true)
        .map(|f| f["figure"].as_str().unwrap())
        .collect();
    assert!(regressed.contains(&"WS agent_run P95"), "{regressed:?}");
    let failed_rules = s["sla"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .count();
    assert_eq!(failed_rules, 1, "{s}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    assert_eq!(failures, failed_rules + regressed.len(), "{xml}");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(
        cases,
        s["sla"].as_array().unwrap().len() + regressed.len(),
        "{xml}"
    );

    // The command form gives the same verdict.
    let b_report = b.report_dir.clone().unwrap();
    let cmp = agentload(&[
        "report",
        "compare",
        a_report.to_str().unwrap(),
        b_report.to_str().unwrap(),
        "--tolerance",
        "10%",
    ]);
    assert_eq!(cmp.status.code(), Some(1), "{}", text(&cmp.stdout));
    let table = text(&cmp.stdout);
    let line = table
        .lines()
        .find(|l| l.trim_start().starts_with("WS agent_run P95"))
        .unwrap();
    assert!(line.ends_with("REGRESSED"), "{table}");
}

#[test]
fn render_reproduces_the_report_from_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_plan_with(dir.path(), &plan("5ms", ""), &["--quiet"]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let report = out.report_dir.clone().unwrap();
    let before = std::fs::read_to_string(report.join("index.html")).unwrap();
    std::fs::remove_file(report.join("index.html")).unwrap();
    let r = agentload(&["report", "render", report.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let after = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert_eq!(before, after);
    for section in ["id=\"sla\"", "Event funnel", "Per-event latency"] {
        assert!(after.contains(section), "{section}");
    }
}

#[test]
fn report_commands_refuse_a_folder_without_a_summary_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().to_str().unwrap();
    for args in [
        vec!["report", "render", here],
        vec!["report", "compare", here, here],
    ] {
        let out = agentload(&args);
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.contains(&Path::new(here).join("summary.json").display().to_string()),
            "{err}"
        );
    }
}
