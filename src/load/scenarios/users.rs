//! What every socket-holding user does at its start and its end: a session with the
//! user's identity and canary, the first connect, and a clean close.

use super::connect::ensure_connected;
use super::context::{Context, Names, Session, Shared};
use crate::client::auth::Identity;
use crate::client::ws;
use goose::prelude::*;
use std::sync::Arc;

/// On start: the user's session (identity and canary from its test-wide number), then
/// connect (a live load's user whose seat is not admitted yet connects when it is).
pub(super) fn connect_on_start(ctx: Arc<Context>) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let session = seat(&ctx, user);
            let mut s = session.lock().await;
            match &ctx.seats {
                Some(seats) if !seats.admits(user.weighted_users_index) => Ok(()),
                _ => ensure_connected(&ctx, user, &mut s).await,
            }
        })
    });
    Transaction::new(f).set_name("connect").set_on_start()
}

/// A socket-holding user takes its seat: its session (identity and canary from its test-wide
/// number) kept as Goose session data, and the user counted as started.
pub(super) fn seat(ctx: &Context, user: &mut GooseUser) -> Shared {
    let number = ctx.user_number(user);
    let session: Shared = Arc::new(tokio::sync::Mutex::new(Session::new(ctx, number)));
    user.set_session_data(session.clone());
    ctx.collector
        .user_started(user.weighted_users_index, ctx.scenario);
    session
}

impl Session {
    /// User `number`'s state before its first connect: its identity, canary and thread.
    pub(super) fn new(ctx: &Context, number: usize) -> Session {
        let identity = Identity::new(&ctx.run_tag, number, &ctx.email_domain);
        Session {
            number,
            names: Arc::new(Names::new(&identity.sub, ctx.isolation.canary(number))),
            identity,
            token: None,
            socket: None,
            server_user_id: None,
            server_thread_id: None,
            runs: 0,
            clock_offset: None,
            conversations: 0,
            retired: Default::default(),
            backoff: crate::client::backoff::Backoff::new(ctx.backoff_base, ctx.backoff_cap),
            lapse_awaited: None,
            welcomed: false,
        }
    }

    /// A new conversation of this user (its `nth`): a thread of its own, a fresh token (a
    /// session logs in), its own socket.
    pub(super) fn begin_conversation(&mut self, nth: u64) {
        let names = &self.names;
        self.names = Arc::new(Names {
            sub: names.sub.clone(),
            canary: names.canary.clone(),
            thread: format!("{}-s{nth}-thread", names.sub),
        });
        self.token = None;
        self.server_thread_id = None;
        self.lapse_awaited = None;
    }

    /// Closes the socket, if one is open, with a close frame; counted when the close was clean.
    pub(super) async fn close(&mut self, ctx: &Context, slot: usize) {
        if let Some(socket) = self.socket.take() {
            ctx.collector.socket_gone();
            if ws::close(socket).await {
                ctx.collector.closed_cleanly(slot);
            }
        }
    }
}

/// A live load's seats (a capacity search moving the users): a user whose seat is not
/// admitted leaves its socket (closed cleanly) and waits until it is. False when the test
/// stops first: the user does nothing more.
pub(super) async fn seated(ctx: &Context, user: &GooseUser, s: &mut Session) -> bool {
    let Some(seats) = &ctx.seats else {
        return true;
    };
    let seat = user.weighted_users_index;
    if seats.admits(seat) {
        return true;
    }
    s.close(ctx, seat).await;
    seats.admitted(seat, &ctx.stop).await
}

/// On stop: close the socket with a close frame.
pub(super) fn disconnect_on_stop(ctx: Arc<Context>) -> Transaction {
    let f: TransactionFunction = Arc::new(move |user| {
        let ctx = ctx.clone();
        Box::pin(async move {
            let Some(session) = user.get_session_data::<Shared>() else {
                return Ok(());
            };
            session
                .lock()
                .await
                .close(&ctx, user.weighted_users_index)
                .await;
            Ok(())
        })
    });
    Transaction::new(f).set_name("disconnect").set_on_stop()
}
