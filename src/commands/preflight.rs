//! `agentload preflight PLAN.toml`: validate a deployment before loading it — health, auth,
//! TLS, CORS, env vars, one agent run — one verdict line each, `preflight.json`, exit 0/1/2.

mod checks;
mod tls_check;

use crate::errors::Exit;
use crate::plan::Plan;
use crate::runner::{client_credential, resolve_target, Clients, SetupError};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
}

/// One line of the preflight table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub area: String,
    pub name: String,
    pub verdict: Verdict,
    pub reason: String,
}

impl Check {
    pub fn new(area: &str, name: &str, verdict: Verdict, reason: impl Into<String>) -> Check {
        Check {
            area: area.into(),
            name: name.into(),
            verdict,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreflightReport {
    pub target: String,
    pub checks: Vec<Check>,
}

impl PreflightReport {
    /// The worst verdict of all checks (pass when there are none).
    pub fn verdict(&self) -> Verdict {
        self.checks
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Pass)
    }

    /// The table as the terminal shows it.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let verdict = match c.verdict {
                Verdict::Pass => "PASS",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            out.push_str(&format!(
                "{verdict}  {:<6} {:<34} {}\n",
                c.area, c.name, c.reason
            ));
        }
        out
    }
}

/// Runs every check against a resolved target.
pub(crate) async fn checks(
    plan: &Plan,
    resolved: &crate::runner::Resolved,
    credential: &str,
) -> Result<PreflightReport, SetupError> {
    let clients = Clients::new(plan, resolved, credential.to_string())?;
    let mut report = PreflightReport {
        target: resolved.ws_url.clone(),
        checks: Vec::new(),
    };
    let c = &mut report.checks;
    c.extend(checks::health(plan, resolved, &clients.http).await);
    c.extend(checks::endpoints(plan, resolved, &clients.http).await);
    c.extend(tls_check::tls(resolved).await);
    c.extend(checks::cors(plan, resolved, &clients.http).await);
    c.extend(checks::env_vars(&plan.preflight.env));
    c.extend(checks::auth(plan, credential, &clients).await);
    if plan.preflight.agent_run {
        c.push(checks::agent_run(plan, &clients).await);
    }
    Ok(report)
}

/// `agentload preflight PLAN`: prints the table, writes `preflight.json`, returns the exit code.
pub async fn run(plan_path: &Path) -> Exit {
    crate::runner::exit_code(run_inner(plan_path).await)
}

async fn run_inner(plan_path: &Path) -> Result<Exit, SetupError> {
    let plan = Plan::load(plan_path)?;
    let dir = crate::runner::report_folder(&plan, "preflight", chrono::Utc::now())?;
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
