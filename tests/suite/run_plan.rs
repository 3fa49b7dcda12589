//! `agentload run` end to end against the real reference target on loopback.

use crate::common::*;

fn remote_plan(t: &TargetProc, extra: &str) -> String {
    format!(
        r#"
name = "it"
[target]
base_url = "{base}"
ws_url = "{ws}"
ca_file = "{ca}"

[auth]
mode = "mint"
secret_env = "IT_CLIENT_SECRET"

[scenario]
run_timeout = "20s"
think_time = "50ms"

[[stages]]
users = 4
duration = "1s"
[[stages]]
users = 4
duration = "3s"
[[stages]]
users = 0
duration = "1s"
{extra}
"#,
        base = t.base_url,
        ws = t.ws_url,
        ca = t.ca_file.display()
    )
}

#[test]
fn completed_runs_match_the_targets_own_counters() {
    let dir = tempfile::tempdir().unwrap();
    let target = TargetProc::start(dir.path(), &["--event-delay-ms", "5"]);
    let out = run_plan(
        dir.path(),
        &remote_plan(&target, "[sla]\nerror_rate = \"0%\"\n"),
        &[("IT_CLIENT_SECRET", SECRET)],
    );
    assert_eq!(out.code, 0, "{}", out.explain());
    let summary = out.summary();
    let completed = summary["runs"]["completed"].as_u64().unwrap();
    assert!(completed >= 4, "each user completes runs: {completed}");
    assert_eq!(summary["runs"]["failed"], 0, "{}", out.explain());

    // Connections return to 0 at the target once every user has closed.
    let stats = target.stats_until(|s| s["connections_open"] == 0);
    assert_eq!(stats["connections_open"], 0, "{stats}");
    assert_eq!(
        stats["runs_completed"].as_u64().unwrap(),
        completed,
        "{stats}"
    );
    assert_eq!(
        stats["runs_started"].as_u64().unwrap(),
        completed,
        "{stats}"
    );
    assert_eq!(
        stats["connections_total"], summary["connections"]["established"],
        "{stats}"
    );
    assert_eq!(
        summary["connections"]["closed_cleanly"],
        summary["connections"]["established"]
    );
    // Every event the target sent was received and counted.
    let received: u64 = summary["events"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(stats["events_sent"].as_u64().unwrap(), received, "{stats}");
    // The funnel: every run reached every one of the five events.
    for (name, count) in summary["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].clone(), p[1].as_u64().unwrap()))
    {
        assert_eq!(count, completed, "funnel {name}");
    }
}

#[test]
fn embedded_smoke_plan_passes_and_writes_reports() {
    let dir = tempfile::tempdir().unwrap();
    let plan = std::fs::read_to_string("loadplans/smoke.toml").unwrap();
    let out = run_plan(dir.path(), &plan, &[]);
    assert_eq!(out.code, 0, "{}", out.explain());
    let report = out.report_dir.as_ref().unwrap();
    for file in ["goose.html", "goose.json", "summary.json"] {
        assert!(
            report.join(file).is_file(),
            "{file} missing in {}",
            report.display()
        );
    }
    let summary = out.summary();
    let counters = &summary["target_counters"];
    assert_eq!(
        counters["runs_completed"], summary["runs"]["completed"],
        "{summary}"
    );
    assert_eq!(summary["passed"], true);
    assert!(summary["sla"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["passed"] == true));
}

#[test]
fn a_wrong_client_secret_is_refused_and_fails_the_sla() {
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"
target = "embedded"
[auth]
secret_env = "IT_CLIENT_SECRET"
[scenario]
think_time = "100ms"
[[stages]]
users = 2
duration = "1s"
[[stages]]
users = 2
duration = "2s"
[sla]
error_rate = "5%"
"#
    .replace(
        "target = \"embedded\"",
        "[target]\nembedded = true\nsecret_env = \"IT_TARGET_SECRET\"",
    );
    let out = run_plan(
        dir.path(),
        &plan,
        &[
            (
                "IT_CLIENT_SECRET",
                "not-the-secret-the-target-holds-0000000",
            ),
            ("IT_TARGET_SECRET", SECRET),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.explain());
    let summary = out.summary();
    let refused = summary["failures"]["auth.refused"]["count"]
        .as_u64()
        .unwrap_or(0);
    assert!(refused > 0, "{summary}");
    assert_eq!(summary["connections"]["established"], 0);
    assert_eq!(
        summary["target_counters"]["auth_rejections"]
            .as_u64()
            .unwrap(),
        refused
    );
    assert_eq!(summary["target_counters"]["runs_started"], 0);
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
}
