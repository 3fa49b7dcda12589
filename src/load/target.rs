//! Where the load goes: the plan's deployment (probed with one TCP connect) or the embedded
//! reference target started as a child; the credential users present; the target's own
//! counters at the end.

use crate::client::auth::secret_from_env;
use crate::load::embedded::{random_secret, EmbeddedTarget};
use crate::load::setup::SetupError;
use crate::plan::{AuthMode, Plan};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the load goes, once resolved.
pub struct Resolved {
    pub base_url: String,
    pub ws_url: String,
    pub ca_file: Option<PathBuf>,
    pub embedded: Option<EmbeddedTarget>,
}

/// The secret (mint) or bypass key (login) the users present. An embedded target with no
/// env var set gets a random one, so the smoke plan needs nothing.
pub fn client_credential(plan: &Plan) -> Result<String, SetupError> {
    let (var, what) = match plan.auth.mode {
        AuthMode::Mint => (&plan.auth.secret_env, "the HS256 JWT secret"),
        AuthMode::Login => (&plan.auth.bypass_key_env, "the auth bypass key"),
    };
    match secret_from_env(var, what) {
        Ok(v) => Ok(v),
        Err(_) if plan.target.embedded => Ok(random_secret()),
        Err(e) => Err(e.into()),
    }
}

pub async fn resolve_target(
    plan: &Plan,
    credential: &str,
    report_dir: &Path,
) -> Result<Resolved, SetupError> {
    let t = &plan.target;
    if !t.embedded {
        let resolved = Resolved {
            base_url: t.base_url.clone().unwrap_or_default(),
            ws_url: t.ws_url.clone().unwrap_or_default(),
            ca_file: t.ca_file.clone(),
            embedded: None,
        };
        probe(&resolved.ws_url).await?;
        return Ok(resolved);
    }
    // The target validates with its own secret when the plan names one (to test refusals).
    let target_secret = match &t.secret_env {
        Some(var) => secret_from_env(var, "the embedded target's JWT secret")?,
        None if plan.auth.mode == AuthMode::Mint => credential.to_string(),
        None => random_secret(),
    };
    let bypass = match plan.auth.mode {
        AuthMode::Login => credential.to_string(),
        AuthMode::Mint => random_secret(),
    };
    let ca_out = std::path::absolute(report_dir.join("target-ca.pem"))
        .unwrap_or_else(|_| report_dir.join("target-ca.pem"));
    let child = EmbeddedTarget::start(t, &target_secret, &bypass, &ca_out).await?;
    eprintln!(
        "agentload: embedded target (pid {}) at {}",
        child.endpoints.pid, child.endpoints.base_url
    );
    Ok(Resolved {
        base_url: child.endpoints.base_url.clone(),
        ws_url: child.endpoints.ws_url.clone(),
        ca_file: child.endpoints.ca_file.clone(),
        embedded: Some(child),
    })
}

/// One TCP connect to the WebSocket host, so a wrong URL fails in a second with one line.
async fn probe(ws_url: &str) -> Result<(), SetupError> {
    let unreachable = |message: String| SetupError::Unreachable {
        url: ws_url.to_string(),
        message,
    };
    let url = url::Url::parse(ws_url).map_err(|e| unreachable(e.to_string()))?;
    let host = url
        .host_str()
        .ok_or_else(|| unreachable("no host".into()))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| unreachable("no port".into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer within 5 s".into())),
    }
}

/// The target's own counters, to set beside ours.
pub async fn fetch_stats(resolved: &Resolved) -> Option<serde_json::Value> {
    let tls = crate::client::tls::client_config(resolved.ca_file.as_deref(), false).ok()?;
    let http = crate::client::tls::http_client(&tls, Duration::from_secs(5)).ok()?;
    let url = format!("{}/stats", resolved.base_url.trim_end_matches('/'));
    http.get(url).send().await.ok()?.json().await.ok()
}
