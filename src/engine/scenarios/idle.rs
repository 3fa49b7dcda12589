//! Between two runs: what already waits on a user's socket is read before the next start.

use super::ws::WsStream;
use crate::engine::outcome::Failure;
use crate::engine::protocol::{AgentEvent, EventKind, Profile};
use futures_util::StreamExt;
use std::time::SystemTime;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// What was waiting on a socket between two runs.
#[derive(Debug, Default)]
pub struct Idle {
    /// Run events of earlier runs, set aside.
    pub stale_frames: u64,
    /// Owners of other users' data among them.
    pub leaks: Vec<usize>,
    /// The socket is gone (or going): why, when it is a failure to count (a lapsed token).
    pub cut: Option<Option<Failure>>,
}

/// Reads whatever already arrived on the socket before the next run starts, without waiting:
/// late frames of earlier runs, and a server's cut of an idle socket (an auth error, a close).
/// A start message must not be sent on a socket the server has already closed: the server
/// would never act on it, and it is no run.
pub fn drain_idle(
    ws: &mut WsStream,
    profile: &Profile,
    isolation: &super::isolation::Isolation,
    user_index: usize,
    token_expires_at: Option<SystemTime>,
) -> Idle {
    use futures_util::FutureExt;
    let mut idle = Idle::default();
    while let Some(next) = ws.next().now_or_never() {
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(Some(close)))) if close.code == CloseCode::Policy => {
                let failure = Failure::new(
                    "auth.token_expired",
                    format!("closed by the server between runs: {}", close.reason),
                );
                idle.cut = Some(Some(failure));
                return idle;
            }
            None | Some(Ok(Message::Close(_))) | Some(Err(_)) => {
                idle.cut = Some(None);
                return idle;
            }
            Some(Ok(_)) => continue,
        };
        if let Some(owner) = isolation.check(user_index, &text) {
            idle.leaks.push(owner);
            continue;
        }
        let Ok(event) = AgentEvent::parse_with(&text, profile) else {
            continue;
        };
        if event.kind == EventKind::Error && event.run_id.is_none() {
            let failure = Failure::from_error_event(
                &event,
                crate::engine::protocol::excerpt(&text),
                token_expires_at,
            );
            if failure.kind.starts_with("auth.") {
                // The server is cutting this socket; its close follows.
                idle.cut = Some(Some(failure));
                return idle;
            }
        }
        if event.kind.is_run_event() {
            idle.stale_frames += 1;
        }
    }
    idle
}
