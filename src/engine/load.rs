//! One load test end to end: resolve the target (or start the embedded one), build the
//! clients, run the Goose attack for the plan's stages, and collect the result model.

use crate::engine::auth::{Identity, TokenSource};
use crate::engine::collector::{Collector, ScenarioMeta};
pub use crate::engine::options::RunOptions;
use crate::engine::progress::{self, Progress};
use crate::engine::protocol::{SequenceRules, StartTemplate};
use crate::engine::sampler::Sampler;
use crate::engine::scenarios::{self, ws::Connector, Context};
pub use crate::engine::setup::SetupError;
pub use crate::engine::target::{client_credential, fetch_stats, resolve_target, Resolved};
use crate::errors::{chain, Exit};
use crate::model::resources::{resource_stats, Resources, Sample};
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::mix::{Kind, MixEntry};
use crate::plan::{AuthMode, Plan};
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::path::Path;
use std::sync::Arc;

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
        tokens,
        connector,
        http,
    } = Clients::new(plan, resolved, credential)?;
    if let Some(at) = options.start_at {
        wait_for_start(at, options.shard).await;
    }
    let run_tag = options.run_tag();
    let mix = plan.mix();
    // Figures per scenario only for a mix: a single `[scenario]` would repeat the totals.
    let metas = mix
        .iter()
        .filter(|_| plan.is_mix())
        .map(|e| ScenarioMeta {
            name: e.name.clone(),
            kind: e.kind.name().to_string(),
            weight: e.weight as u64,
        })
        .collect();
    let collector = Arc::new(Collector::with_mix(plan.checks.clone(), metas));
    if plan.auth.mode == AuthMode::Login {
        // A refused login is a setup error, not a thousand failed users.
        match tokens
            .token(&Identity::new(
                &run_tag,
                options.shard.global_user(0),
                &plan.auth.email_domain,
            ))
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
    let base = Context {
        connector: Arc::new(connector),
        tokens: Arc::new(tokens),
        collector: collector.clone(),
        rules: SequenceRules {
            min_thinking_events: plan.scenario.min_thinking_events,
            min_thinking_chars: plan.scenario.min_thinking_chars,
            require_tool: plan.scenario.require_tool,
            expect_tools: Vec::new(),
        },
        scenario: 0,
        label: None,
        prompts: Arc::new(Vec::new()),
        starts: Arc::new(Vec::new()),
        pick: crate::plan::mix::Pick::RoundRobin,
        seed: 0,
        agent: None,
        endpoints: Arc::new(Vec::new()),
        http,
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
        shard: options.shard,
    };

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
        // Users make no HTTP request through Goose's default client: one shared client, not
        // one per user (building 10,000 clients took 45 s and ~200 KB each before the attack
        // began); api users get the target's TLS client.
        .set_client_builder_without_cookies(
            goose::client::GooseClientBuilder::new().without_cookies(),
        )
        .map_err(goose_err)?;
    for (i, entry) in mix.iter().enumerate() {
        let ctx = Arc::new(scenario_context(&base, plan, i, entry));
        let weight = entry.weight as usize;
        let scenario = match entry.kind {
            Kind::Agent => scenarios::agent_scenario(ctx, &entry.name, weight),
            Kind::Api => scenarios::api::scenario(ctx, &entry.name, weight),
            Kind::Idle => scenarios::holder::scenario(ctx, &entry.name, weight),
        };
        attack = attack.register_scenario(scenario.map_err(goose_err)?);
    }
    let mut attack = attack
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
    // A mix names its requests per scenario (`WS agent_run [triage]`): the plan's latency keys,
    // over every agent scenario, are judged by agentload on its histograms instead.
    let goose_rules = match plan.is_mix() {
        true => plan.sla.rules.clone(),
        false => plan.sla.goose_rules(),
    };
    for rule in goose_rules {
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
    if plan.is_mix() {
        let typed = plan.sla.typed_rules();
        let judged = crate::model::threshold::judge(
            &typed,
            &summary,
            &[],
            "agentload (every agent scenario)",
        );
        summary.sla.extend(judged);
    }
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

/// The context of scenario `index` of the mix: its requests, agent, endpoints and times.
fn scenario_context(base: &Context, plan: &Plan, index: usize, entry: &MixEntry) -> Context {
    let profile = &base.connector.profile;
    let mut starts: Vec<StartTemplate> = Vec::new();
    let agents = entry.prompts.iter().map(|p| p.agent.as_deref());
    for agent in agents.chain([entry.agent.as_deref()]) {
        let agent = agent.or(entry.agent.as_deref());
        if !starts.iter().any(|t| t.agent.as_deref() == agent) {
            starts.push(StartTemplate::new(profile, agent));
        }
    }
    Context {
        starts: Arc::new(starts),
        scenario: index,
        label: plan.is_mix().then(|| entry.name.clone()),
        prompts: Arc::new(entry.prompts.clone()),
        pick: entry.pick,
        seed: entry.seed,
        agent: entry.agent.clone(),
        endpoints: Arc::new(entry.endpoints.clone()),
        think_time: entry.think_time.map_or(base.think_time, |d| d.0),
        run_timeout: entry.run_timeout.map_or(base.run_timeout, |d| d.0),
        rules: SequenceRules {
            expect_tools: entry.expect_tools.clone(),
            ..base.rules.clone()
        },
        ..base.clone()
    }
}

/// Sleeps until `at`, so every shard's ramp starts at the same instant.
async fn wait_for_start(at: chrono::DateTime<chrono::Utc>, shard: crate::plan::Shard) {
    let ahead = at - chrono::Utc::now();
    match ahead.to_std() {
        Ok(wait) => {
            eprintln!(
                "agentload: shard {shard} waits {:.1} s for --start-at {}",
                wait.as_secs_f64(),
                at.to_rfc3339()
            );
            tokio::time::sleep(wait).await;
        }
        Err(_) => eprintln!(
            "agentload: warning: --start-at {} passed {:.1} s ago: shard {shard} starts now, \
             behind the others",
            at.to_rfc3339(),
            -ahead.as_seconds_f64()
        ),
    }
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
