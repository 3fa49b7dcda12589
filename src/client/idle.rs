//! Between two runs: what already waits on a user's socket is read before the next start.

use super::ws::WsStream;
use crate::client::outcome::Failure;
use crate::client::protocol::{AgentEvent, EventKind, Profile};
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
        if idle.take(next, profile, isolation, user_index, token_expires_at) {
            break;
        }
    }
    idle
}

/// As `drain_idle`, but waits until `until` for the server's cut of a socket whose token is
/// lapsing: a start sent now would cross the server's close, a run the server never starts.
pub async fn await_cut(
    ws: &mut WsStream,
    profile: &Profile,
    isolation: &super::isolation::Isolation,
    user_index: usize,
    token_expires_at: Option<SystemTime>,
    until: tokio::time::Instant,
) -> Idle {
    let mut idle = Idle::default();
    while let Ok(next) = tokio::time::timeout_at(until, ws.next()).await {
        if idle.take(next, profile, isolation, user_index, token_expires_at) {
            break;
        }
    }
    idle
}

type Next = Option<Result<Message, tokio_tungstenite::tungstenite::Error>>;

impl Idle {
    /// Takes one thing read off an idle socket; true once the socket is cut.
    fn take(
        &mut self,
        next: Next,
        profile: &Profile,
        isolation: &super::isolation::Isolation,
        user_index: usize,
        token_expires_at: Option<SystemTime>,
    ) -> bool {
        let text = match next {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(Some(close)))) if close.code == CloseCode::Policy => {
                let failure = Failure::new(
                    "auth.token_expired",
                    format!("closed by the server between runs: {}", close.reason),
                );
                self.cut = Some(Some(failure));
                return true;
            }
            Some(Ok(Message::Close(Some(close)))) if super::ws::sheds(&close).is_some() => {
                self.cut = Some(super::ws::sheds(&close));
                return true;
            }
            None | Some(Ok(Message::Close(_))) | Some(Err(_)) => {
                self.cut = Some(None);
                return true;
            }
            Some(Ok(_)) => return false,
        };
        if let Some(owner) = isolation.check(user_index, &text) {
            self.leaks.push(owner);
            return false;
        }
        let Ok(event) = AgentEvent::parse_with(&text, profile) else {
            return false;
        };
        if event.kind == EventKind::Error && event.run_id.is_none() {
            let failure = Failure::from_error_event(
                &event,
                crate::client::protocol::excerpt(&text),
                token_expires_at,
                profile,
            );
            if failure.kind.starts_with("auth.") || failure.is_throttled() {
                // The server is cutting this socket; its close follows.
                self.cut = Some(Some(failure));
                return true;
            }
        }
        if event.kind.is_run_event() {
            self.stale_frames += 1;
        }
        false
    }
}
