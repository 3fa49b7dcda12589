//! The load plan: one TOML file, parsed and validated once into typed config.
//!
//! Every error names the file, the line and the key, so a performance engineer can fix a plan
//! without reading the source. Nothing downstream reads TOML again.

mod capacity;
mod locate;
mod preflight;
mod protocol;
mod values;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use capacity::CapacityPlan;
pub use preflight::{EnvRule, PreflightPlan};
pub use protocol::{Carrier, HandshakePlan, Protocol};
pub use values::{Bytes, Dur, Percent};

/// A load plan that failed to read, parse or validate.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: cannot read the load plan: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {key}: {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// A whole load plan, as written in `loadplans/*.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Used in report folder names; defaults to the file name without `.toml`.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(deserialize_with = "values::target_or_embedded")]
    pub target: Target,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default)]
    pub scenario: Scenario,
    pub stages: Vec<Stage>,
    /// Result checks on each completed run's `agent_completed` data.
    #[serde(default)]
    pub checks: Vec<crate::checks::ResultCheck>,
    #[serde(default)]
    pub sla: Sla,
    #[serde(default)]
    pub sampler: SamplerPlan,
    #[serde(default)]
    pub security: SecurityPlan,
    #[serde(default)]
    pub preflight: PreflightPlan,
    #[serde(default)]
    pub capacity: CapacityPlan,
    #[serde(default)]
    pub report: Report,
    /// Where the plan was read from (not a TOML key).
    #[serde(skip)]
    pub source: PathBuf,
}

/// Where the load goes: the embedded reference target, or a deployment by URL.
/// `target = "embedded"` is short for `[target] embedded = true`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Start `agentload target` as a child process on a free loopback port.
    #[serde(default)]
    pub embedded: bool,
    /// Backend base URL, e.g. `https://api.staging.example.com`.
    pub base_url: Option<String>,
    /// WebSocket URL, e.g. `wss://api.staging.example.com/ws`.
    pub ws_url: Option<String>,
    /// Auth service base URL (login mode); defaults to `base_url`.
    pub auth_url: Option<String>,
    /// PEM file with extra CA certificates to trust (a staging CA).
    pub ca_file: Option<PathBuf>,
    /// Extra headers sent on every WebSocket upgrade.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Embedded target only: serve wss/https (default true).
    #[serde(default = "yes")]
    pub tls: bool,
    /// Embedded target only: delay before each agent event.
    #[serde(default = "default_event_delay")]
    pub event_delay: Dur,
    /// Embedded target only: agent_thinking events per run.
    #[serde(default = "default_thinking_steps")]
    pub thinking_steps: u32,
    /// Embedded target only: tool_executing/tool_completed pairs per run.
    #[serde(default = "one")]
    pub tool_calls: u32,
    /// Embedded target only: resident memory each connection holds, in KiB (a known cost).
    #[serde(default)]
    pub ballast_kb_per_connection: usize,
    /// Embedded target only: at most this many runs stream at once (a capacity limit).
    pub max_concurrent_runs: Option<usize>,
    /// Embedded target only: env var holding the secret the target validates tokens with
    /// (defaults to the client's `auth.secret_env`).
    pub secret_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Sign an HS256 JWT per user with a secret from an env var.
    #[default]
    Mint,
    /// Log in through the auth service's test-login endpoint with a bypass key.
    Login,
}

/// How each simulated user gets its token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    #[serde(default)]
    pub mode: AuthMode,
    /// Mint: env var holding the HS256 secret. Never printed.
    #[serde(default = "default_secret_env")]
    pub secret_env: String,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default = "default_permissions")]
    pub permissions: Vec<String>,
    /// Mint: token lifetime.
    #[serde(default = "default_lifetime")]
    pub lifetime: Dur,
    /// Each user is `<prefix>-<n>@<email_domain>`.
    #[serde(default = "default_email_domain")]
    pub email_domain: String,
    /// Login: path on the auth service.
    #[serde(default = "default_login_path")]
    pub login_path: String,
    /// Login: env var holding the bypass key. Never printed.
    #[serde(default = "default_bypass_env")]
    pub bypass_key_env: String,
    /// Login: header that carries the bypass key.
    #[serde(default = "default_bypass_header")]
    pub bypass_header: String,
    /// Renew tokens before they expire and hand the new one to the open socket.
    #[serde(default = "yes")]
    pub refresh: bool,
    /// How long before expiry to renew.
    #[serde(default = "default_refresh_before")]
    pub refresh_before: Dur,
    /// Login: the refresh endpoint (`{"refresh_token": …}`); mint mode re-mints.
    #[serde(default = "default_refresh_path")]
    pub refresh_path: String,
}

