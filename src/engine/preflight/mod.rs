//! Preflight checks of a deployment before loading it: health and API timings, TLS, CORS,
//! env vars, auth configuration, one agent run end to end.

mod agent;
mod config;
mod http;
mod tls_check;

pub use config::env_verdict;

use crate::engine::load::{Clients, Resolved, SetupError};
use crate::model::preflight::PreflightReport;
use crate::plan::Plan;
use std::time::Duration;

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

/// The seed's API budget: average ≤ 10 s, P95 ≤ 20 s.
pub(super) const AVG_BUDGET: Duration = Duration::from_secs(10);
pub(super) const P95_BUDGET: Duration = Duration::from_secs(20);
/// A foreign origin the CORS policy must not allow.
pub(super) const FOREIGN_ORIGIN: &str = "https://malicious-site.example";

pub(super) fn url(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!("{}{path}", base.trim_end_matches('/'))
    }
}

pub(super) fn auth_base(plan: &Plan, resolved: &Resolved) -> String {
    plan.target
        .auth_url
        .clone()
        .unwrap_or_else(|| resolved.base_url.clone())
}
