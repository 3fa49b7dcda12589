//! What every socket-holding user does at its start and its end: a session with the
//! user's identity and canary, the first connect, and a clean close.

use super::connect::ensure_connected;
use super::{ws, Context, Session, Shared};
use crate::engine::auth::Identity;
use goose::prelude::*;
use std::sync::Arc;

/// On start: the user's session (identity and canary from its test-wide number), then connect.
pub(super) fn connect_on_start(ctx: Arc<Context>) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let number = ctx.user_number(user);
            let identity = Identity::new(&ctx.run_tag, number, &ctx.email_domain);
            let session: Shared = Arc::new(tokio::sync::Mutex::new(Session {
                names: Arc::new(Names::new(&identity.sub, ctx.isolation.canary(number))),
                identity,
                token: None,
                socket: None,
                server_user_id: None,
                server_thread_id: None,
                runs: 0,
                retired: Default::default(),
                backoff: super::backoff::Backoff::new(ctx.backoff_base, ctx.backoff_cap),
                lapse_awaited: None,
            }));
            user.set_session_data(session.clone());
            ctx.collector
                .user_started(user.weighted_users_index, ctx.scenario);
            let mut s = session.lock().await;
            ensure_connected(&ctx, user, &mut s).await
        })
    });
    Transaction::new(f).set_name("connect").set_on_start()
}

/// On stop: close the socket with a close frame.
pub(super) fn disconnect_on_stop(ctx: Arc<Context>) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let Some(session) = user.get_session_data::<Shared>() else {
                return Ok(());
            };
            let socket = session.lock().await.socket.take();
            if let Some(socket) = socket {
                ctx.collector.socket_gone();
                if ws::close(socket).await {
                    ctx.collector.closed_cleanly(user.weighted_users_index);
                }
            }
            Ok(())
        })
    });
    Transaction::new(f).set_name("disconnect").set_on_stop()
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
