//! The Goose attack of one load test: Goose's configuration (quiet, reports, shared client),
//! one Goose scenario per entry of the plan's mix, the test plan and the thresholds Goose
//! judges.

use crate::client::protocol::{SequenceRules, StartTemplate};
use crate::errors::chain;
use crate::load::options::RunOptions;
use crate::load::scenarios::{self, Context};
use crate::load::setup::SetupError;
use crate::load::target::Resolved;
use crate::plan::mix::{Kind, MixEntry};
use crate::plan::Plan;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// The attack for `plan`'s stages against `resolved`, every scenario's users sharing `base`.
pub fn build(
    plan: &Plan,
    resolved: &Resolved,
    options: &RunOptions,
    report_dir: &Path,
    base: &Context,
) -> Result<Box<GooseAttack>, SetupError> {
    let goose_err = |e: GooseError| SetupError::Goose(goose_error_line(&e));
    let mix = plan.mix();
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
    let contexts: Vec<Arc<Context>> = mix
        .iter()
        .enumerate()
        .map(|(i, entry)| Arc::new(scenario_context(base, plan, i, entry)))
        .collect();
    let pool = base.sessions.as_ref().and_then(|s| s.pool.clone());
    if let Some(pool) = pool {
        // The open model: one pool of users, each session run with its arrival's scenario.
        let scenario = scenarios::session::pool_scenario(Arc::new(contexts), pool);
        attack = attack.register_scenario(scenario.map_err(goose_err)?);
    } else {
        for (ctx, entry) in contexts.into_iter().zip(&mix) {
            let weight = entry.weight as usize;
            let scenario = match entry.kind {
                Kind::Agent if plan.session.is_some() => {
                    scenarios::session::closed_scenario(ctx, &entry.name, weight)
                }
                Kind::Agent => scenarios::agent_scenario(ctx, &entry.name, weight),
                Kind::Api => scenarios::api::scenario(ctx, &entry.name, weight),
                Kind::Idle => scenarios::holder::scenario(ctx, &entry.name, weight),
            };
            attack = attack.register_scenario(scenario.map_err(goose_err)?);
        }
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
        // `abort_on_fail` is agentload's guard (with its grace): Goose's own threshold abort
        // would stop the test as a Ctrl-C does, with no rule named.
        .set_default(GooseDefault::NoThresholdAbort, true)
        .map_err(goose_err)?;
    // A mix names its requests per scenario (`WS agent_run [triage]`): the plan's latency keys,
    // over every agent scenario, are judged by agentload on its histograms instead.
    let goose_rules = match plan.is_mix() {
        true => plan.sla.raw_goose_rules(),
        false => plan.sla.goose_rules(),
    };
    for rule in goose_rules {
        attack = attack
            .set_default(GooseDefault::Threshold, rule.as_str())
            .map_err(goose_err)?;
    }
    Ok(attack)
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
    let think = entry.think_time.unwrap_or(base.think);
    Context {
        starts: Arc::new(starts),
        scenario: index,
        label: plan.is_mix().then(|| entry.name.clone()),
        prompts: Arc::new(entry.prompts.clone()),
        pick: entry.pick,
        seed: entry.seed,
        agent: entry.agent.clone(),
        endpoints: Arc::new(entry.endpoints.clone()),
        think,
        backoff_base: plan.scenario.backoff_base(think.mean()),
        run_timeout: entry.run_timeout.map_or(base.run_timeout, |d| d.0),
        rules: SequenceRules {
            expect_tools: entry.expect_tools.clone(),
            ..base.rules.clone()
        },
        ..base.clone()
    }
}

pub fn goose_error_line(e: &GooseError) -> String {
    match e {
        GooseError::InvalidOption { value, detail, .. } => format!("`{value}`: {detail}"),
        other => chain(other),
    }
}
