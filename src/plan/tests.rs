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