/// What each simulated user does, and how its runs are judged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "default_user_request")]
    pub user_request: String,
    /// A run that has not completed by then fails as `transport.timeout`.
    #[serde(default = "default_run_timeout")]
    pub run_timeout: Dur,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: Dur,
    /// Pause between one run's end and the next run's start.
    #[serde(default = "default_think_time")]
    pub think_time: Dur,
    #[serde(default = "default_min_thinking")]
    pub min_thinking_events: usize,
    #[serde(default = "default_min_thinking_chars")]
    pub min_thinking_chars: usize,
    #[serde(default = "yes")]
    pub require_tool: bool,
    /// When the socket goes mid-run, reconnect and `resume` from the last event seen (the
    /// protocol's events must carry `seq`).
    #[serde(default = "yes")]
    pub resume: bool,
    /// Drop our own socket after this many events of each run, then resume (0: never).
    #[serde(default)]
    pub drop_after_events: usize,
    /// Stop the whole load test at the first isolation violation (Goose's killswitch).
    #[serde(default)]
    pub stop_on_leak: bool,
}

/// One step of the ramp: reach `users` over `duration` (equal users = hold).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub users: usize,
    pub duration: Dur,
}

/// Service-level thresholds; each becomes a Goose `--threshold` rule.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    pub connect_avg: Option<Dur>,
    pub connect_p95: Option<Dur>,
    pub first_event_p95: Option<Dur>,
    pub agent_run_avg: Option<Dur>,
    pub agent_run_p95: Option<Dur>,
    pub agent_run_p99: Option<Dur>,
    /// Failed requests (connects + runs) as a share of all, e.g. `"5%"`.
    pub error_rate: Option<Percent>,
    /// Extra rules in Goose's own syntax, e.g. `"p99<2s for WS first_event"`.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Stop the run as soon as a rule fails (Goose's threshold abort).
    #[serde(default)]
    pub abort_on_failure: bool,
    /// Judged by agentload: every result check met by at least this share of completed runs.
    pub checks_met: Option<Percent>,
    /// Judged by agentload: target memory per open connection (RSS slope), e.g. `"10MB"`.
    pub target_memory_per_connection: Option<Bytes>,
    /// Judged by agentload: the target's mean CPU, as a share of the whole machine.
    pub target_cpu: Option<Percent>,
}

/// Security probes under load.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityPlan {
    /// Share of connects preceded by a probe with a bad token (expired, bad signature,
    /// missing, in rotation), e.g. `0.1`. The target must refuse each.
    #[serde(default)]
    pub bad_token_share: f64,
}

/// The resource sampler: RSS and CPU of the generator and the target process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerPlan {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_sample_interval")]
    pub interval: Dur,
    /// The target's pid on this machine (the embedded target's is known without it).
    pub target_pid: Option<u32>,
    /// Or the target's process name, looked up at the start.
    pub target_process: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Parent folder of each run's report folder.
    #[serde(default = "default_report_dir")]
    pub dir: PathBuf,
}

