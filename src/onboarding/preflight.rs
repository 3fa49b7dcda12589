//! Preflight checks of a deployment before loading it: health and API timings, TLS, CORS,
//! env vars, auth configuration, one agent run end to end.

mod agent;
mod config;
mod http;
mod tls_check;

pub use config::env_verdict;

use crate::load::drive::{Clients, Resolved, SetupError};
use crate::model::preflight::PreflightReport;
use crate::plan::Plan;

/// Runs every check against a resolved target.
pub async fn checks(
    plan: &Plan,
    resolved: &Resolved,
    credential: &str,
) -> Result<PreflightReport, SetupError> {
    let clients = Clients::new(plan, resolved, credential.to_string())?;
    let mut report = PreflightReport {
        target: resolved.ws_url.clone(),
        checks: Vec::new(),
    };
    let c = &mut report.checks;
    c.extend(http::health(plan, resolved, &clients.http).await);
    c.extend(http::endpoints(plan, resolved, &clients.http).await);
    c.extend(tls_check::tls(resolved).await);
    c.extend(http::cors(plan, resolved, &clients.http).await);
    c.extend(config::env_vars(&plan.preflight.env));
    c.extend(config::auth(plan, credential, &clients).await);
    if plan.preflight.agent_run {
        c.push(agent::agent_run(plan, &clients).await);
    }
    Ok(report)
}

/// Whether the backend answers its health check (`[preflight] backend_health`): why not, in
/// one line. What a scaling study waits for after each size's scale command.
pub async fn backend_health(plan: &Plan, resolved: &Resolved) -> Result<(), String> {
    let clients = Clients::new(plan, resolved, String::new()).map_err(|e| e.to_string())?;
    let checks = http::health(plan, resolved, &clients.http).await;
    match checks.into_iter().find(|c| c.name == "backend") {
        Some(c) if c.verdict == crate::model::preflight::Verdict::Pass => Ok(()),
        Some(c) => Err(c.reason),
        None => Err("no backend health check".into()),
    }
}
