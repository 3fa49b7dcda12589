//! Goose glue: a Goose scenario whose users hold one authenticated WebSocket each and loop
//! over agent runs, recording connect, first-event and whole-run times as Goose requests.

pub mod api;
pub mod backoff;
mod connect;
pub mod continuity;
pub mod holder;
pub mod idle;
pub mod isolation;
pub mod refresh;
pub mod run;
pub mod security;
mod users;
pub mod ws;

use crate::engine::auth::{Identity, Token, TokenSource};
use crate::engine::collector::Collector;
use crate::engine::outcome::Failure;
use crate::engine::protocol::{SequenceRules, StartTemplate};
use crate::plan::mix::{Endpoint, Pick, Prompt};
use connect::{await_lapse, drop_socket, ensure_connected, probe_bad_token, settle_idle_socket};
use goose::prelude::*;
use refresh::{refresher, renew_if_lapsing};
use std::sync::Arc;
use std::time::Duration;

pub use crate::plan::requests::{REQ_AGENT_RUN, REQ_CONNECT, REQ_FIRST_EVENT};

/// What every simulated user of one scenario shares (the heavy parts are shared by all).
#[derive(Clone)]
pub struct Context {
    pub connector: Arc<ws::Connector>,
    pub tokens: Arc<TokenSource>,
    pub collector: Arc<Collector>,
    pub rules: SequenceRules,
    /// The scenario of the mix (index), and its name in request names when the plan is a mix.
    pub scenario: usize,
    pub label: Option<String>,
    /// Agent users: the requests they send, how they pick the next one, the agent they ask for.
    pub prompts: Arc<Vec<Prompt>>,
    pub pick: Pick,
    pub seed: u64,
    pub agent: Option<String>,
    /// The start message compiled for each agent this scenario's runs ask for.
    pub starts: Arc<Vec<StartTemplate>>,
    /// Api users: the endpoints, and the HTTP client Goose sends their requests with.
    pub endpoints: Arc<Vec<Endpoint>>,
    pub http: reqwest::Client,
    pub run_timeout: Duration,
    pub think_time: Duration,
    pub auth: crate::plan::Auth,
    /// Reconnect and resume a run whose socket went mid-run.
    pub resume: bool,
    /// Drop our own socket after this many events of each run (0: never).
    pub drop_after_events: usize,
    /// Stop the load test at the first isolation violation.
    pub stop_on_leak: bool,
    /// Renew tokens this long before expiry (`None`: never renew on an open socket).
    pub refresh_before: Option<Duration>,
    pub isolation: Arc<isolation::Isolation>,
    pub security: Arc<security::Security>,
    /// Unique per load test, so users of two runs never share an identity.
    pub run_tag: String,
    pub email_domain: String,
    /// This process's shard: users are numbered test-wide through it.
    pub shard: crate::plan::Shard,
    /// A stop under way (SIGTERM, Ctrl-C): waits end, runs get a grace.
    pub stop: Arc<crate::engine::stop::Stop>,
    /// `[limits] max_runs`: this process's share of the runs the test may start.
    pub run_budget: Option<Arc<crate::engine::stop::RunBudget>>,
    /// Reconnect backoff: the first wait's ceiling, and the most any wait may be.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
}

impl Context {
    /// `user`'s number in the whole load test (every shard's users together): what its
    /// identity, canary and isolation checks use. Collector slots keep Goose's own index.
    pub(crate) fn user_number(&self, user: &GooseUser) -> usize {
        self.shard.global_user(user.weighted_users_index)
    }

    /// A Goose request name, with the scenario when the plan is a mix: `agent_run [triage]`.
    pub(crate) fn request_name<'a>(&self, name: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.label {
            Some(label) => format!("{name} [{label}]").into(),
            None => name.into(),
        }
    }

    /// The start message asking for `agent` (compiled for every agent of the scenario).
    pub(crate) fn start_template(&self, agent: Option<&str>) -> &StartTemplate {
        let found = self.starts.iter().find(|t| t.agent.as_deref() == agent);
        found.expect("a start template for every agent of the scenario")
    }

    /// The prompt for user `number`'s run `run` (1-based): round robin from the user's own
    /// place in the pool, or drawn with the plan's seed (the same seed, the same requests).
    pub(crate) fn prompt(&self, number: usize, run: u64) -> &Prompt {
        let n = self.prompts.len().max(1);
        let i = match self.pick {
            Pick::RoundRobin => (number + run as usize) % n,
            Pick::Random => {
                let x = self.seed ^ (number as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ run;
                let x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                ((x ^ (x >> 31)) % n as u64) as usize
            }
        };
        &self.prompts[i]
    }
}

