//! The plan's sections as typed config, with their defaults: target, auth, scenario,
//! stages, SLA, security, sampler, report.

use super::values::{Bytes, Dur};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

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
    /// Resume TLS sessions (a returning user's browser): off by default, since each simulated
    /// user is a new client and pays a full handshake; every certificate is verified either way.
    #[serde(default)]
    pub tls_resumption: bool,
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
    /// Embedded target only: a backend that batches (an LLM server): past this many runs in
    /// flight every run slows in proportion (no queue).
    pub shared_capacity: Option<usize>,
    /// Embedded target only: copies of the backend behind one listener, each with its own
    /// `max_concurrent_runs` and `shared_capacity` (a deployment of that many replicas).
    pub replicas: Option<usize>,
    /// Embedded target only: a lock every replica shares, held by each run just before its
    /// last event for `contention` and `coherency` more for each replica beyond the first.
    pub contention: Option<Dur>,
    pub coherency: Option<Dur>,
    /// Embedded target only: ping sockets with no run in flight this often (idle users answer).
    pub ping_interval: Option<Dur>,
    /// Embedded target only: env var holding the secret the target validates tokens with
    /// (defaults to the client's `auth.secret_env`).
    pub secret_env: Option<String>,
    /// Where the deployment publishes its own figures (`[[target.metrics]]`), polled while the
    /// load runs.
    #[serde(default)]
    pub metrics: Vec<super::metrics::MetricsSource>,
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
    /// Pause between one run's end and the next run's start: `"2s"`, `"1s..5s"`,
    /// `"exp(20s)"`, `"lognormal(15s, p95=60s)"`.
    #[serde(default)]
    pub think_time: super::think::Think,
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
    /// After a failed connect (or a cut socket) a user waits a random time up to this, doubled
    /// after each further failure (full jitter), before it dials again. Default: the think
    /// time, at least 250 ms.
    pub reconnect_backoff: Option<Dur>,
    /// The most a reconnect wait may be.
    #[serde(default = "default_backoff_max")]
    pub reconnect_backoff_max: Dur,
    /// The largest frame (and message) a user reads; a bigger one fails the run as
    /// `protocol.frame_too_large` and drops the socket, so memory stays bounded.
    #[serde(default = "default_max_frame")]
    pub max_frame: Bytes,
}

impl Scenario {
    /// The first reconnect wait's ceiling for users thinking `think_time` between runs.
    pub fn backoff_base(&self, think_time: std::time::Duration) -> std::time::Duration {
        self.reconnect_backoff
            .map_or(think_time.max(std::time::Duration::from_millis(250)), |d| {
                d.0
            })
    }
}

/// One step of the ramp: reach `users` over `duration` (equal users = hold).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub users: usize,
    pub duration: Dur,
}

/// `[limits]`: caps on a test's size, whatever its stages say (real agents cost money).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Most runs started, test-wide (each shard takes its share); then the test stops.
    pub max_runs: Option<u64>,
    /// Longest the load runs; then the test stops.
    pub max_duration: Option<Dur>,
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
    /// Write `summary.partial.json` this often while the test runs (`"0s"`: never), so a
    /// killed generator leaves its figures so far.
    #[serde(default = "default_checkpoint")]
    pub checkpoint: Dur,
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
fn default_min_thinking() -> usize {
    2
}
fn default_min_thinking_chars() -> usize {
    50
}
fn default_sample_interval() -> Dur {
    Dur::from_secs(1)
}
fn default_backoff_max() -> Dur {
    Dur::from_secs(30)
}
fn default_max_frame() -> Bytes {
    Bytes(16.0 * 1024.0 * 1024.0)
}
fn default_checkpoint() -> Dur {
    Dur::from_secs(10)
}
fn default_report_dir() -> PathBuf {
    PathBuf::from("reports")
}

impl Target {
    /// The first problem, as (key, message): an embedded target names no URL; a deployment
    /// names both, each of the right scheme.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if self.embedded {
            return (self.base_url.is_some() || self.ws_url.is_some()).then(|| {
                let m = "an embedded target takes no base_url/ws_url: remove one or the other";
                ("embedded", m.to_string())
            });
        }
        match (&self.base_url, &self.ws_url) {
            (Some(b), Some(w)) => super::values::check_url(b, &["http", "https"])
                .map_err(|m| ("base_url", m))
                .and_then(|()| {
                    super::values::check_url(w, &["ws", "wss"]).map_err(|m| ("ws_url", m))
                })
                .err(),
            (None, _) => Some((
                "base_url",
                "missing: set base_url and ws_url, or embedded = true".into(),
            )),
            (_, None) => Some(("ws_url", "missing: set the WebSocket URL".into())),
        }
    }
}

/// `target = "embedded"` or a `[target]` table.
pub fn target_or_embedded<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Target, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Target;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("\"embedded\" or a [target] table")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Target, E> {
            if v == "embedded" {
                Ok(Target {
                    embedded: true,
                    ..Default::default()
                })
            } else {
                Err(E::custom(format!(
                    "`{v}`: write target = \"embedded\", or a [target] table with base_url and ws_url"
                )))
            }
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Target, A::Error> {
            <Target as serde::Deserialize>::deserialize(
                serde::de::value::MapAccessDeserializer::new(map),
            )
        }
    }
    d.deserialize_any(V)
}
