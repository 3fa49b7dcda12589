//! `[preflight]`: what `agentload preflight` checks beyond what the rest of the plan implies.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreflightPlan {
    /// The frontend's URL (default: the backend's base URL).
    pub frontend_url: Option<String>,
    /// The origin the frontend calls the backend from, for the CORS check.
    #[serde(default = "default_origin")]
    pub frontend_origin: String,
    #[serde(default = "default_backend_health")]
    pub backend_health: String,
    #[serde(default = "default_auth_health")]
    pub auth_health: String,
    /// API paths (or full URLs) timed over `samples` GETs each.
    #[serde(default)]
    pub endpoints: Vec<String>,
    #[serde(default = "default_samples")]
    pub samples: usize,
    /// Env vars the deployment's operators must have set, with rules.
    #[serde(default)]
    pub env: Vec<EnvRule>,
    /// Run one agent end to end with the full sequence check.
    #[serde(default = "yes")]
    pub agent_run: bool,
}

/// `[[preflight.env]]`: a variable and the shape its value must have. Values are never printed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvRule {
    pub name: String,
    /// Missing and required: fail; missing and optional: warn.
    #[serde(default = "yes")]
    pub required: bool,
    pub min_length: Option<usize>,
    pub prefix: Option<String>,
    /// Allowed URL schemes, e.g. `["postgresql", "postgres"]` (the URL must also have a host).
    pub scheme: Option<Vec<String>>,
}

impl Default for PreflightPlan {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn yes() -> bool {
    true
}
fn default_origin() -> String {
    "http://localhost:3000".into()
}
fn default_backend_health() -> String {
    "/health".into()
}
fn default_auth_health() -> String {
    "/auth/health".into()
}
fn default_samples() -> usize {
    5
}
