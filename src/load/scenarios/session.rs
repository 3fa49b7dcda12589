//! Sessions: a user logs in, opens a socket, starts a thread, sends a few turns (each after the
//! last run and a think time), and leaves. Closed model: each Goose user holds one session
//! after another (a seat's conversations). Open model: Goose users are a pool fed by the
//! arrival schedule, each session a new user. Every turn is an ordinary run (`turn::one_run`),
//! collected on the same path as an immortal user's runs.

pub use super::context::Sessions;
use super::context::{record, Context, Session, Shared};
use super::turn::{one_run, TurnEnd};
use super::users;
use crate::load::arrivals::pool::{Pool, Ticket};
use crate::measure::collector::SessionEnd;
use goose::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// A session to hold: its number in the whole test, turns, and when it was due.
struct Plan {
    turns: u32,
    /// Open model: when the arrival was due (latency counts from here).
    scheduled: Option<tokio::time::Instant>,
    /// A session started part-way: the rest of its pause before its next turn (which is not
    /// a session's first: no start lag nor first turn is measured of it).
    resumed: Option<Duration>,
}

/// Closed model: each user holds sessions back to back (a think time between them).
pub fn closed_scenario(
    ctx: Arc<Context>,
    name: &str,
    weight: usize,
) -> Result<Scenario, GooseError> {
    let (low, high) = ctx.think.goose_range().unwrap_or_default();
    let on_start = {
        let ctx = ctx.clone();
        let f: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move {
                users::seat(&ctx, user);
                Ok(())
            })
        });
        Transaction::new(f).set_name("seat").set_on_start()
    };
    let conversation = {
        let ctx = ctx.clone();
        let f: TransactionFunction = Arc::new(move |user| {
            let ctx = ctx.clone();
            Box::pin(async move { closed_session(&ctx, user).await })
        });
        Transaction::new(f).set_name("session")
    };
    Ok(Scenario::new(name)
        .set_weight(weight)?
        .set_wait_time(low, high)?
        .register_transaction(on_start)
        .register_transaction(conversation)
        .register_transaction(users::disconnect_on_stop(ctx)))
}

async fn closed_session(ctx: &Context, user: &mut GooseUser) -> TransactionResult {
    let shared = user
        .get_session_data::<Shared>()
        .expect("on_start sets the seat")
        .clone();
    let mut seat = shared.lock().await;
    if !users::seated(ctx, user, &mut seat).await {
        return Ok(());
    }
    let sessions = ctx.sessions.as_ref().expect("a session plan");
    seat.conversations += 1;
    let nth = seat.conversations;
    seat.begin_conversation(nth);
    let turns = sessions.turns.draw_with(rand::random());
    let plan = Plan {
        turns,
        scheduled: None,
        resumed: None,
    };
    hold(ctx, user, &mut seat, plan).await?;
    drop(seat);
    if ctx.think.goose_range().is_none() {
        let pause = ctx.think.draw(&mut rand::rng());
        ctx.stop.pause(pause).await;
    }
    Ok(())
}

/// Open model: one Goose scenario of `pool` users; each waits for an arrival and holds its
/// session with the scenario's context the arrival names.
pub fn pool_scenario(
    contexts: Arc<Vec<Arc<Context>>>,
    pool: Arc<Pool>,
) -> Result<Scenario, GooseError> {
    let on_start = {
        let pool = pool.clone();
        let f: TransactionFunction = Arc::new(move |_| {
            let pool = pool.clone();
            Box::pin(async move {
                pool.launched();
                Ok(())
            })
        });
        Transaction::new(f).set_name("pool").set_on_start()
    };
    let session = {
        let f: TransactionFunction = Arc::new(move |user| {
            let (contexts, pool) = (contexts.clone(), pool.clone());
            Box::pin(async move { open_session(&contexts, &pool, user).await })
        });
        Transaction::new(f).set_name("session")
    };
    Ok(Scenario::new("sessions")
        .set_wait_time(Duration::ZERO, Duration::ZERO)?
        .register_transaction(on_start)
        .register_transaction(session))
}

