//! The verdict cannot pass by omission: the error rate is the share of attempts that failed
//! (a successful connect is no attempt of its own), a plan without an error rule is judged at
//! 0%, and stdout carries agentload's verdict, not Goose's lines.

use crate::common::*;

#[test]
fn one_run_per_user_half_failing_reads_half_and_fails_the_default_rule() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(
        dir.path(),
        &["--event-delay-ms", "5", "--error-rate", "0.5"],
    );
    // A think time longer than the test: each user connects once and runs once.
    let plan = format!(
        "name = \"half\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[scenario]\nthink_time = \"60s\"\n\
         [[stages]]\nusers = 20\nduration = \"1s\"\n[[stages]]\nusers = 20\nduration = \"2s\"\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display()
    );
    let out = run_plan(dir.path(), &plan, &[("IT_CLIENT_SECRET", SECRET)]);
    let stats = t.stats_until(|s| s["connections_open"] == 0);
    let s = out.summary();
    assert_eq!(s["runs"]["started"], 20, "{}", out.explain());
    assert_eq!(s["connections"]["established"], 20, "{s}");
    let injected = stats["faults"]["error"].as_u64().unwrap();
    assert_eq!(
        s["runs"]["failed"].as_u64().unwrap(),
        injected,
        "{s}\n{stats}"
    );
    let expected = 100.0 * injected as f64 / 20.0;
    let rule = s["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"].as_str().unwrap().starts_with("error rate"))
        .unwrap();
    assert!(
        rule["rule"].as_str().unwrap().contains(
            "error rate <= 0% (failed runs + connects + api calls, default: the plan sets none)"
        ),
        "{rule}"
    );
    let observed: f64 = rule["observed"]
        .as_str()
        .unwrap()
        .split('%')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // Over runs, not runs + connects: 50 % of 20 runs reads ≈ 50 %, not ≈ 25 %.
    assert!(
        (observed - expected).abs() < 1e-6,
        "{observed} % observed, {injected} of 20 runs failed\n{}",
        out.explain()
    );
    assert_eq!(rule["passed"], injected == 0);
    assert_eq!(
        out.code,
        if injected == 0 { 0 } else { 1 },
        "{}",
        out.explain()
    );
    // Goose's "users launched" lines stay off stdout.
    assert!(!out.stdout.contains("launched"), "{}", out.explain());
    assert!(
        out.stdout
            .lines()
            .filter(|l| !l.is_empty())
            .all(|l| l.starts_with("agentload") || l.starts_with("  ")),
        "{}",
        out.explain()
    );
}
