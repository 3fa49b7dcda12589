//! One load test end to end: resolve the target (or start the embedded one), build the
//! clients, run the Goose attack for the plan's stages, and collect the result model.

use crate::engine::arrivals::{pool::Pool, Arrivals, Feeder};
use crate::engine::attack::goose_error_line;
use crate::engine::auth::{Identity, TokenSource};
use crate::engine::collector::{Collector, ScenarioMeta};
pub use crate::engine::options::RunOptions;
use crate::engine::protocol::SequenceRules;
use crate::engine::sampler::Sampler;
use crate::engine::scenarios::{ws::Connector, Context};
pub use crate::engine::setup::SetupError;
use crate::engine::stop::{Stop, DEFAULT_GRACE};
pub use crate::engine::target::{client_credential, fetch_stats, resolve_target, Resolved};
use crate::engine::watch::{checkpoint::Checkpoint, Beside};
use crate::errors::Exit;
use crate::model::server::ServerMetrics;
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::{AuthMode, Plan};
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
            max_frame: plan.scenario.max_frame.0 as usize,
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
    let clients = Clients::new(plan, resolved, credential)?;
    let metrics_http = clients.http.clone();
    if let Some(at) = options.start_at {
        wait_for_start(at, options.shard).await;
    }
    let run_tag = options.run_tag();
    let collector = new_collector(plan);
    probe_login(plan, &clients.tokens, &run_tag, options, &collector).await?;
    let base = base_context(plan, options, clients, run_tag, collector.clone());
    let (isolation, security, stop) = (
        base.isolation.clone(),
        base.security.clone(),
        base.stop.clone(),
    );
    let pool = base.sessions.as_ref().and_then(|s| s.pool.clone());

    let goose_err = |e: GooseError| SetupError::Goose(goose_error_line(&e));
    let attack = crate::engine::attack::build(plan, resolved, options, report_dir, &base)?;

    let target_pid = crate::engine::sampler::target_pid(plan, resolved);
    let sampler = plan
        .sampler
        .enabled
        .then(|| Sampler::start(target_pid, plan.sampler.interval.0, collector.open_gauge()));
    let heading = Summary {
        plan: plan.name(),
        started_at: started_at.to_rfc3339(),
        target: resolved.ws_url.clone(),
        peak_users: plan.peak_users(),
        ..Summary::default()
    };
    let checkpoint = Checkpoint::new(
        report_dir,
        heading.clone(),
        collector.clone(),
        isolation.clone(),
        stop.clone(),
    );
    let server = Arc::new(std::sync::Mutex::new(ServerMetrics::default()));
    let watchers = Beside {
        plan,
        progress: options.progress,
        checkpoint,
        isolation: &isolation,
        stop: &stop,
        collector: &collector,
        http: &metrics_http,
        server: &server,
        shard_count: options.shard.count,
        exporter: options
            .metrics_addr
            .map(|addr| (addr, exporter_labels(options))),
    }
    .start()
    .map_err(SetupError::Metrics)?;
    let executed = execute(attack, plan, options, pool, &collector, &stop).await;
    watchers.finish().await;
    let server = (!plan.target.metrics.is_empty()).then(|| {
        let mut polled = std::mem::take(&mut *server.lock().unwrap_or_else(|p| p.into_inner()));
        polled.derive();
        polled
    });
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
    summary.take_heading(&heading);
    summary.duration_secs = metrics.duration as f64;
    summary.isolation = Some(isolation.summary());
    summary.server = server;
    summary.security = (plan.security.bad_token_share > 0.0).then(|| security.summary());
    summary.interrupted = stop.interrupted();
    summary.stopped = stop.stopped();
    summary.resources = samples
        .map(|samples| crate::engine::sampler::resources(plan, target_pid, samples, &summary));
    judge(plan, &mut summary, &metrics);
    if !summary.passed {
        summary.degraded_first = degraded_in_stages(plan, &collector.stage_figures());
    }
    let exit = match (&summary.interrupted, summary.passed) {
        (Some(_), _) => Exit::Stopped,
        (None, true) => Exit::Pass,
        (None, false) => Exit::SlaFailed,
    };
    Ok(Loaded {
        summary,
        exit,
        collector,
    })
}

/// The test's collector: figures per scenario for a mix (a single `[scenario]` would repeat
/// the totals), sessions when users hold them.
fn new_collector(plan: &Plan) -> Arc<Collector> {
    let metas = plan
        .mix()
        .iter()
        .filter(|_| plan.is_mix())
        .map(|e| ScenarioMeta {
            name: e.name.clone(),
            kind: e.kind.name().to_string(),
            weight: e.weight as u64,
        })
        .collect();
    let collector = Collector::with_mix(plan.checks.clone(), metas);
    if plan.has_sessions() {
        collector.expect_sessions(if plan.is_open() { "open" } else { "closed" });
    }
    Arc::new(collector)
}