async fn open_session(
    contexts: &[Arc<Context>],
    pool: &Pool,
    user: &mut GooseUser,
) -> TransactionResult {
    let stop = contexts[0].stop.clone();
    // Waiting ends with the test (a stop, or the plan's end): Goose then lets the user go.
    let give_up = async { while stop.pause(Duration::from_secs(3600)).await {} };
    let Some(ticket) = pool.take(give_up).await else {
        // No more arrivals: rest a moment before Goose asks again (it ends the user soon).
        tokio::time::sleep(Duration::from_millis(250)).await;
        return Ok(());
    };
    let Ticket {
        number,
        scenario,
        turns,
        scheduled,
        resume,
    } = ticket;
    let ctx = &contexts[scenario.min(contexts.len() - 1)];
    let mut s = Session::new(ctx, ctx.shard.global_user(number));
    s.begin_conversation(1);
    let plan = Plan {
        turns,
        scheduled: resume.is_none().then_some(scheduled),
        resumed: resume.map(|r| r.wait),
    };
    let held = hold(ctx, user, &mut s, plan).await;
    pool.session_ended();
    held
}

/// Holds one session on `s`: its turns, a think time between them, then a clean close.
async fn hold(
    ctx: &Context,
    user: &mut GooseUser,
    s: &mut Session,
    plan: Plan,
) -> TransactionResult {
    let slot = user.weighted_users_index;
    let started = tokio::time::Instant::now();
    let lag = plan
        .scheduled
        .map(|due| started.saturating_duration_since(due));
    ctx.collector.session_started(lag);
    let from = plan.scheduled.unwrap_or(started);
    let mut end = SessionEnd {
        started_secs: ctx.collector.now_secs(),
        first_turn: None,
        failed: false,
        cut: false,
        resumed: plan.resumed.is_some(),
    };
    // A live rate that falls lets sessions go: each notes what was kept when it began.
    let mut noted = ctx.rate.as_ref().map(|r| r.population.noted());
    if let Some(wait) = plan.resumed {
        end.cut = !pause_between(ctx, noted.as_mut(), wait).await;
    }
    // A test that ends during that pause leaves no turn to take.
    let turns = if end.cut { 0 } else { plan.turns };
    for turn in 1..=turns {
        match one_run(ctx, user, s, Some(turn)).await? {
            TurnEnd::Completed => {
                if turn == 1 && plan.resumed.is_none() {
                    let first = from.elapsed();
                    ctx.collector.first_turn(first);
                    end.first_turn = Some(first);
                }
            }
            TurnEnd::Failed => end.failed = true,
            TurnEnd::NoSocket => {
                // The user could not get in (or the test is ending): it leaves.
                end.failed = ctx.stop.stopping().is_none() && !ctx.stop.past_planned_end();
                end.cut = !end.failed;
                break;
            }
            TurnEnd::Halted => {
                end.cut = true;
                break;
            }
        }
        if turn == plan.turns {
            break;
        }
        let pause = ctx.think.draw(&mut rand::rng());
        if !pause_between(ctx, noted.as_mut(), pause).await {
            // The test ends during the pause, or the search lets the session go: it is cut,
            // not failed.
            end.cut = true;
            break;
        }
    }
    s.close(ctx, slot).await;
    let elapsed = started.elapsed();
    let completed = !end.failed && !end.cut;
    ctx.collector.session_ended(end);
    if completed {
        record(ctx, user, "session", elapsed, None).await?;
    }
    Ok(())
}

/// A session's pause between turns: false when the test stops meanwhile, or a live rate
/// that falls lets the session go (at once, even in its pause; `noted`: what was kept when
/// it began, `None` off a live rate).
async fn pause_between(ctx: &Context, noted: Option<&mut usize>, wait: Duration) -> bool {
    match ctx.rate.as_ref().zip(noted) {
        Some((rate, noted)) => {
            rate.population.stays(noted, rand::random())
                && rate.population.pause(noted, wait, &ctx.stop).await == Some(true)
        }
        None => ctx.stop.pause(wait).await,
    }
}
