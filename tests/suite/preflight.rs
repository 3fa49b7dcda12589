//! `agentload preflight` against the reference target: all pass when all is well, and each
//! broken thing is a warn or a fail with its reason — never a secret in any output.

use crate::common::*;
use serde_json::Value;

const DB_PASSWORD: &str = "hunter2-never-print-me";

struct Preflight {
    code: i32,
    all_output: String,
    checks: Vec<Value>,
}

impl Preflight {
    fn check(&self, name: &str) -> &Value {
        self.checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name}: {}", self.all_output))
    }
}

fn preflight(flags: &[&str], extra: &str, client_secret: &str) -> Preflight {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), flags);
    let plan = format!(
        "name = \"pf\"\n[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n\
         [auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n[[stages]]\nusers = 1\nduration = \"1s\"\n\
         [report]\ndir = \"{}\"\n{extra}\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        dir.path().join("reports").display()
    );
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    let out = agentload()
        .arg("preflight")
        .arg(&path)
        .env("IT_CLIENT_SECRET", client_secret)
        .env(
            "IT_DATABASE_URL",
            format!("postgresql://app:{DB_PASSWORD}@db.internal/app"),
        )
        .output()
        .unwrap();
    let report_dir = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let json = std::fs::read_to_string(report_dir.join("preflight.json")).unwrap_or_default();
    let all_output = format!(
        "{}{}{json}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in [SECRET, DB_PASSWORD, client_secret] {
        assert!(
            !all_output.contains(secret),
            "a secret was printed:\n{all_output}"
        );
    }
    let checks = serde_json::from_str::<Value>(&json)
        .map(|v| v["checks"].as_array().unwrap().clone())
        .unwrap_or_default();
    Preflight {
        code: out.status.code().unwrap_or(-1),
        all_output,
        checks,
    }
}

fn verdict(p: &Preflight, name: &str) -> String {
    p.check(name)["verdict"].as_str().unwrap().to_string()
}

#[test]
fn a_healthy_target_passes_every_check() {
    let env =
        "[[preflight.env]]\nname = \"IT_DATABASE_URL\"\nscheme = [\"postgresql\", \"postgres\"]\n";
    let p = preflight(
        &[],
        &format!("[preflight]\nendpoints = [\"/health\"]\n{env}"),
        SECRET,
    );
    assert_eq!(p.code, 0, "{}", p.all_output);
    assert!(p.checks.len() >= 15, "{}", p.all_output);
    for c in &p.checks {
        assert_eq!(c["verdict"], "pass", "{c}\n{}", p.all_output);
    }
}

#[test]
fn certificate_expiry_warns_then_fails() {
    let soon = preflight(&["--cert-valid-days", "20"], "", SECRET);
    assert_eq!(verdict(&soon, "expiry"), "warn", "{}", soon.all_output);
    assert_eq!(soon.code, 0);
    let very_soon = preflight(&["--cert-valid-days", "3"], "", SECRET);
    assert_eq!(
        verdict(&very_soon, "expiry"),
        "fail",
        "{}",
        very_soon.all_output
    );
    assert_eq!(very_soon.code, 1);
    let expired = preflight(&["--cert-valid-days", "-1"], "", SECRET);
    assert_eq!(verdict(&expired, "certificate"), "fail");
    assert!(
        expired.check("certificate")["reason"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("expired"),
        "{}",
        expired.all_output
    );
}

#[test]
fn a_wrong_hostname_fails_the_certificate() {
    let p = preflight(&["--cert-hostname", "other.example"], "", SECRET);
    assert_eq!(verdict(&p, "certificate"), "fail");
    assert!(
        p.check("certificate")["reason"]
            .as_str()
            .unwrap()
            .contains("not valid for name"),
        "{}",
        p.all_output
    );
    assert_eq!(p.code, 1);
}

#[test]
fn a_wrong_cors_origin_fails() {
    let p = preflight(
        &[],
        "[preflight]\nfrontend_origin = \"https://app.example\"\n",
        SECRET,
    );
    assert_eq!(verdict(&p, "frontend origin"), "fail", "{}", p.all_output);
    assert_eq!(verdict(&p, "foreign origin"), "pass");
    assert_eq!(p.code, 1);
}

#[test]
fn env_vars_missing_or_malformed_are_reported_without_values() {
    let env = "[[preflight.env]]\nname = \"IT_SURELY_MISSING_VAR\"\n\
               [[preflight.env]]\nname = \"IT_DATABASE_URL\"\nscheme = [\"mysql\"]\n\
               [[preflight.env]]\nname = \"IT_OPTIONAL_KEY\"\nrequired = false\n";
    let p = preflight(&[], env, SECRET);
    assert_eq!(verdict(&p, "IT_SURELY_MISSING_VAR"), "fail");
    assert_eq!(verdict(&p, "IT_DATABASE_URL"), "fail");
    assert_eq!(verdict(&p, "IT_OPTIONAL_KEY"), "warn");
    assert_eq!(p.code, 1);
}

#[test]
fn a_short_jwt_secret_fails() {
    // Only the length is judged here; the target holds another secret, so tokens fail too.
    let p = preflight(&[], "", "only-20-chars-secret");
    assert_eq!(verdict(&p, "JWT secret length"), "fail", "{}", p.all_output);
}

#[test]
fn a_target_accepting_bad_tokens_fails_auth() {
    let p = preflight(&["--accept-bad-tokens"], "", SECRET);
    for name in [
        "refuses a missing token",
        "refuses an expired token",
        "refuses a bad signature",
    ] {
        assert_eq!(verdict(&p, name), "fail", "{name}: {}", p.all_output);
        assert!(p.check(name)["reason"]
            .as_str()
            .unwrap()
            .contains("auth bypass"));
    }
    assert_eq!(p.code, 1);
}

#[test]
fn run_with_preflight_checks_first_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = std::fs::read_to_string("loadplans/smoke.toml")
        .unwrap()
        .replace("duration = \"6s\"", "duration = \"1s\"");
    let path = dir.path().join("smoke.toml");
    std::fs::write(
        &path,
        format!(
            "{plan}\n[report]\ndir = \"{}\"\n",
            dir.path().join("r").display()
        ),
    )
    .unwrap();
    let out = agentload()
        .args(["run", "--preflight"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = std::fs::read_dir(dir.path().join("r"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(report.join("summary.json")).unwrap()).unwrap();
    assert!(summary["preflight"]["checks"].as_array().unwrap().len() >= 15);
    assert!(summary["runs"]["completed"].as_u64().unwrap() > 0);
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("id=\"preflight\""));
}

#[test]
fn a_failing_preflight_sends_no_load() {
    let dir = tempfile::tempdir().unwrap();
    let t = TargetProc::start(dir.path(), &["--accept-bad-tokens"]);
    let plan = format!(
        "[target]\nbase_url = \"{}\"\nws_url = \"{}\"\nca_file = \"{}\"\n[auth]\nsecret_env = \"IT_CLIENT_SECRET\"\n\
         [[stages]]\nusers = 2\nduration = \"2s\"\n[report]\ndir = \"{}\"\n",
        t.base_url,
        t.ws_url,
        t.ca_file.display(),
        dir.path().join("r").display()
    );
    let path = dir.path().join("p.toml");
    std::fs::write(&path, plan).unwrap();
    let out = agentload()
        .args(["run", "--preflight"])
        .arg(&path)
        .env("IT_CLIENT_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("preflight failed: no load was sent"));
    // Only preflight's own agent run reached the target.
    assert_eq!(t.stats()["runs_started"], 1);
}
