//! What every transaction of an agent scenario shares: the context (clients, plan, collector,
//! the load's level), a user's session state, and how a result is recorded as Goose's.

use crate::client::auth::{Identity, Token, TokenSource};
use crate::client::outcome::Failure;
use crate::client::protocol::{SequenceRules, StartTemplate};
use crate::client::{backoff, isolation, security, ws};
use crate::load::arrivals::pool::Pool;
use crate::measure::collector::Collector;
use crate::plan::mix::{Endpoint, Pick, Prompt};
use crate::plan::{Think, Turns};
use goose::prelude::*;
use std::sync::Arc;
use std::time::Duration;

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
    /// The pause between a user's runs (and a session's turns); margins for token renewal are
    /// taken on its mean.
    pub think: Think,
    /// Users hold sessions (`[session]`): their turns, numbers, and the open model's pool.
    pub sessions: Option<Arc<Sessions>>,
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
    pub stop: Arc<crate::load::stop::Stop>,
    /// `[limits] max_runs`: this process's share of the runs the test may start.
    pub run_budget: Option<Arc<crate::load::stop::RunBudget>>,
    /// Reconnect backoff: the first wait's ceiling, and the most any wait may be.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// A live load's seats (the closed model under a capacity search): a user works only
    /// while its seat is admitted.
    pub seats: Option<Arc<crate::load::level::Level>>,
    /// A live load's rate (the open model under a capacity search): its sessions are let go
    /// when it falls.
    pub rate: Option<Arc<crate::load::level::Level>>,
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

/// One user's state (an immortal user's, in Goose's session data), or one session's.
pub(crate) struct Session {
    /// The user's number in the whole test: its identity, canary and isolation checks.
    pub(super) number: usize,
    pub(super) identity: Identity,
    pub(super) token: Option<Token>,
    pub(super) socket: Option<ws::WsStream>,
    /// What the server's welcome and handshake said.
    pub(super) server_user_id: Option<String>,
    pub(super) server_thread_id: Option<String>,
    /// The names every run of this user sends, shared so a run holds them without a copy.
    pub(super) names: Arc<Names>,
    pub(super) runs: u64,
    /// The socket's clock offset (server less client, seconds), for delivery lag.
    pub(super) clock_offset: Option<f64>,
    /// Closed sessions: the conversations this seat has begun.
    pub(super) conversations: u64,
    /// Ids of this user's last runs: their late frames are set aside, not judged.
    pub(super) retired: std::collections::VecDeque<String>,
    pub(super) backoff: backoff::Backoff,
    /// The token expiry this socket already waited out (a server that does not cut keeps it).
    pub(super) lapse_awaited: Option<std::time::SystemTime>,
    /// A welcome named this user's id once already (the isolation check counts users once).
    pub(super) welcomed: bool,
}

/// How many finished runs' ids a user remembers.
pub(super) const RETIRED_RUN_IDS: usize = 16;

pub(super) type Shared = Arc<tokio::sync::Mutex<Session>>;

/// What the users of a plan with `[session]` share.
pub struct Sessions {
    pub turns: Turns,
    /// Open model: the pool the arrivals feed (closed: `None`).
    pub pool: Option<Arc<Pool>>,
}

/// A user's names, the same in each of its runs.
pub(crate) struct Names {
    /// The token's subject.
    pub(super) sub: String,
    /// A secret-shaped marker this user sends with every run (isolation checks).
    pub(super) canary: String,
    /// The thread its runs go to when the server names none: `<sub>-thread`.
    pub(super) thread: String,
}

impl Names {
    pub(crate) fn new(sub: &str, canary: String) -> Names {
        Names {
            sub: sub.to_string(),
            thread: format!("{sub}-thread"),
            canary,
        }
    }
}

/// Records frames carrying other users' data (zero tolerance).
pub(super) async fn record_leaks(
    ctx: &Context,
    user: &mut GooseUser,
    owners: &[usize],
) -> TransactionResult {
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

pub(super) async fn record(
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
