//! Goose glue: a Goose scenario whose users hold one authenticated WebSocket each and loop
//! over agent runs, recording connect, first-event and whole-run times as Goose requests.

pub mod api;
mod connect;
mod context;
pub mod holder;
pub mod session;
mod turn;
mod users;

use goose::prelude::*;
use std::sync::Arc;

pub use crate::plan::requests::{REQ_AGENT_RUN, REQ_CONNECT, REQ_FIRST_EVENT};
pub use context::Context;
use context::Shared;

/// The agent-user scenario: connect on start, agent runs in a loop, close on stop.
pub fn agent_scenario(
    ctx: Arc<Context>,
    name: &str,
    weight: usize,
) -> Result<Scenario, GooseError> {
    // Goose waits fixed and uniform think times; agentload draws the others after each run.
    let (low, high) = ctx.think.goose_range().unwrap_or_default();
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
        .set_wait_time(low, high)?
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
    if !users::seated(ctx, user, &mut guard).await {
        return Ok(());
    }
    turn::one_run(ctx, user, &mut guard, None).await?;
    drop(guard);
    // A think time Goose can not draw (exponential, log-normal) is drawn here.
    if ctx.think.goose_range().is_none() {
        let pause = ctx.think.draw(&mut rand::rng());
        ctx.stop.pause(pause).await;
    }
    Ok(())
}