impl Plan {
    /// Reads and validates a plan file.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            file: path.display().to_string(),
            source,
        })?;
        Plan::parse(&text, path)
    }

    /// Parses plan text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Plan, PlanError> {
        let mut plan: Plan = toml::from_str(text).map_err(|e| {
            let (line, key) = match e.span() {
                Some(span) => locate::line_and_key(text, span.start),
                None => (1, "plan".to_string()),
            };
            PlanError::Invalid {
                file: path.display().to_string(),
                line,
                key,
                message: e.message().to_string(),
            }
        })?;
        plan.source = path.to_path_buf();
        plan.expand_env()
            .and_then(|()| plan.validate())
            .map_err(|(table, key, message)| PlanError::Invalid {
                file: path.display().to_string(),
                line: locate::key_line(text, &table, &key),
                key: if table.is_empty() {
                    key
                } else {
                    format!("{table}.{key}")
                },
                message,
            })?;
        Ok(plan)
    }

    /// The plan's name, for folders and reports.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.source
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plan".into())
        })
    }

    /// Replaces `${NAME}` with env var values in every URL and path the plan names (target,
    /// auth paths, preflight URLs, the report folder), so a staging plan can be committed
    /// without its addresses. An unset variable is an error naming the key.
    fn expand_env(&mut self) -> Result<(), (String, String, String)> {
        let expand = |table: &str, key: &str, v: &mut String| {
            *v = values::expand_env(v).map_err(|m| (table.to_string(), key.to_string(), m))?;
            Ok::<(), (String, String, String)>(())
        };
        let expand_path = |table: &str, key: &str, p: &mut PathBuf| {
            let mut text = p.to_string_lossy().into_owned();
            expand(table, key, &mut text)?;
            *p = PathBuf::from(text);
            Ok::<(), (String, String, String)>(())
        };
        let t = &mut self.target;
        for (key, value) in [
            ("base_url", &mut t.base_url),
            ("ws_url", &mut t.ws_url),
            ("auth_url", &mut t.auth_url),
        ] {
            if let Some(v) = value {
                expand("target", key, v)?;
            }
        }
        if let Some(ca) = &mut t.ca_file {
            expand_path("target", "ca_file", ca)?;
        }
        for (name, v) in t.headers.iter_mut() {
            expand("target.headers", name, v)?;
        }
        expand("auth", "login_path", &mut self.auth.login_path)?;
        expand("auth", "refresh_path", &mut self.auth.refresh_path)?;
        let pf = &mut self.preflight;
        if let Some(url) = &mut pf.frontend_url {
            expand("preflight", "frontend_url", url)?;
        }
        expand("preflight", "frontend_origin", &mut pf.frontend_origin)?;
        expand("preflight", "backend_health", &mut pf.backend_health)?;
        expand("preflight", "auth_health", &mut pf.auth_health)?;
        for endpoint in pf.endpoints.iter_mut() {
            expand("preflight", "endpoints", endpoint)?;
        }
        expand_path("report", "dir", &mut self.report.dir)
    }

    /// Checks what serde cannot: (table, key, message) of the first problem.
    fn validate(&self) -> Result<(), (String, String, String)> {
        let bad = |table: &str, key: &str, msg: &str| Err((table.into(), key.into(), msg.into()));
        let t = &self.target;
        if t.embedded {
            if t.base_url.is_some() || t.ws_url.is_some() {
                return bad(
                    "target",
                    "embedded",
                    "an embedded target takes no base_url/ws_url: remove one or the other",
                );
            }
        } else {
            match (&t.base_url, &t.ws_url) {
                (Some(b), Some(w)) => {
                    check_url(b, &["http", "https"]).or_else(|m| bad("target", "base_url", &m))?;
                    check_url(w, &["ws", "wss"]).or_else(|m| bad("target", "ws_url", &m))?;
                }
                (None, _) => {
                    return bad(
                        "target",
                        "base_url",
                        "missing: set base_url and ws_url, or embedded = true",
                    )
                }
                (_, None) => return bad("target", "ws_url", "missing: set the WebSocket URL"),
            }
        }
        if crate::protocol::Profile::builtin(&self.protocol.profile).is_none() {
            return bad(
                "protocol",
                "profile",
                &format!(
                    "unknown profile `{}`: use \"reference\" or \"netra\"",
                    self.protocol.profile
                ),
            );
        }
        if self.protocol.token_carriers.is_empty() {
            return bad("protocol", "token_carriers", "name at least one carrier");
        }
        if self.stages.is_empty() {
            return bad("", "stages", "add at least one [[stages]] entry");
        }
        if self.stages.iter().all(|s| s.users == 0) {
            return bad("stages", "users", "no stage starts a user");
        }
        if let Some((key, message)) = self.capacity.problem() {
            return bad("capacity", key, message);
        }
        if !(0.0..=1.0).contains(&self.security.bad_token_share) {
            return bad("security", "bad_token_share", "must be between 0 and 1");
        }
        if self.sampler.interval.0 < std::time::Duration::from_millis(100) {
            return bad("sampler", "interval", "must be at least 100ms");
        }
        if self.auth.refresh && self.auth.refresh_before >= self.auth.lifetime {
            return bad(
                "auth",
                "refresh_before",
                "must be shorter than auth.lifetime, or every token is renewed at once",
            );
        }
        if self.scenario.run_timeout.0.is_zero() {
            return bad("scenario", "run_timeout", "must be more than 0");
        }
        for rule in self.sla.goose_rules() {
            if !rule.contains(['<', '>']) {
                return bad(
                    "sla",
                    "rules",
                    &format!("`{rule}` has no < or > comparison"),
                );
            }
        }
        Ok(())
    }

    /// The stages as Goose's `--test-plan` string, e.g. `5,10;5,30;0,5`. A plan that does
    /// not end at 0 users gets a last `0,0` step: stop every user when the stages are done.
    pub fn goose_test_plan(&self) -> String {
        let mut steps: Vec<String> = self
            .stages
            .iter()
            .map(|s| format!("{},{}", s.users, s.duration.0.as_secs_f64().ceil() as u64))
            .collect();
        if self.stages.last().is_some_and(|s| s.users > 0) {
            steps.push("0,0".into());
        }
        steps.join(";")
    }

    /// The largest user count of any stage.
    pub fn peak_users(&self) -> usize {
        self.stages.iter().map(|s| s.users).max().unwrap_or(0)
    }
}