/// One user's state, kept in Goose's session data.
pub(crate) struct Session {
    identity: Identity,
    token: Option<Token>,
    socket: Option<ws::WsStream>,
    /// What the server's welcome and handshake said.
    server_user_id: Option<String>,
    server_thread_id: Option<String>,
    /// The names every run of this user sends, shared so a run holds them without a copy.
    names: Arc<users::Names>,
    runs: u64,
    /// Ids of this user's last runs: their late frames are set aside, not judged.
    retired: std::collections::VecDeque<String>,
    backoff: backoff::Backoff,
    /// The token expiry this socket already waited out (a server that does not cut keeps it).
    lapse_awaited: Option<std::time::SystemTime>,
}

/// How many finished runs' ids a user remembers.
const RETIRED_RUN_IDS: usize = 16;

type Shared = Arc<tokio::sync::Mutex<Session>>;

/// The agent-user scenario: connect on start, agent runs in a loop, close on stop.
pub fn agent_scenario(
    ctx: Arc<Context>,
    name: &str,
    weight: usize,
) -> Result<Scenario, GooseError> {
    let think_time = ctx.think_time;
    let run = {
        let ctx = ctx.clone();
        let f: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move { agent_run(&ctx, user).await })
        });
        Transaction::new(f).set_name("agent_run")
    };
    Ok(Scenario::new(name)
        .set_weight(weight)?
        .set_wait_time(think_time, think_time)?
        .register_transaction(users::connect_on_start(ctx.clone()))
        .register_transaction(run)
        .register_transaction(users::disconnect_on_stop(ctx)))
}

async fn agent_run(ctx: &Context, user: &mut GooseUser) -> TransactionResult {
    let session = user
        .get_session_data::<Shared>()
        .expect("on_start sets the session")
        .clone();
    let mut guard = session.lock().await;
    // A share of iterations first probe the target with a bad token on a separate socket.
    if let Some(kind) = ctx.security.draw() {
        probe_bad_token(ctx, user, &guard, kind).await?;
    }
    settle_idle_socket(ctx, user, &mut guard).await?;
    // Renew first if the token would lapse during the idle time before the next run.
    if let Some(failure) = renew_if_lapsing(ctx, &mut guard).await {
        // No start message was sent: not a run, but a failure to count.
        drop_socket(ctx, &mut guard);
        ctx.collector
            .note_failure(user.weighted_users_index, &failure);
        record(ctx, user, "token_refresh", Duration::ZERO, Some(&failure)).await?;
    }
    // A socket whose token lapses now is about to be cut: no start goes on it.
    await_lapse(ctx, user, &mut guard).await?;
    ensure_connected(ctx, user, &mut guard).await?;
    let s = &mut *guard;
    if s.socket.is_none() {
        // Connect failed and was recorded; Goose waits think_time before the next try.
        return Ok(());
    }
    if let Some(budget) = ctx.run_budget.as_ref().filter(|b| !b.take()) {
        let reason = format!(
            "{} runs started, the plan's max_runs (this process's share)",
            budget.limit()
        );
        ctx.stop.halt("max_runs", reason, ctx.collector.now_secs());
        return Ok(());
    }
    s.runs += 1;
    let names = s.names.clone();
    let run_id = format!("{}-r{}", names.sub, s.runs);
    let server_thread = s.server_thread_id.clone();
    let prompt = ctx.prompt(ctx.user_number(user), s.runs);
    // A prompt's own tool-chain expectation replaces the scenario's.
    let rules = match prompt.expect_tools.is_empty() {
        true => None,
        false => Some(SequenceRules {
            expect_tools: prompt.expect_tools.clone(),
            ..ctx.rules.clone()
        }),
    };
    // Taken out for the run (and put back after): the session stays mutable for reconnects.
    let mut retired = std::mem::take(&mut s.retired);
    let ids = RunIds {
        run_id: &run_id,
        thread_id: server_thread.as_deref().unwrap_or(&names.thread),
        sub: &names.sub,
        canary: &names.canary,
        retired: &retired,
        token_expires_at: s.token.as_ref().map(|t| t.expires_at),
    };
    let start = ctx.start_template(prompt.agent.as_deref().or(ctx.agent.as_deref()));
    let spec = run::RunSpec {
        user_request: &prompt.request,
        rules: rules.as_ref().unwrap_or(&ctx.rules),
        ..run_spec(ctx, user, ids, start)
    };
    let mut run = run::Run::new(spec);
    let mut step = {
        let socket = s.socket.as_mut().expect("checked above");
        run.start(socket, refresher(ctx, &s.identity, s.token.as_mut()))
            .await
    };
    // Reconnect and resume as long as the socket goes mid-run (a few times at most).
    let mut resumes = 0;
    let verdict = loop {
        let failure = match step {
            run::Step::Done(verdict) => break verdict,
            run::Step::Interrupted(failure) => failure,
        };
        drop_socket(ctx, s);
        if resumes == MAX_RESUMES {
            break Err((failure, false));
        }
        resumes += 1;
        ensure_connected(ctx, user, s).await?;
        let Some(socket) = s.socket.as_mut() else {
            break Err((failure, false));
        };
        ctx.collector.resumed(user.weighted_users_index);
        step = run
            .resume(socket, refresher(ctx, &s.identity, s.token.as_mut()))
            .await;
    };
    let mut result = run.finish(verdict);
    result.outcome.scenario = ctx.scenario;
    if let (None, Some(data)) = (&result.outcome.failure, &result.outcome.final_data) {
        result.outcome.failure = required_check_failure(ctx, data);
    }
    if !result.socket_usable {
        // Drop it: the next run reconnects with a fresh handshake.
        drop_socket(ctx, s);
    }
    for id in result.run_ids.drain(..) {
        if retired.len() == RETIRED_RUN_IDS {
            retired.pop_front();
        }
        retired.push_back(id);
    }
    s.retired = retired;
    drop(guard);
    finish_run(ctx, user, result).await
}

