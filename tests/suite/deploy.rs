//! The Kubernetes manifests agree with the tool: the plan in the ConfigMap parses as a plan,
//! and the Indexed Job's shard count equals its completions and parallelism. (CI validates
//! the manifests against the Kubernetes schemas with kubernetes-validate.)

use crate::common::serial::in_own_process;
use std::path::Path;

fn manifest(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy/k8s")
            .join(name),
    )
    .unwrap()
}

/// The block scalar under `key: |`, unindented.
fn block(text: &str, key: &str) -> String {
    let mut lines = text.lines().skip_while(|l| l.trim() != format!("{key}: |"));
    lines.next().expect("the key is there");
    let body: Vec<&str> = lines
        .take_while(|l| l.trim().is_empty() || l.starts_with("    "))
        .collect();
    body.iter()
        .map(|l| l.strip_prefix("    ").unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first `key: value` (or `- name: key` + `value:`) after `key`.
fn value_after(text: &str, key: &str) -> String {
    let mut lines = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .skip_while(|l| !l.contains(key));
    let first = lines.next().unwrap();
    let v = match first.split_once(": ") {
        Some((k, v)) if k.trim() == key => v,
        _ => lines.next().unwrap().split_once(": ").unwrap().1,
    };
    v.trim().trim_matches('"').to_string()
}

#[test]
fn the_configmaps_plan_is_a_valid_plan() {
    let env = [
        ("AGENTLOAD_BASE_URL", "https://api.staging.example.com"),
        ("AGENTLOAD_WS_URL", "wss://api.staging.example.com/ws"),
        ("AGENTLOAD_RUN_ID", "it"),
    ];
    if !in_own_process("deploy::the_configmaps_plan_is_a_valid_plan", &env) {
        return;
    }
    let text = block(&manifest("plan.yaml"), "plan.toml");
    let plan = agentload::plan::Plan::parse(&text, Path::new("deploy/k8s/plan.yaml")).unwrap();
    let shards: usize = value_after(&manifest("job.yaml"), "AGENTLOAD_SHARDS")
        .parse()
        .unwrap();
    assert!(plan.peak_users() >= shards, "every shard gets users");
    assert_eq!(plan.report.dir, Path::new("/reports/it"));
}

#[test]
fn the_indexed_job_runs_every_shard_at_once() {
    let job = manifest("job.yaml");
    assert_eq!(value_after(&job, "completionMode"), "Indexed");
    let shards = value_after(&job, "AGENTLOAD_SHARDS");
    assert_eq!(value_after(&job, "completions"), shards);
    assert_eq!(value_after(&job, "parallelism"), shards);
}

#[test]
fn a_pod_stop_leaves_time_for_the_grace_and_the_reports() {
    let job = manifest("job.yaml");
    let period: f64 = value_after(&job, "terminationGracePeriodSeconds")
        .parse()
        .unwrap();
    let args = value_after(&job, "args");
    let grace = args
        .split("\"--grace\", \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the Job sets --grace");
    let grace = agentload::plan::parse_duration(grace)
        .unwrap()
        .as_secs_f64();
    // SIGKILL comes `terminationGracePeriodSeconds` after SIGTERM: the runs' grace and the
    // writing of the reports must fit in it.
    assert!(period >= grace + 10.0, "{period} s for a {grace} s grace");
}

#[test]
fn each_shard_is_scraped_where_it_serves_its_metrics() {
    let job = manifest("job.yaml");
    let port = value_after(&job, "prometheus.io/port");
    assert!(
        value_after(&job, "args").contains(&format!("\"--metrics-addr\", \"0.0.0.0:{port}\"")),
        "the scrape annotation's port is the one --metrics-addr serves"
    );
    assert_eq!(value_after(&job, "containerPort"), port);
}

#[test]
fn the_grafana_dashboard_queries_only_what_agentload_serves() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/agentload.json");
    let dashboard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let served = [
        "agentload_runs_total",
        "agentload_failures_total",
        "agentload_connections_open",
        "agentload_users_active",
        "agentload_agent_run_seconds_bucket",
    ];
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("agentload_") {
                let name: String = rest[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(served.contains(&name.as_str()), "{name} in `{expr}`");
                queried += 1;
                rest = &rest[at + name.len()..];
            }
        }
    }
    assert!(queried >= 5, "{queried} agentload series queried");
}

#[test]
fn the_capacity_job_walks_every_shard_at_once_and_its_merge_reads_them() {
    let job = manifest("capacity-job.yaml");
    assert_eq!(value_after(&job, "completionMode"), "Indexed");
    let shards = value_after(&job, "AGENTLOAD_SHARDS");
    assert_eq!(value_after(&job, "completions"), shards);
    assert_eq!(value_after(&job, "parallelism"), shards);
    assert!(value_after(&job, "args").starts_with("[\"capacity\", \"/plan/plan.toml\""));
    let merge = manifest("capacity-merge-job.yaml");
    assert!(merge.contains("- merge\n") && merge.contains("/reports/$(AGENTLOAD_RUN_ID)"));
}
