//! What every user of one load test shares: the clients it talks to the target with (HTTP,
//! tokens, the WebSocket connector) and the base context each scenario refines.

use crate::client::auth::TokenSource;
use crate::client::protocol::SequenceRules;
use crate::client::ws::Connector;
use crate::load::arrivals::pool::Pool;
use crate::load::options::RunOptions;
use crate::load::scenarios::Context;
use crate::load::setup::SetupError;
use crate::load::stop::{Stop, DEFAULT_GRACE};
use crate::load::target::Resolved;
use crate::measure::collector::Collector;
use crate::plan::Plan;
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
        let tls = crate::client::tls::client_config(
            resolved.ca_file.as_deref(),
            plan.target.tls_resumption,
        )?;
        let http = crate::client::tls::http_client(&tls, plan.scenario.connect_timeout.0)?;
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
            profile: Arc::new(crate::client::protocol::Profile::from_plan(&plan.protocol)),
            max_frame: plan.scenario.max_frame.0 as usize,
        };
        Ok(Clients {
            http,
            tokens,
            connector,
        })
    }
}

/// What every user of the test shares: the clients, the collector, the detectors, the stop,
/// the plan's rules and times (each scenario of a mix refines it in `attack`).
pub(crate) fn base_context(
    plan: &Plan,
    options: &RunOptions,
    clients: Clients,
    run_tag: String,
    collector: Arc<Collector>,
) -> Context {
    let isolation = Arc::new(crate::client::isolation::Isolation::new(&run_tag));
    let stop = Arc::new(Stop::new(options.grace.unwrap_or(DEFAULT_GRACE)));
    let security = Arc::new(crate::client::security::Security::new(
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
            Arc::new(crate::load::scenarios::session::Sessions {
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
            Arc::new(crate::load::stop::RunBudget::new(share))
        }),
        backoff_base: plan.scenario.backoff_base(plan.scenario.think_time.mean()),
        backoff_cap: plan.scenario.reconnect_backoff_max.0,
        seats: options
            .live
            .as_ref()
            .filter(|live| live.level.knob() == crate::load::level::Knob::Seats)
            .map(|live| live.level.clone()),
        rate: options
            .live
            .as_ref()
            .filter(|live| live.level.knob() == crate::load::level::Knob::Rate)
            .map(|live| live.level.clone()),
    }
}
