//! One agent run of a user on its socket, whoever the user is (an immortal user's next run, or
//! a session's next turn): probe, settle the idle socket, renew, connect, send, read through
//! the checker (reconnecting and resuming when the socket goes), record.

use super::connect::settle_idle_socket;
use super::connect::{await_lapse, drop_socket, ensure_connected, probe_bad_token};
use super::context::{record, record_leaks, Context, Session, RETIRED_RUN_IDS};
use crate::client::auth::{Identity, Token};
use crate::client::outcome::Failure;
use crate::client::protocol::{SequenceRules, StartTemplate};
use crate::client::refresh::Refresher;
use crate::client::run;
use goose::prelude::*;
use std::time::Duration;

/// How a user's attempt at a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnEnd {
    /// The run completed and passed every check.
    Completed,
    /// The run failed (or was interrupted by a stop).
    Failed,
    /// No socket: the connect failed (recorded), or the test is ending; no start was sent.
    NoSocket,
    /// `[limits] max_runs` is spent: the test stops, no start was sent.
    Halted,
}

/// Most reconnect-and-resume rounds for one run.
const MAX_RESUMES: u32 = 3;

/// The user's next run (numbered from 1 on its session: its run id, and its prompt unless it
/// is a session's `turn`).
pub(super) async fn one_run(
    ctx: &Context,
    user: &mut GooseUser,
    s: &mut Session,
    turn: Option<u32>,
) -> Result<TurnEnd, Box<TransactionError>> {
    // A share of iterations first probe the target with a bad token on a separate socket.
    if let Some(kind) = ctx.security.draw() {
        probe_bad_token(ctx, user, s, kind).await?;
    }
    settle_idle_socket(ctx, user, s).await?;
    // Renew first if the token would lapse during the idle time before the next run.
    if let Some(failure) = renew_if_lapsing(ctx, s).await {
        // No start message was sent: not a run, but a failure to count.
        drop_socket(ctx, s);
        ctx.collector
            .note_failure(user.weighted_users_index, &failure);
        record(ctx, user, "token_refresh", Duration::ZERO, Some(&failure)).await?;
    }
    // A socket whose token lapses now is about to be cut: no start goes on it.
    await_lapse(ctx, user, s).await?;
    ensure_connected(ctx, user, s).await?;
    if s.socket.is_none() {
        // Connect failed and was recorded; Goose waits think_time before the next try.
        return Ok(TurnEnd::NoSocket);
    }
    if let Some(budget) = ctx.run_budget.as_ref().filter(|b| !b.take()) {
        let reason = format!(
            "{} runs started, the plan's max_runs (this process's share)",
            budget.limit()
        );
        ctx.stop.halt("max_runs", reason, ctx.collector.now_secs());
        return Ok(TurnEnd::Halted);
    }
    s.runs += 1;
    let number = s.runs;
    let names = s.names.clone();
    let run_id = format!("{}-r{number}", names.sub);
    let server_thread = s.server_thread_id.clone();
    let prompt = ctx.prompt(s.number, turn.map_or(number, u64::from));
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
        clock_offset: s.clock_offset,
    };
    let start = ctx.start_template(prompt.agent.as_deref().or(ctx.agent.as_deref()));
    let spec = run::RunSpec {
        user_request: &prompt.request,
        rules: rules.as_ref().unwrap_or(&ctx.rules),
        ..run_spec(ctx, s.number, ids, start)
    };
    let mut run = run::Run::new(spec);
    // In flight from here until `finish_run` tells the collector how it ended.
    ctx.collector.run_began();
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
    // A socket whose welcome bore no stamp takes its first run event's.
    s.clock_offset = s.clock_offset.or(result.clock_offset);
    result.outcome.scenario = ctx.scenario;
    result.outcome.turn = turn;
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
    let end = match result.outcome.failure {
        None => TurnEnd::Completed,
        Some(_) => TurnEnd::Failed,
    };
    finish_run(ctx, user, result).await?;
    Ok(end)
}

/// The per-run names a run spec needs.
struct RunIds<'a> {
    run_id: &'a str,
    thread_id: &'a str,
    sub: &'a str,
    canary: &'a str,
    retired: &'a std::collections::VecDeque<String>,
    token_expires_at: Option<std::time::SystemTime>,
    clock_offset: Option<f64>,
}

fn run_spec<'a>(
    ctx: &'a Context,
    user_number: usize,
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
        user_index: user_number,
        resume: ctx.resume,
        drop_after_events: ctx.drop_after_events,
        retired: ids.retired,
        token_expires_at: ids.token_expires_at,
        keep_final_data: !ctx.collector.checks().is_empty(),
        stop: &*ctx.stop,
        clock_offset: ids.clock_offset,
    }
}

/// Records a finished run: the run itself (first, so a run begun always ends in the
/// collector), leaks, first event, and the run as Goose's request.
async fn finish_run(
    ctx: &Context,
    user: &mut GooseUser,
    result: run::RunResult,
) -> TransactionResult {
    let failure = result.outcome.failure.clone();
    ctx.collector
        .run_finished(user.weighted_users_index, result.outcome);
    record_leaks(ctx, user, &result.leaks).await?;
    ctx.collector
        .stale_frames(user.weighted_users_index, result.stale_frames);
    if let Some(first) = result.time_to_first_event {
        record(ctx, user, "first_event", first, None).await?;
    }
    if failure.as_ref().is_some_and(Failure::is_interrupted) {
        // Neither a run's time nor a failure: the test stopped under it.
        return Ok(());
    }
    record(ctx, user, "agent_run", result.elapsed, failure.as_ref()).await
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

/// A user's refresher, when the plan renews tokens on open sockets.
fn refresher<'a>(
    ctx: &'a Context,
    identity: &'a Identity,
    token: Option<&'a mut Token>,
) -> Option<Refresher<'a>> {
    Some(Refresher {
        tokens: &ctx.tokens,
        identity,
        token: token?,
        before: ctx.refresh_before?,
        message: &ctx.connector.profile.refresh_message,
    })
}

/// Renews the token on the open socket when it would lapse before the next run ends idling.
async fn renew_if_lapsing(ctx: &Context, s: &mut Session) -> Option<Failure> {
    let socket = s.socket.as_mut()?;
    let mut r = refresher(ctx, &s.identity, s.token.as_mut())?;
    if r.token.expires_within(r.before + ctx.think.mean()) {
        return r.renew(socket).await.err();
    }
    None
}
