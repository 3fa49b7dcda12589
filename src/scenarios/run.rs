//! One agent run on an open socket: send the start message, read the run's events through the
//! sequence checker, renew the token when it nears expiry, time everything from the send.

use super::ws::WsStream;
use crate::auth::{Identity, Token, TokenSource};
use crate::protocol::profile::fill;
use crate::protocol::{AgentEvent, EventKind, Profile, Progress, SequenceChecker, SequenceRules};
use crate::summary::{Failure, RunOutcome};
use futures_util::{SinkExt, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

/// One agent run to perform.
pub struct RunSpec<'a> {
    pub profile: &'a Profile,
    pub run_id: &'a str,
    pub thread_id: &'a str,
    pub user_id: &'a str,
    pub canary: &'a str,
    pub user_request: &'a str,
    pub timeout: Duration,
    pub rules: &'a SequenceRules,
    pub isolation: &'a super::isolation::Isolation,
    pub user_index: usize,
}

/// What a run measured.
pub struct RunResult {
    pub outcome: RunOutcome,
    /// From the start message's send to the run's first event.
    pub time_to_first_event: Option<Duration>,
    /// From the start message's send to the verdict.
    pub elapsed: Duration,
    /// False when the socket can not be trusted for another run (closed, timed out).
    pub socket_usable: bool,
    /// Owners of other users' data seen on this socket during the run.
    pub leaks: Vec<usize>,
}

/// Renews a user's token before it expires and hands it to the open socket.
pub struct Refresher<'a> {
    pub tokens: &'a TokenSource,
    pub identity: &'a Identity,
    pub token: &'a mut Token,
    pub before: Duration,
    pub message: &'a serde_json::Value,
}

impl Refresher<'_> {
    /// When the next renewal is due.
    pub fn due(&self) -> tokio::time::Instant {
        let left = self
            .token
            .expires_at
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        tokio::time::Instant::now() + left.saturating_sub(self.before)
    }

    /// Gets a new token and sends it on the socket.
    pub async fn renew(&mut self, ws: &mut WsStream) -> Result<(), Failure> {
        let token = self
            .tokens
            .renew(self.identity, self.token)
            .await
            .map_err(|e| Failure::new("auth.refresh_failed", e.to_string()))?;
        let message = fill(self.message, &[("token", &token.jwt)]);
        *self.token = token;
        ws.send(Message::text(message.to_string()))
            .await
            .map_err(|e| Failure::new("transport.error", e.to_string()))
    }
}

/// Sorts an error event: an expired or refused token is an auth failure, not an agent error.
fn error_failure(event: &AgentEvent, violation_text: String) -> Failure {
    let code = event
        .str_field("code")
        .or_else(|| event.str_field("error_code"))
        .unwrap_or("");
    match code {
        "TOKEN_EXPIRED" => Failure::new("auth.token_expired", violation_text),
        "AUTH_FAILED" => Failure::new("auth.refused", violation_text),
        _ => Failure::new("agent.error", violation_text),
    }
}

