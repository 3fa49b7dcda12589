//! The agent backend's WebSocket: a socket refused (a bad token, the throttler) or served
//! until the client goes (`conversation`: what its messages are answered with).

use super::conversation::{Conn, Replica};
use super::layouts;
use super::state::State;
use super::stats::bump;
use axum::extract::ws::{close_code, CloseFrame};
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

use super::sink::{send, Sink};

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The platform's refusal of a bad token: it accepts the upgrade, says `AUTH_FAILED`, and
/// closes with 1008 (policy).
pub async fn refuse_socket(state: Arc<State>, socket: WebSocket, reason: String) {
    let (sink, _stream) = socket.split();
    let sink: Sink = Arc::new(Mutex::new(sink));
    let error = layouts::error(state.args.profile, "AUTH_FAILED", &reason);
    if send(&sink, error).await {
        let close = CloseFrame {
            code: close_code::POLICY,
            reason: "Authentication failed".into(),
        };
        let _ = sink.lock().await.send(Message::Close(Some(close))).await;
    }
}

/// The platform's throttler refusing a socket: it accepts the upgrade, says `rate_limited`
/// (with the wait it asks for), and closes with 1013 (Try Again Later).
pub async fn throttle_socket(state: Arc<State>, socket: WebSocket) {
    let (sink, _stream) = socket.split();
    let sink: Sink = Arc::new(Mutex::new(sink));
    let mut error = layouts::error(
        state.args.profile,
        "rate_limited",
        "Connection limit reached",
    );
    error["details"]["retry_after"] = json!(super::shedding::RETRY_AFTER_SECS);
    if send(&sink, error).await {
        let close = CloseFrame {
            code: close_code::AGAIN,
            reason: "Try Again Later".into(),
        };
        let _ = sink.lock().await.send(Message::Close(Some(close))).await;
    }
}

/// The authenticated user of a socket and until when its token holds.
pub struct Session {
    pub user_id: String,
    pub expires_at: u64,
}

/// Runs one connection until the client closes it (or its token lapses); every run it started
/// ends as completed or abandoned in the counters.
pub async fn serve_socket(state: Arc<State>, socket: WebSocket, session: Session) {
    let counters = &state.counters;
    counters.connections_open.fetch_add(1, Ordering::Relaxed);
    bump(&counters.connections_total);
    counters.saw_user(&session.user_id);
    // The backend replica this socket's runs go to, for as long as it is open.
    let pinned = state.replicas.pin();
    // Written, not zeroed, so the pages are resident.
    let ballast = vec![0xA5u8; state.args.ballast_kb_per_connection * 1024];
    let connection_number = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let connection_id = format!("conn-{connection_number}");
    let (sink, stream) = socket.split();
    let sink: Sink = Arc::new(Mutex::new(sink));
    state
        .registry
        .add(connection_number, &session.user_id, sink.clone());
    // A run with the drop fault pulls this: the socket goes without a close frame.
    let kill = Arc::new(tokio::sync::Notify::new());
    let mut conn = Conn {
        state: &state,
        sink: &sink,
        user_id: &session.user_id,
        on: Replica {
            index: pinned.index,
            kill: &kill,
        },
        // The Oct-2025 handshake: the server names the thread; runs wait for the
        // acknowledgement.
        handshake_thread: format!("thread-{connection_id}"),
        awaiting_ack: state.args.handshake,
        expires_at: session.expires_at,
        slots: Vec::new(),
    };
    let open = conn.greet(&connection_id).await;
    let dropped = open && conn.converse(stream).await;
    // The client is gone: its runs go on without this socket, resumable for a while.
    for slot in &conn.slots {
        slot.detach(&sink);
    }
    state.registry.remove(connection_number);
    if !dropped {
        let _ = sink.lock().await.close().await;
    }
    drop(std::hint::black_box(ballast));
    drop(pinned);
    counters.connections_open.fetch_sub(1, Ordering::Relaxed);
}
