//! The open model on shards (#28): each shard schedules its share of the arrival rate, the
//! merged report adds their sessions, and the counts equal the target's own.

use crate::common::{run_shards_and_merge, TargetProc};

const PLAN: &str = r#"
name = "open-sharded"
[target]
base_url = "${IT_BASE}"
ws_url = "${IT_WS}"
ca_file = "${IT_CA}"
[auth]
secret_env = "IT_CLIENT_SECRET"
[scenario]
think_time = "200ms"
[workload]
model = "open"
distribution = "constant"
max_sessions = 50
drain = "10s"
[session]
turns = 2
[[arrivals]]
rate = "4/s"
duration = "10s"
[sla]
error_rate = "1%"
"#;

#[test]
fn two_shards_share_the_rate_and_merge_into_the_targets_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let target = TargetProc::start(dir.path(), &["--event-delay-ms", "20"]);
    let plan = dir.path().join("plan.toml");
    let reports = dir.path().join("reports");
    std::fs::write(
        &plan,
        format!("{PLAN}\n[report]\ndir = \"{}\"\n", reports.display()),
    )
    .unwrap();
    let (m, _) = run_shards_and_merge(&plan, &target, 2, &reports, &dir.path().join("merged"));
    let ss = &m["sessions"];
    // Constant arrivals at 2/s each, interleaved: the whole test's 40, every one served.
    assert_eq!(ss["arrived"], 40, "{ss}");
    assert_eq!(ss["dropped"], 0, "{ss}");
    assert_eq!(ss["completed"], 40, "{ss}");
    assert!(
        (ss["arrivals"]["planned"].as_f64().unwrap() - 40.0).abs() < 1e-9,
        "{ss}"
    );
    let stats = target.stats_until(|s| s["connections_open"] == 0);
    assert_eq!(ss["completed"], stats["sessions"], "{stats}");
    let by_turn: Vec<u64> = ss["by_turn"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["started"].as_u64().unwrap())
        .collect();
    assert_eq!(by_turn, vec![40, 40]);
    assert_eq!(
        stats["runs_by_turn"],
        serde_json::json!([40, 40]),
        "{stats}"
    );
    // Session numbers interleave across shards: users 0..40 of one test, each once.
    let mut numbers: Vec<usize> = target
        .users()
        .iter()
        .map(|id| id[1..id.find('-').unwrap()].parse().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(numbers, (0..40).collect::<Vec<_>>());
    assert!(
        ss["littles_law"]["predicted"].as_f64().unwrap() > 0.0,
        "{ss}"
    );
}