/// The per-run names a run spec needs.
struct RunIds<'a> {
    run_id: &'a str,
    thread_id: &'a str,
    sub: &'a str,
    canary: &'a str,
    retired: &'a std::collections::VecDeque<String>,
    token_expires_at: Option<std::time::SystemTime>,
}

/// Most reconnect-and-resume rounds for one run.
const MAX_RESUMES: u32 = 3;

fn run_spec<'a>(
    ctx: &'a Context,
    user: &GooseUser,
    ids: RunIds<'a>,
    start: &'a StartTemplate,
) -> run::RunSpec<'a> {
    run::RunSpec {
        profile: &ctx.connector.profile,
        run_id: ids.run_id,
        thread_id: ids.thread_id,
        user_id: ids.sub,
        canary: ids.canary,
        user_request: "",
        start,
        timeout: ctx.run_timeout,
        rules: &ctx.rules,
        isolation: &ctx.isolation,
        user_index: ctx.user_number(user),
        resume: ctx.resume,
        drop_after_events: ctx.drop_after_events,
        retired: ids.retired,
        token_expires_at: ids.token_expires_at,
        keep_final_data: !ctx.collector.checks().is_empty(),
        stop: &ctx.stop,
    }
}

/// Records a finished run: leaks, first event, the run itself.
async fn finish_run(
    ctx: &Context,
    user: &mut GooseUser,
    result: run::RunResult,
) -> TransactionResult {
    record_leaks(ctx, user, &result.leaks).await?;
    ctx.collector
        .stale_frames(user.weighted_users_index, result.stale_frames);
    if let Some(first) = result.time_to_first_event {
        record(ctx, user, "first_event", first, None).await?;
    }
    let failure = result.outcome.failure.clone();
    ctx.collector
        .run_finished(user.weighted_users_index, result.outcome);
    if failure.as_ref().is_some_and(Failure::is_interrupted) {
        // Neither a run's time nor a failure: the test stopped under it.
        return Ok(());
    }
    record(ctx, user, "agent_run", result.elapsed, failure.as_ref()).await
}

/// Records frames carrying other users' data (zero tolerance).
async fn record_leaks(ctx: &Context, user: &mut GooseUser, owners: &[usize]) -> TransactionResult {
    for owner in owners {
        let leak = Failure::new(
            "isolation.leak",
            format!("received a frame carrying user {owner}'s data"),
        );
        ctx.collector.note_failure(user.weighted_users_index, &leak);
        record(ctx, user, "isolation", Duration::ZERO, Some(&leak)).await?;
        if ctx.stop_on_leak {
            let reason = format!("isolation violation: {}", leak.message);
            // Said once, on stderr: Goose's own line about it is in its (quiet) log.
            if !goose::is_killswitch_triggered() {
                eprintln!("agentload: stopping the load test (stop_on_leak): {reason}");
            }
            ctx.stop.trigger_killswitch(&reason);
        }
    }
    Ok(())
}

/// The first `required` result check the completed run misses, as a failure.
fn required_check_failure(
    ctx: &Context,
    data: &serde_json::Map<String, serde_json::Value>,
) -> Option<Failure> {
    ctx.collector.checks().iter().find_map(|check| {
        let (value, met) = check.evaluate(data);
        (check.required && !met).then(|| {
            let seen = value.map_or("nothing".to_string(), |v| v.to_string());
            Failure::new(
                "result.check_failed",
                format!("{}: expected {}, found {seen}", check.name, check.rule()),
            )
        })
    })
}

async fn record(
    ctx: &Context,
    user: &mut GooseUser,
    name: &str,
    elapsed: Duration,
    failure: Option<&Failure>,
) -> TransactionResult {
    let error = failure.map(Failure::to_string);
    user.record_custom_request_duration(
        "WS",
        &ctx.request_name(name),
        elapsed,
        failure.is_none(),
        None,
        error.as_deref(),
    )
    .await
}