impl Sla {
    /// Every threshold as a Goose rule.
    pub fn goose_rules(&self) -> Vec<String> {
        let mut rules = Vec::new();
        let mut time = |metric: &str, value: &Option<Dur>, request: &str| {
            if let Some(d) = value {
                rules.push(format!("{metric}<={}ms for {request}", d.0.as_millis()));
            }
        };
        time("avg", &self.connect_avg, crate::scenarios::REQ_CONNECT);
        time("p95", &self.connect_p95, crate::scenarios::REQ_CONNECT);
        time(
            "p95",
            &self.first_event_p95,
            crate::scenarios::REQ_FIRST_EVENT,
        );
        time("avg", &self.agent_run_avg, crate::scenarios::REQ_AGENT_RUN);
        time("p95", &self.agent_run_p95, crate::scenarios::REQ_AGENT_RUN);
        time("p99", &self.agent_run_p99, crate::scenarios::REQ_AGENT_RUN);
        // `error_rate` is judged by agentload on runs and connects (see `sla::judge`): Goose's
        // error-rate counts every request, including ones that can not fail.
        rules.extend(self.rules.iter().cloned());
        rules
    }
}

fn check_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if schemes.contains(&parsed.scheme()) {
        Ok(())
    } else {
        Err(format!(
            "`{url}`: scheme must be one of {}",
            schemes.join(", ")
        ))
    }
}

impl Default for Target {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}
impl Default for Auth {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}
impl Default for Scenario {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}
impl Default for SamplerPlan {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}
impl Default for Report {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn yes() -> bool {
    true
}
fn one() -> u32 {
    1
}
fn default_event_delay() -> Dur {
    Dur::from_millis(200)
}
fn default_thinking_steps() -> u32 {
    2
}
fn default_secret_env() -> String {
    "AGENTLOAD_JWT_SECRET".into()
}
fn default_permissions() -> Vec<String> {
    vec!["read".into(), "write".into()]
}
fn default_lifetime() -> Dur {
    Dur::from_secs(30 * 60)
}
fn default_email_domain() -> String {
    "loadtest.agentload.invalid".into()
}
fn default_login_path() -> String {
    "/auth/token".into()
}
fn default_bypass_env() -> String {
    "AGENTLOAD_BYPASS_KEY".into()
}
fn default_refresh_before() -> Dur {
    Dur::from_secs(30)
}
fn default_refresh_path() -> String {
    "/auth/refresh".into()
}
fn default_bypass_header() -> String {
    "X-Bypass-Key".into()
}
fn default_user_request() -> String {
    "Analyze our cloud infrastructure spend and find cost optimizations".into()
}
fn default_run_timeout() -> Dur {
    Dur::from_secs(60)
}
fn default_connect_timeout() -> Dur {
    Dur::from_secs(20)
}
fn default_think_time() -> Dur {
    Dur::from_secs(1)
}
fn default_min_thinking() -> usize {
    2
}
fn default_min_thinking_chars() -> usize {
    50
}
fn default_sample_interval() -> Dur {
    Dur::from_secs(1)
}
fn default_report_dir() -> PathBuf {
    PathBuf::from("reports")
}

#[cfg(test)]
mod tests;
