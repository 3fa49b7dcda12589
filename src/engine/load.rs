//! One load test end to end: resolve the target (or start the embedded one), build the
//! clients, run the Goose attack for the plan's stages, and collect the result model.

use crate::engine::auth::{secret_from_env, Identity, TokenSource};
use crate::engine::collector::Collector;
use crate::engine::embedded::{random_secret, EmbeddedTarget};
pub use crate::engine::options::RunOptions;
use crate::engine::progress::{self, Progress};
use crate::engine::protocol::SequenceRules;
use crate::engine::sampler::Sampler;
use crate::engine::scenarios::{self, ws::Connector, Context};
use crate::errors::{chain, Exit};
use crate::model::resources::{resource_stats, Resources, Sample};
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::{AuthMode, Plan};
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A setup problem: printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error(transparent)]
    Auth(#[from] crate::engine::auth::AuthError),
    #[error(transparent)]
    Tls(#[from] crate::engine::tls::TlsError),
    #[error(transparent)]
    Embedded(#[from] crate::engine::embedded::EmbeddedError),
    #[error("target unreachable: {url}: {message}")]
    Unreachable { url: String, message: String },
    #[error("cannot write the report folder {path}: {message}")]
    Report { path: PathBuf, message: String },
    #[error("load test could not run: {0}")]
    Goose(String),
    #[error("{0}")]
    TooManyUsers(String),
    #[error("{path}: {message}")]
    ReadReport { path: PathBuf, message: String },
}

/// Where the load goes, once resolved.
pub struct Resolved {
    pub base_url: String,
    pub ws_url: String,
    pub ca_file: Option<PathBuf>,
    pub embedded: Option<EmbeddedTarget>,
}

/// The clients a plan's users (and preflight) talk to the target with.
pub struct Clients {
    pub http: reqwest::Client,
    pub tokens: TokenSource,
    pub connector: Connector,
}

impl Clients {
    pub fn new(
        plan: &Plan,
        resolved: &Resolved,
        credential: String,
    ) -> Result<Clients, SetupError> {
        let tls = crate::engine::tls::client_config(resolved.ca_file.as_deref())?;
        let http = crate::engine::tls::http_client(&tls, plan.scenario.connect_timeout.0)?;
        let auth_base = plan
            .target
            .auth_url
            .clone()
            .unwrap_or_else(|| resolved.base_url.clone());
        let tokens = TokenSource::new(&plan.auth, &auth_base, http.clone(), credential);
        let connector = Connector {
            tls,
            ws_url: resolved.ws_url.clone(),
            headers: plan.target.headers.clone().into_iter().collect(),
            carriers: plan.protocol.token_carriers.clone(),
            timeout: plan.scenario.connect_timeout.0,
            profile: Arc::new(crate::engine::protocol::Profile::from_plan(&plan.protocol)),
        };
        Ok(Clients {
            http,
            tokens,
            connector,
        })
    }
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

/// Builds the Goose attack, runs it, and collects the summary.
/// One load test's results, with the collector for windows of it.
pub struct Loaded {
    pub summary: Summary,
    pub exit: Exit,
    pub collector: Arc<Collector>,
}

/// Builds the Goose attack for `plan`'s stages, runs it against `resolved`, and collects.
pub async fn load(
    plan: &Plan,
    resolved: &Resolved,
    credential: String,
    report_dir: &Path,
    started_at: chrono::DateTime<chrono::Utc>,
    options: &RunOptions,
) -> Result<Loaded, SetupError> {
    let limit = crate::engine::nofile::raise_to_hard_limit();
    crate::engine::nofile::check(plan.peak_users(), limit).map_err(SetupError::TooManyUsers)?;
    let Clients {
        tokens, connector, ..
    } = Clients::new(plan, resolved, credential)?;
    let run_tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let collector = Arc::new(Collector::new(plan.checks.clone()));
    if plan.auth.mode == AuthMode::Login {
        // A refused login is a setup error, not a thousand failed users.
        match tokens
            .token(&Identity::new(&run_tag, 0, &plan.auth.email_domain))
            .await
        {
            // A server error may pass; it is counted like any user's failed token fetch.
            Err(e @ crate::engine::auth::AuthError::LoginRefused { status, .. })
                if status >= 500 =>
            {
                eprintln!("agentload: warning: the login probe got HTTP {status}");
                let failure = crate::engine::outcome::Failure::new("auth.token", e.to_string());
                collector.note_failure(0, &failure);
            }
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
    }
    let isolation = Arc::new(crate::engine::scenarios::isolation::Isolation::new(
        &run_tag,
    ));
    let security = Arc::new(crate::engine::scenarios::security::Security::new(
        plan.security.bad_token_share,
    ));
    let ctx = Arc::new(Context {
        connector,
        tokens,
        collector: collector.clone(),
        rules: SequenceRules {
            min_thinking_events: plan.scenario.min_thinking_events,
            min_thinking_chars: plan.scenario.min_thinking_chars,
            require_tool: plan.scenario.require_tool,
        },
        user_request: plan.scenario.user_request.clone(),
        run_timeout: plan.scenario.run_timeout.0,
        think_time: plan.scenario.think_time.0,
        refresh_before: plan.auth.refresh.then_some(plan.auth.refresh_before.0),
        isolation: isolation.clone(),
        security: security.clone(),
        auth: plan.auth.clone(),
        resume: plan.scenario.resume,
        drop_after_events: plan.scenario.drop_after_events,
        stop_on_leak: plan.scenario.stop_on_leak,
        run_tag,
        email_domain: plan.auth.email_domain.clone(),
    });

    let goose_err = |e: GooseError| SetupError::Goose(goose_error_line(&e));
    let mut config = GooseConfiguration::default();
    // Quiet by default: no line per launched user at any scale (`-v` brings Goose's log back).
    config.quiet = u8::from(options.verbose == 0);
    config.verbose = options.verbose.saturating_sub(1);
    config.no_print_metrics = options.verbose == 0;
    config.report_file = vec![
        report_dir.join("goose.html").display().to_string(),
        report_dir.join("goose.json").display().to_string(),
    ];
    let mut attack = GooseAttack::initialize_with_config(config)
        .map_err(goose_err)?
        // Users make no HTTP request through Goose: one shared client, not one per user
        // (building 10,000 clients took 45 s and ~200 KB each before the attack began).
        .set_client_builder_without_cookies(
            goose::client::GooseClientBuilder::new().without_cookies(),
        )
        .map_err(goose_err)?
        .register_scenario(
            scenarios::agent_scenario(ctx, plan.scenario.think_time.0).map_err(goose_err)?,
        )
        .set_default(GooseDefault::Host, resolved.base_url.as_str())
        .map_err(goose_err)?
        .set_default(GooseDefault::TestPlan, plan.goose_test_plan().as_str())
        .map_err(goose_err)?
        .set_default(GooseDefault::NoTelnet, true)
        .map_err(goose_err)?
        .set_default(GooseDefault::Dashboard, options.dashboard)
        .map_err(goose_err)?
        .set_default(GooseDefault::NoThresholdAbort, !plan.sla.abort_on_failure)
        .map_err(goose_err)?;
    for rule in plan.sla.goose_rules() {
        attack = attack
            .set_default(GooseDefault::Threshold, rule.as_str())
            .map_err(goose_err)?;
    }

    let target_pid = target_pid(plan, resolved);
    let sampler = plan
        .sampler
        .enabled
        .then(|| Sampler::start(target_pid, plan.sampler.interval.0, collector.open_gauge()));
    let progress = options.progress.map(|every| {
        let stages = plan
            .stages
            .iter()
            .map(|s| (s.users, s.duration.0))
            .collect();
        Progress::start(
            collector.clone(),
            isolation.clone(),
            progress::Plan { stages, every },
        )
    });
    let executed = attack.execute().await;
    if let Some(progress) = progress {
        progress.finish().await;
    }
    let samples = sampler.map(Sampler::stop);
    let metrics = match executed {
        Ok(metrics) => metrics,
        Err(GooseError::ThresholdsFailed { metrics, .. }) => *metrics.0,
        Err(e) => return Err(goose_err(e)),
    };
    let mut summary = collector.snapshot();
    let (goose_ok, goose_failed) = metrics.requests.values().fold((0, 0), |(ok, failed), r| {
        (ok + r.success_count, failed + r.fail_count)
    });
    summary.goose_error_rate_percent = (goose_ok + goose_failed > 0)
        .then(|| 100.0 * goose_failed as f64 / (goose_ok + goose_failed) as f64);
    summary.plan = plan.name();
    summary.started_at = started_at.to_rfc3339();
    summary.duration_secs = metrics.duration as f64;
    summary.target = resolved.ws_url.clone();
    summary.peak_users = plan.peak_users();
    summary.isolation = Some(isolation.summary());
    summary.security = (plan.security.bad_token_share > 0.0).then(|| security.summary());
    summary.resources = samples.map(|samples| resources(plan, target_pid, samples, &summary));
    summary.sla = metrics
        .thresholds
        .iter()
        .map(|t| RuleVerdict {
            rule: t.rule.clone(),
            observed: t.observed.clone(),
            passed: t.passed,
            judged_by: "goose".into(),
        })
        .collect();
    let own = crate::model::sla::judge(&plan.sla, &summary);
    summary.sla.extend(own);
    summary.passed = summary.sla.iter().all(|r| r.passed);
    let exit = if summary.passed {
        Exit::Pass
    } else {
        Exit::SlaFailed
    };
    Ok(Loaded {
        summary,
        exit,
        collector,
    })
}

/// The target process to sample: the embedded child, or the plan's pid or process name.
fn target_pid(plan: &Plan, resolved: &Resolved) -> Option<u32> {
    if let Some(child) = &resolved.embedded {
        return Some(child.endpoints.pid);
    }
    if let Some(pid) = plan.sampler.target_pid {
        return Some(pid);
    }
    let name = plan.sampler.target_process.as_deref()?;
    let mut sys = sysinfo::System::new();
    sys.refresh_processes(sysinfo::ProcessesToUpdate::All, true);
    let found = sys
        .processes_by_exact_name(name.as_ref())
        .next()
        .map(|p| p.pid().as_u32());
    if found.is_none() {
        eprintln!("agentload: warning: no process named `{name}` to sample");
    }
    found
}

fn resources(plan: &Plan, target_pid: Option<u32>, samples: Vec<Sample>, s: &Summary) -> Resources {
    let target = resource_stats(&samples, |x| x.target);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cpu_ms_per_run = target.as_ref().and_then(|t| {
        (s.runs.started > 0).then(|| {
            t.mean_cpu_percent / 100.0 * cores * s.duration_secs * 1000.0 / s.runs.started as f64
        })
    });
    Resources {
        interval_secs: plan.sampler.interval.0.as_secs_f64(),
        target_pid,
        generator: resource_stats(&samples, |x| x.generator),
        target,
        target_cpu_ms_per_run: cpu_ms_per_run,
        samples,
    }
}

fn goose_error_line(e: &GooseError) -> String {
    match e {
        GooseError::InvalidOption { value, detail, .. } => format!("`{value}`: {detail}"),
        other => chain(other),
    }
}

/// The target's own counters, to set beside ours.
pub async fn fetch_stats(resolved: &Resolved) -> Option<serde_json::Value> {
    let tls = crate::engine::tls::client_config(resolved.ca_file.as_deref()).ok()?;
    let http = crate::engine::tls::http_client(&tls, Duration::from_secs(5)).ok()?;
    let url = format!("{}/stats", resolved.base_url.trim_end_matches('/'));
    http.get(url).send().await.ok()?.json().await.ok()
}
