//! One load test end to end: resolve the target (or start the embedded one), build the
//! clients, run the Goose attack for the plan's stages, and collect the result model.

use crate::client::auth::{Identity, TokenSource};
use crate::errors::Exit;
use crate::load::arrivals::{pool::Pool, Arrivals, Feeder};
use crate::load::attack::goose_error_line;
use crate::load::level::{Attached, Knob};
pub use crate::load::options::RunOptions;
pub use crate::load::setup::SetupError;
use crate::load::shared::base_context;
pub use crate::load::shared::Clients;
use crate::load::stop::Stop;
pub use crate::load::target::{client_credential, fetch_stats, resolve_target, Resolved};
use crate::load::watch::{checkpoint::Checkpoint, Beside};
use crate::measure::collector::{Collector, ScenarioMeta};
use crate::measure::sampler::Sampler;
use crate::model::server::ServerMetrics;
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::{AuthMode, Plan};
use goose::prelude::*;
use std::path::Path;
use std::sync::Arc;

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
    let limit = crate::load::nofile::raise_to_hard_limit();
    crate::load::nofile::check(plan.peak_users(), limit).map_err(SetupError::TooManyUsers)?;
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
    let attack = crate::load::attack::build(plan, resolved, options, report_dir, &base)?;

    let target_pid = crate::measure::sampler::target_pid(
        plan,
        resolved.embedded.as_ref().map(|c| c.endpoints.pid),
    );
    let sampler = plan.sampler.enabled.then(|| {
        let every = plan.sampler.interval.0;
        Sampler::start(
            target_pid,
            every,
            collector.open_gauge(),
            collector.origin(),
        )
    });
    let heading = heading(plan, resolved, started_at);
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
        base_url: &resolved.base_url,
        shard_count: options.shard.count,
        exporter: options
            .metrics_addr
            .map(|addr| (addr, exporter_labels(options))),
    }
    .start()
    .map_err(SetupError::Metrics)?;
    if let Some(live) = &options.live {
        live.attach(Attached {
            collector: collector.clone(),
            stop: stop.clone(),
            samples: sampler.as_ref().map(Sampler::samples),
            server: server.clone(),
        });
    }
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
        .map(|samples| crate::measure::sampler::resources(plan, target_pid, samples, &summary));
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
        let mut arrivals = Arrivals::of(plan, options.shard);
        // A live load's arrivals follow its level (this shard's share of it).
        arrivals.live = options
            .live
            .as_ref()
            .filter(|live| live.level.knob() == Knob::Rate)
            .map(|live| (live.level.clone(), 1.0 / options.shard.count as f64));
        Feeder::start(arrivals, pool, collector.clone(), stop.clone())
    });
    let executed = {
        // Goose prints its "users launched" lines on stdout whatever `quiet` says.
        let _muted = (options.verbose == 0).then(crate::load::stdout::Muted::stdout);
        attack.execute().await
    };
    if let Some(feeder) = feeder {
        feeder.finish().await;
    }
    executed
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
        Err(e @ crate::client::auth::AuthError::LoginRefused { status, .. }) if status >= 500 => {
            eprintln!("agentload: warning: the login probe got HTTP {status}");
            let failure = crate::client::outcome::Failure::new("auth.token", e.to_string());
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

/// The summary's header: the plan, when, the target and how TLS met it, the peak users.
fn heading(plan: &Plan, resolved: &Resolved, started_at: chrono::DateTime<chrono::Utc>) -> Summary {
    Summary {
        plan: plan.name(),
        started_at: started_at.to_rfc3339(),
        target: resolved.ws_url.clone(),
        tls: resolved.ws_url.starts_with("wss:").then(|| {
            match plan.target.tls_resumption {
                true => "sessions resumed",
                false => "full handshakes",
            }
            .to_string()
        }),
        peak_users: plan.peak_users(),
        ..Summary::default()
    }
}