/// Starts a run and reads until `agent_completed`, an error, a violation or the timeout.
pub async fn agent_run(
    ws: &mut WsStream,
    spec: RunSpec<'_>,
    mut refresher: Option<Refresher<'_>>,
) -> RunResult {
    let start = fill(
        &spec.profile.start_message,
        &[
            ("user_request", spec.user_request),
            ("run_id", spec.run_id),
            ("thread_id", spec.thread_id),
            ("canary", spec.canary),
            ("user_id", spec.user_id),
        ],
    );
    let mut checker = SequenceChecker::new(spec.rules.clone());
    let mut events: BTreeMap<String, u64> = BTreeMap::new();
    let mut timeline: Vec<(String, Duration)> = Vec::new();
    let mut final_data = None;
    let mut time_to_first_event = None;
    let mut run_id = spec.run_id.to_string();
    let mut adopted = !spec.profile.server_assigns_run_id;
    let mut leaks = Vec::new();
    // Latency starts when the start message is handed to the socket.
    let sent_at = Instant::now();
    let deadline = tokio::time::Instant::from_std(sent_at) + spec.timeout;
    let verdict: Result<(), (Failure, bool)> = async {
        ws.send(Message::text(start.to_string()))
            .await
            .map_err(|e| (Failure::new("transport.error", e.to_string()), false))?;
        loop {
            let due = refresher.as_ref().map(Refresher::due);
            let next = tokio::select! {
                frame = tokio::time::timeout_at(deadline, ws.next()) => frame,
                _ = tokio::time::sleep_until(due.unwrap_or(deadline)), if due.is_some() => {
                    if let Some(r) = refresher.as_mut() {
                        r.renew(ws).await.map_err(|f| (f, false))?;
                    }
                    continue;
                }
            };
            let frame = match next {
                Err(_) => {
                    let last = checker
                        .reached()
                        .iter()
                        .next_back()
                        .map(|k| k.name().to_string())
                        .unwrap_or_else(|| "none".into());
                    let message = format!(
                        "no agent_completed within {:?} (furthest event: {last})",
                        spec.timeout
                    );
                    return Err((Failure::new("transport.timeout", message), false));
                }
                Ok(Some(Ok(Message::Close(Some(close))))) if close.code == CloseCode::Policy => {
                    let message = format!("closed by the server: {}", close.reason);
                    return Err((Failure::new("auth.token_expired", message), false));
                }
                Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                    return Err((
                        Failure::new("transport.closed", "socket closed mid-run"),
                        false,
                    ))
                }
                Ok(Some(Err(e))) => {
                    return Err((Failure::new("transport.error", e.to_string()), false))
                }
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(_))) => continue,
            };
            // Isolation first: a frame with another user's data is a violation, whatever it is.
            if let Some(owner) = spec.isolation.check(spec.user_index, &frame) {
                leaks.push(owner);
                continue;
            }
            let Ok(event) = AgentEvent::parse_with(&frame, spec.profile) else {
                let message = format!("not an event: {}", crate::protocol::excerpt(&frame));
                return Err((Failure::new("protocol.bad_frame", message), true));
            };
            if event.wire_name == "token_refresh_failed" {
                let message = crate::protocol::excerpt(&frame);
                return Err((Failure::new("auth.refresh_failed", message), false));
            }
            if !event.kind.is_run_event() {
                continue;
            }
            match event.run_id.as_deref() {
                Some(id) if id != run_id && !adopted && event.kind != EventKind::Error => {
                    // The server named the run itself: the first run event says how.
                    run_id = id.to_string();
                }
                // Another run's event on this socket: not ours to judge here.
                Some(id) if id != run_id => continue,
                _ => {}
            }
            adopted = true;
            let at = sent_at.elapsed();
            time_to_first_event.get_or_insert(at);
            timeline.push((event.wire_name.clone(), at));
            *events.entry(event.wire_name.clone()).or_default() += 1;
            match checker.observe(&event) {
                Progress::Completed => {
                    final_data = Some(event.data);
                    return Ok(());
                }
                Progress::Failed(v) => {
                    let failure = if event.kind == EventKind::Error {
                        error_failure(&event, v.to_string())
                    } else {
                        Failure::new(v.kind(), v.to_string())
                    };
                    let usable = !failure.kind.starts_with("auth.");
                    return Err((failure, usable));
                }
                Progress::Continue | Progress::Ignored => {}
            }
        }
    }
    .await;
    let elapsed = sent_at.elapsed();
    let reached: BTreeSet<EventKind> = checker.reached().clone();
    let (failure, socket_usable) = match verdict {
        Ok(()) => (None, true),
        Err((failure, usable)) => (Some(failure), usable),
    };
    RunResult {
        outcome: RunOutcome {
            failure,
            events,
            reached,
            timeline,
            elapsed,
            final_data,
        },
        time_to_first_event,
        elapsed,
        socket_usable,
        leaks,
    }
}
