//! `agentload preflight PLAN.toml`: validate a deployment before loading it — health, auth,
//! TLS, CORS, env vars, one agent run — one verdict line each, `preflight.json`, exit 0/1/2.

use super::exit::exit_code;
use crate::errors::Exit;
use crate::load::drive::{client_credential, resolve_target, SetupError};
use crate::load::folder::report_folder;
use crate::model::preflight::Verdict;
use crate::onboarding::preflight::checks;
use crate::plan::Plan;
use std::path::Path;

/// `agentload preflight PLAN`: prints the table, writes `preflight.json`, returns the exit code.
pub async fn run(plan_path: &Path) -> Exit {
    exit_code(run_inner(plan_path).await)
}

async fn run_inner(plan_path: &Path) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    let dir = report_folder(&plan, "preflight", chrono::Utc::now())?;
    let credential = client_credential(&plan)?;
    let resolved = resolve_target(&plan, &credential, &dir).await?;
    let report = checks(&plan, &resolved, &credential).await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let report = report?;
    print!("{}", report.table());
    let path = dir.join("preflight.json");
    let json = serde_json::to_string_pretty(&report).expect("the report serializes");
    std::fs::write(&path, json).map_err(|e| SetupError::Report {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let verdict = report.verdict();
    println!(
        "agentload preflight: {} — {}",
        match verdict {
            Verdict::Pass => "PASS",
            Verdict::Warn => "PASS with warnings",
            Verdict::Fail => "FAIL",
        },
        path.display()
    );
    Ok(if verdict == Verdict::Fail {
        Exit::SlaFailed
    } else {
        Exit::Pass
    })
}