/// The attack, from the plan's start to Goose's end; in the open model, with its arrivals
/// fed to the pool beside it.
async fn execute(
    attack: Box<GooseAttack>,
    plan: &Plan,
    options: &RunOptions,
    pool: Option<Arc<Pool>>,
    collector: &Arc<Collector>,
    stop: &Arc<Stop>,
) -> Result<goose::metrics::GooseMetrics, GooseError> {
    stop.begin(plan.planned_duration());
    let feeder = pool.map(|pool| {
        let arrivals = Arrivals::of(plan, options.shard);
        Feeder::start(arrivals, pool, collector.clone(), stop.clone())
    });
    let executed = {
        // Goose prints its "users launched" lines on stdout whatever `quiet` says.
        let _muted = (options.verbose == 0).then(crate::engine::stdout::Muted::stdout);
        attack.execute().await
    };
    if let Some(feeder) = feeder {
        feeder.finish().await;
    }
    executed
}

/// What every user of the test shares: the clients, the collector, the detectors, the stop,
/// the plan's rules and times (each scenario of a mix refines it in `attack`).
fn base_context(
    plan: &Plan,
    options: &RunOptions,
    clients: Clients,
    run_tag: String,
    collector: Arc<Collector>,
) -> Context {
    let isolation = Arc::new(crate::engine::scenarios::isolation::Isolation::new(
        &run_tag,
    ));
    let stop = Arc::new(Stop::new(options.grace.unwrap_or(DEFAULT_GRACE)));
    let security = Arc::new(crate::engine::scenarios::security::Security::new(
        plan.security.bad_token_share,
    ));
    Context {
        connector: Arc::new(clients.connector),
        tokens: Arc::new(clients.tokens),
        collector,
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
        http: clients.http,
        run_timeout: plan.scenario.run_timeout.0,
        think: plan.scenario.think_time,
        sessions: plan.has_sessions().then(|| {
            Arc::new(crate::engine::scenarios::session::Sessions {
                turns: plan.session.unwrap_or_default().turns,
                pool: plan
                    .is_open()
                    .then(|| Arc::new(Pool::new(plan.workload.max_sessions))),
            })
        }),
        refresh_before: plan.auth.refresh.then_some(plan.auth.refresh_before.0),
        isolation,
        security,
        auth: plan.auth.clone(),
        resume: plan.scenario.resume,
        drop_after_events: plan.scenario.drop_after_events,
        stop_on_leak: plan.scenario.stop_on_leak,
        run_tag,
        email_domain: plan.auth.email_domain.clone(),
        shard: options.shard,
        stop,
        run_budget: plan.limits.max_runs.map(|n| {
            let share = options.shard.share(n as usize) as u64;
            Arc::new(crate::engine::stop::RunBudget::new(share))
        }),
        backoff_base: plan.scenario.backoff_base(plan.scenario.think_time.mean()),
        backoff_cap: plan.scenario.reconnect_backoff_max.0,
    }
}

/// Before any load, in login mode: one login, so a refused login is one setup error, not a
/// thousand failed users. A server error may pass: it is counted like any user's failed
/// token fetch.
async fn probe_login(
    plan: &Plan,
    tokens: &TokenSource,
    run_tag: &str,
    options: &RunOptions,
    collector: &Collector,
) -> Result<(), SetupError> {
    if plan.auth.mode != AuthMode::Login {
        return Ok(());
    }
    let probe = Identity::new(
        run_tag,
        options.shard.global_user(0),
        &plan.auth.email_domain,
    );
    match tokens.token(&probe).await {
        Err(e @ crate::engine::auth::AuthError::LoginRefused { status, .. }) if status >= 500 => {
            eprintln!("agentload: warning: the login probe got HTTP {status}");
            let failure = crate::engine::outcome::Failure::new("auth.token", e.to_string());
            collector.note_failure(0, &failure);
            Ok(())
        }
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

/// The verdicts: Goose's thresholds, the typed latency keys over every agent scenario of a mix
/// (whose requests Goose names per scenario), and the rules agentload judges on its figures.
fn judge(plan: &Plan, summary: &mut Summary, metrics: &goose::metrics::GooseMetrics) {
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
            summary,
            &[],
            "agentload (every agent scenario)",
        );
        summary.sla.extend(judged);
    }
    let own = crate::model::sla::judge(&plan.sla, summary);
    summary.sla.extend(own);
    summary.passed = summary.sla.iter().all(|r| r.passed);
}

/// From the first stage to the peak's (the last stage with the most users): what grew the most.
fn degraded_in_stages(
    plan: &Plan,
    stages: &[std::collections::BTreeMap<String, f64>],
) -> Option<String> {
    let users: Vec<usize> = plan.stages.iter().map(|s| s.users).collect();
    let most = *users.iter().max()?;
    let peak = users.iter().rposition(|u| *u == most)?;
    if peak == 0 {
        return None;
    }
    let what = crate::model::breakdown::degraded_first(stages.first()?, stages.get(peak)?)?;
    Some(format!(
        "from stage 1 ({} users) to stage {} ({most} users), {what}",
        users[0],
        peak + 1
    ))
}

/// The labels of every series `--metrics-addr` serves: the run id and shard of a shard.
fn exporter_labels(options: &RunOptions) -> Vec<(String, String)> {
    match options.shard.is_whole() {
        true => Vec::new(),
        false => vec![
            ("run_id".into(), options.run_id.clone().unwrap_or_default()),
            ("shard".into(), options.shard.index.to_string()),
        ],
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
