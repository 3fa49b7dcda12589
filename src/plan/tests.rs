use super::*;

const MINIMAL: &str = r#"
target = "embedded"

[[stages]]
users = 3
duration = "5s"

[[stages]]
users = 0
duration = "1s"
"#;

fn parse(text: &str) -> Result<Plan, PlanError> {
    Plan::parse(text, Path::new("plans/x.toml"))
}

fn invalid(text: &str) -> (usize, String, String) {
    match parse(text) {
        Err(PlanError::Invalid {
            line, key, message, ..
        }) => (line, key, message),
        other => panic!("expected an invalid plan, got {other:?}"),
    }
}

#[test]
fn minimal_plan_gets_defaults() {
    let plan = parse(MINIMAL).unwrap();
    assert!(plan.target.embedded);
    assert!(plan.target.tls);
    assert_eq!(plan.auth.mode, AuthMode::Mint);
    assert_eq!(plan.scenario.min_thinking_events, 2);
    assert_eq!(plan.scenario.min_thinking_chars, 50);
    assert_eq!(plan.goose_test_plan(), "3,5;0,1");
    assert_eq!(plan.name(), "x");
    assert_eq!(plan.peak_users(), 3);

    let open_ended = parse(&MINIMAL.replace("users = 0", "users = 2")).unwrap();
    assert_eq!(open_ended.goose_test_plan(), "3,5;2,1;0,0");
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let text = format!("{MINIMAL}\n[scenario]\nrun_timeout = \"5s\"\nthinktime = \"1s\"\n");
    let (line, key, message) = invalid(&text);
    assert_eq!(line, 14, "{message}");
    assert_eq!(key, "scenario.thinktime");
    assert!(message.contains("unknown field `thinktime`"), "{message}");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.starts_with("plans/x.toml:14: scenario.thinktime:"),
        "{err}"
    );
}

#[test]
fn bad_value_names_its_key() {
    let text = MINIMAL.replace("duration = \"5s\"", "duration = \"5 parsecs\"");
    let (line, key, message) = invalid(&text);
    assert_eq!((line, key.as_str()), (6, "stages.duration"), "{message}");
    assert!(message.contains("not a duration"), "{message}");
}

#[test]
fn semantic_errors_name_their_key() {
    let text =
        "[target]\nbase_url = \"https://x.example\"\n\n[[stages]]\nusers = 1\nduration = \"1s\"\n";
    let (line, key, _) = invalid(text);
    assert_eq!((line, key.as_str()), (1, "target.ws_url"));

    let text = MINIMAL.replace("users = 3", "users = 0");
    let (_, key, message) = invalid(&text);
    assert_eq!(key, "stages.users", "{message}");

    let text = "target = \"staging\"\n[[stages]]\nusers = 1\nduration = \"1s\"\n";
    let (line, key, message) = invalid(text);
    assert_eq!((line, key.as_str()), (1, "target"), "{message}");
}

#[test]
fn sla_becomes_goose_rules() {
    let text = format!(
        "{MINIMAL}\n[sla]\nconnect_avg = \"20s\"\nagent_run_p95 = \"45s\"\nerror_rate = \"5%\"\nrules = [\"p99<2s for WS first_event\"]\n"
    );
    let plan = parse(&text).unwrap();
    assert_eq!(
        plan.sla.goose_rules(),
        vec![
            "avg<=20000ms for WS connect",
            "p95<=45000ms for WS agent_run",
            "p99<2s for WS first_event"
        ],
        "error_rate is judged by agentload on runs and connects, not by Goose"
    );
    assert_eq!(plan.sla.error_rate.map(|p| p.0), Some(5.0));
}

#[test]
fn env_vars_expand_in_every_path_and_url() {
    // PATH is set wherever tests run; its value stands in for a folder.
    let path = std::env::var("PATH").unwrap();
    let text = format!(
        "{MINIMAL}\n[report]\ndir = \"${{PATH}}/reports\"\n[preflight]\nendpoints = [\"${{PATH}}/x\"]\n"
    );
    let plan = parse(&text).unwrap();
    assert_eq!(
        plan.report.dir,
        std::path::PathBuf::from(format!("{path}/reports"))
    );
    assert_eq!(plan.preflight.endpoints, vec![format!("{path}/x")]);
    let text = format!("{MINIMAL}\n[report]\ndir = \"${{AGENTLOAD_SURELY_UNSET_DIR}}\"\n");
    let err = parse(&text).unwrap_err().to_string();
    assert!(
        err.contains("report.dir") && err.contains("AGENTLOAD_SURELY_UNSET_DIR"),
        "{err}"
    );
}

const OPEN: &str = r#"target = "embedded"

[scenario]
think_time = "exp(2s)"

[workload]
model = "open"

[session]
turns = 3

[[arrivals]]
rate = "2/s"
duration = "30s"
"#;

#[test]
fn an_open_plan_holds_a_pool_for_its_arrivals_and_drain() {
    let plan = parse(OPEN).unwrap();
    assert!(plan.is_open());
    // The pool (1,000 by default) launched over 1 s, held for the arrivals, the drain and
    // the margin.
    assert_eq!(plan.goose_test_plan(), "1000,1;1000,65;0,0");
    assert_eq!(plan.peak_users(), 1000);
    assert_eq!(plan.planned_duration(), std::time::Duration::from_secs(61));
    let shard = plan.for_shard(Shard::new(1, 3).unwrap());
    assert_eq!(shard.workload.max_sessions, 333);
}

#[test]
fn bad_workload_values_name_file_line_and_key() {
    for (from, to, line, key, says) in [
        (
            "rate = \"2/s\"",
            "rate = \"0/s\"",
            13,
            "arrivals.rate",
            "rate 0",
        ),
        (
            "rate = \"2/s\"",
            "rate = \"-1/s\"",
            13,
            "arrivals.rate",
            "0 or more",
        ),
        (
            "rate = \"2/s\"",
            "rate = \"2/fortnight\"",
            13,
            "arrivals.rate",
            "not a rate",
        ),
        (
            "exp(2s)",
            "exp(-1s)",
            4,
            "scenario.think_time",
            "not a duration",
        ),
        (
            "exp(2s)",
            "gauss(2s)",
            4,
            "scenario.think_time",
            "not a think time",
        ),
        ("turns = 3", "turns = 0", 10, "session.turns", "1 to"),
        ("turns = 3", "turns = \"8..3\"", 10, "session.turns", "1 to"),
        (
            "duration = \"30s\"",
            "duration = \"0s\"",
            14,
            "arrivals.duration",
            "more than 0",
        ),
        (
            "model = \"open\"",
            "model = \"half-open\"",
            7,
            "workload.model",
            "unknown variant",
        ),
    ] {
        let text = OPEN.replace(from, to);
        let (l, k, message) = invalid(&text);
        assert_eq!((l, k.as_str()), (line, key), "{to}: {message}");
        assert!(message.contains(says), "{to}: {message}");
    }
    // The models do not mix: stages in an open plan, arrivals in a closed one.
    let text = format!("{OPEN}\n[[stages]]\nusers = 1\nduration = \"1s\"\n");
    let (_, key, message) = invalid(&text);
    assert_eq!(key, "stages", "{message}");
    let text = OPEN.replace("model = \"open\"", "model = \"closed\"");
    let (_, key, message) = invalid(&text);
    assert_eq!(key, "arrivals", "{message}");
    let text = format!("{OPEN}\n[capacity]\nby = \"users\"\n");
    let (_, key, _) = invalid(&text);
    assert_eq!(key, "capacity.by");
}
