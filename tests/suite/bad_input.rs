//! Bad input gets exit code 2 and one readable line, never a panic.

use crate::common::*;

fn assert_one_clean_line(out: &RunOutput) {
    assert_eq!(out.code, 2, "{}", out.explain());
    assert!(!out.stderr.contains("panicked"), "{}", out.explain());
    assert!(!out.stderr.contains("RUST_BACKTRACE"), "{}", out.explain());
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.explain());
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.toml");
    std::fs::write(
        &path,
        "target = \"embedded\"\n\n[[stages]]\nusers = 2\nduration = \"1s\"\nramp = \"fast\"\n",
    )
    .unwrap();
    let out = run_plan_file(dir.path(), &path, &[]);
    assert_one_clean_line(&out);
    let expected = format!(
        "error: {}:6: stages.ramp: unknown field `ramp`",
        path.display()
    );
    assert!(out.stderr.contains(&expected), "{}", out.explain());
}

#[test]
fn missing_plan_file_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_plan_file(dir.path(), &dir.path().join("nope.toml"), &[]);
    assert_one_clean_line(&out);
    assert!(
        out.stderr.contains("nope.toml: cannot read the load plan"),
        "{}",
        out.explain()
    );
}

#[test]
fn unreachable_target_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let plan = format!(
        "[target]\nbase_url = \"https://127.0.0.1:{port}\"\nws_url = \"wss://127.0.0.1:{port}/ws\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[[stages]]\nusers = 1\nduration = \"1s\"\n"
    );
    let out = run_plan(dir.path(), &plan, &[("IT_CLIENT_SECRET", SECRET)]);
    assert_one_clean_line(&out);
    assert!(
        out.stderr.contains(&format!(
            "error: target unreachable: wss://127.0.0.1:{port}/ws"
        )),
        "{}",
        out.explain()
    );
    assert_no_report_left(dir.path());
}

#[test]
fn missing_secret_env_var_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let plan = "[target]\nbase_url = \"https://127.0.0.1:9\"\nws_url = \"wss://127.0.0.1:9/ws\"\n\
                [auth]\nsecret_env = \"IT_SURELY_UNSET_SECRET\"\n[[stages]]\nusers = 1\nduration = \"1s\"\n";
    let out = run_plan(dir.path(), plan, &[]);
    assert_one_clean_line(&out);
    assert!(
        out.stderr
            .contains("env var IT_SURELY_UNSET_SECRET is not set"),
        "{}",
        out.explain()
    );
    assert_no_report_left(dir.path());
}

/// A setup error writes no figures, so it leaves no (empty) report folder behind.
fn assert_no_report_left(dir: &std::path::Path) {
    let left: Vec<_> = std::fs::read_dir(dir.join("reports"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn every_shipped_plan_parses() {
    for entry in std::fs::read_dir("loadplans").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue; // a prompt pool beside the plans
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // The staging plan reads its addresses from env vars; give it some.
        let text = text
            .replace("${STAGING_BASE_URL}", "https://staging.example.com")
            .replace("${STAGING_WS_URL}", "wss://staging.example.com/ws")
            .replace("${STAGING_AUTH_URL}", "https://auth.staging.example.com");
        if let Err(e) = agentload::plan::Plan::parse(&text, &path) {
            panic!("{e}");
        }
    }
}

#[test]
fn unset_env_var_in_a_url_names_the_variable_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_plan_file(
        dir.path(),
        std::path::Path::new("loadplans/staging.toml")
            .canonicalize()
            .unwrap()
            .as_path(),
        &[],
    );
    assert_one_clean_line(&out);
    assert!(
        out.stderr
            .contains("target.base_url: env var STAGING_BASE_URL is not set"),
        "{}",
        out.explain()
    );
}

#[test]
fn more_users_than_open_files_allow_is_refused_before_any_load() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    if limit.rlim_max > 10_000_000 {
        return; // no real limit on this machine: nothing to refuse
    }
    let users = limit.rlim_max + 1;
    let dir = tempfile::tempdir().unwrap();
    let plan = format!(
        "target = \"embedded\"\n[[stages]]\nusers = {users}\nduration = \"1s\"\n[sampler]\nenabled = false\n"
    );
    let out = run_plan(dir.path(), &plan, &[]);
    assert_one_clean_line(&out);
    assert!(
        out.stderr.contains(&format!("{users} users need"))
            && out.stderr.contains(&limit.rlim_max.to_string()),
        "{}",
        out.explain()
    );
    assert_no_report_left(dir.path());
}
