//! The conversation on an open socket: the client's messages answered (`start_agent` → the
//! five-event stream on a task of its own, `ping`, `token_refresh`, `resume`, the Oct-2025
//! handshake), pings to an idle client, and the cut when its token lapses.

use super::agent::AgentRun;
use super::layouts;
use super::runs::new_run_id;
use super::runs::RunSlot;
use super::sink::{send, Sink};
use super::state::State;
use super::stats::bump;
use axum::extract::ws::{close_code, CloseFrame};
use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When a token with this `exp` lapses, on the tokio clock.
fn expiry_instant(exp: u64) -> tokio::time::Instant {
    // Clamp far-future expiries so the addition can not overflow.
    let left = std::time::UNIX_EPOCH + Duration::from_secs(exp.min(4_000_000_000));
    let left = left.duration_since(SystemTime::now()).unwrap_or_default();
    tokio::time::Instant::now() + left
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An open socket: whom it serves, where its runs go, and what its messages changed.
pub(super) struct Conn<'a> {
    pub state: &'a Arc<State>,
    pub sink: &'a Sink,
    pub user_id: &'a str,
    pub on: Replica<'a>,
    pub handshake_thread: String,
    pub awaiting_ack: bool,
    /// When its token lapses (a `token_refresh` moves it).
    pub expires_at: u64,
    /// Runs this socket carries; each is detached (kept for a resume) when the socket goes.
    pub slots: Vec<Arc<RunSlot>>,
}

impl Conn<'_> {
    /// The welcome, and the handshake's offer when the target asks for one; whether the
    /// socket is still open.
    pub async fn greet(&self, connection_id: &str) -> bool {
        let welcome = layouts::welcome(self.state.args.profile, connection_id, self.user_id);
        let mut open = send(self.sink, welcome).await;
        if self.awaiting_ack && open {
            let offer = json!({"type": "handshake_response", "thread_id": self.handshake_thread,
                               "run_id": null, "timestamp": now(), "message": "handshake"});
            open = send(self.sink, offer).await;
        }
        open
    }

    /// Answers the client's messages (and pings it, and cuts it when its token lapses) until
    /// it goes; whether a run's drop fault took the socket (no close frame then).
    pub async fn converse(&mut self, mut stream: SplitStream<WebSocket>) -> bool {
        let state = self.state;
        let mut pinger = (state.args.ping_interval_ms > 0).then(|| {
            let every = Duration::from_millis(state.args.ping_interval_ms);
            tokio::time::interval_at(tokio::time::Instant::now() + every, every)
        });
        let mut open = true;
        while open {
            let expiry = expiry_instant(self.expires_at);
            let message = tokio::select! {
                m = stream.next() => m,
                _ = tick(&mut pinger) => {
                    // Keepalive on a socket with no run in flight, as platforms ping idle
                    // clients.
                    if self.slots.iter().all(|slot| Arc::strong_count(slot) == 1) {
                        open = send(self.sink, json!({"type": "ping", "timestamp": now()})).await;
                        bump(&state.counters.pings_sent);
                    }
                    continue;
                }
                _ = self.on.kill.notified() => return true,
                _ = tokio::time::sleep_until(expiry), if !state.args.ignore_token_expiry => {
                    cut_lapsed(state, self.sink).await;
                    return false;
                }
            };
            let Some(Ok(message)) = message else { break };
            // Forget runs that are over, so a long-lived socket does not pile them up.
            self.slots.retain(|slot| Arc::strong_count(slot) > 1);
            let text = match message {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let kind = parsed.get("type").and_then(Value::as_str).unwrap_or("");
            open = self.answer(kind, &parsed).await;
        }
        false
    }

    /// Answers one message of `kind`; whether the socket is still open.
    async fn answer(&mut self, kind: &str, parsed: &Value) -> bool {
        let (state, sink) = (self.state, self.sink);
        if self.awaiting_ack {
            let reply;
            (reply, self.awaiting_ack) = handshake_reply(kind, parsed, &self.handshake_thread);
            return send(sink, reply).await;
        }
        match kind {
            "pong" => {
                bump(&state.counters.pongs_received);
                true
            }
            "ping" => send(sink, json!({"type": "pong", "timestamp": now()})).await,
            "token_refresh" => {
                let reply = refresh_reply(state, self.user_id, parsed, &mut self.expires_at);
                send(sink, reply).await
            }
            "resume" => match resume(state, self.user_id, parsed) {
                Ok(slot) => {
                    slot.attach(sink.clone(), resume_after(parsed)).await;
                    self.slots.push(slot);
                    true
                }
                Err(reply) => send(sink, reply).await,
            },
            _ => self.start_or_refuse(kind, parsed).await,
        }
    }

    /// A start message starts a run (or is shed when the backend is busy); any other the
    /// platform acknowledges (Netra) or refuses as unknown. Whether the socket is still open.
    async fn start_or_refuse(&mut self, kind: &str, parsed: &Value) -> bool {
        let (state, sink) = (self.state, self.sink);
        let profile = state.args.profile;
        let start_type = state.args.dialect.start_type.as_deref();
        if let Some(payload) = layouts::start_payload(profile, parsed, start_type) {
            let counters = &state.counters;
            bump(&counters.runs_started);
            counters.thread_run(payload.get("thread_id").and_then(Value::as_str));
            if busy(state) {
                return shed_run(state, sink, &payload).await;
            }
            let slot = start_run(state, payload, self.user_id, sink, self.on);
            self.slots.push(slot);
            return true;
        }
        match profile {
            // The platform acknowledges message types it does not handle.
            layouts::TargetProfile::Netra => send(sink, layouts::ack(kind)).await,
            layouts::TargetProfile::Reference => {
                let message = format!("unknown message type: {kind}");
                let error = json!({"type": "error", "data": {"message": message}});
                send(sink, error).await
            }
        }
    }
}

/// Where a socket's runs go: its replica, and what its drop fault pulls.
#[derive(Clone, Copy)]
pub(super) struct Replica<'a> {
    pub index: usize,
    pub kill: &'a Arc<tokio::sync::Notify>,
}

/// The answer to a message while the handshake waits for its acknowledgement, and whether it
/// still waits: nothing but the acknowledgement (with the offered thread) is taken before it.
fn handshake_reply(kind: &str, parsed: &Value, offered_thread: &str) -> (Value, bool) {
    let thread = parsed.get("thread_id").and_then(Value::as_str);
    match kind == "handshake_acknowledged" && thread == Some(offered_thread) {
        true => (
            json!({"type": "handshake_complete", "timestamp": now()}),
            false,
        ),
        false => (
            json!({"type": "error", "data": {"message": "handshake not acknowledged"}}),
            true,
        ),
    }
}

/// The token lapsed on an open socket: say so, close with 1008 (policy). The platform says it
/// with its generic auth failure (or `--lapse-error-code`).
async fn cut_lapsed(state: &State, sink: &Sink) {
    let profile = state.args.profile;
    bump(&state.counters.tokens_expired);
    let error = match (profile, &state.args.lapse_error_code) {
        (_, Some(code)) => layouts::error(profile, code, "Token expired"),
        (layouts::TargetProfile::Reference, None) => {
            layouts::error(profile, "TOKEN_EXPIRED", "token expired")
        }
        (layouts::TargetProfile::Netra, None) => {
            layouts::error(profile, "AUTH_FAILED", "Token expired")
        }
    };
    send(sink, error).await;
    let close = CloseFrame {
        code: close_code::POLICY,
        reason: "token expired".into(),
    };
    let _ = sink.lock().await.send(Message::Close(Some(close))).await;
}

/// Starts the run a start message asks for (its id, or one of ours), streaming on its own
/// task; the socket keeps its slot for a resume.
fn start_run(
    state: &Arc<State>,
    mut payload: serde_json::Map<String, Value>,
    user_id: &str,
    sink: &Sink,
    on: Replica,
) -> Arc<RunSlot> {
    let run_id = payload
        .get("run_id")
        .and_then(Value::as_str)
        .filter(|_| !state.args.dialect.server_run_ids)
        .map(String::from)
        .unwrap_or_else(new_run_id);
    payload.insert("run_id".into(), Value::String(run_id.clone()));
    let slot = RunSlot::new(user_id, sink.clone());
    state.runs.insert(&run_id, slot.clone());
    state.replicas.run_started(on.index);
    let run = AgentRun {
        state: state.clone(),
        replica: on.index,
        slot: slot.clone(),
        user_id: user_id.to_string(),
        run_id,
        payload: Value::Object(payload),
        kill: on.kill.clone(),
    };
    tokio::spawn(run.stream());
    slot
}

/// The answer to `token_refresh`: a valid token of the same user moves the socket's expiry.
fn refresh_reply(state: &State, user_id: &str, parsed: &Value, expires_at: &mut u64) -> Value {
    let token = parsed
        .pointer("/payload/token")
        .and_then(Value::as_str)
        .unwrap_or("");
    match state.keys.validate(token, "access") {
        Ok(claims) if claims["sub"].as_str() == Some(user_id) => {
            bump(&state.counters.tokens_refreshed);
            *expires_at = claims["exp"].as_u64().unwrap_or(*expires_at);
            json!({"type": "token_refreshed", "data": {"expires_at": *expires_at}})
        }
        Ok(_) => {
            json!({"type": "token_refresh_failed", "data": {"message": "token is for another user"}})
        }
        Err(e) => json!({"type": "token_refresh_failed", "data": {"message": e.to_string()}}),
    }
}

/// The last `seq` a `resume` has seen.
fn resume_after(parsed: &Value) -> u64 {
    parsed
        .pointer("/payload/after_seq")
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The run a `resume` asks for (counted), or the answer refusing it: the platform has no
/// resume (netra acknowledges what it does not handle), or no such run of this user.
fn resume(state: &State, user_id: &str, parsed: &Value) -> Result<Arc<RunSlot>, Value> {
    let run_id = parsed
        .pointer("/payload/run_id")
        .and_then(Value::as_str)
        .unwrap_or("");
    let slot = state.runs.get(run_id).filter(|s| s.user_id == user_id);
    match slot {
        _ if state.args.no_resume && state.args.profile == layouts::TargetProfile::Netra => {
            Err(layouts::ack("resume"))
        }
        _ if state.args.no_resume => {
            let message = "resume not supported";
            Err(
                json!({"type": "error", "data": {"code": "RESUME_UNSUPPORTED", "message": message}}),
            )
        }
        None => {
            let message = format!("no run {run_id} of this user to resume");
            Err(
                json!({"type": "error", "data": {"code": "RESUME_UNKNOWN_RUN", "message": message}}),
            )
        }
        Some(slot) => {
            bump(&state.counters.resumes);
            Ok(slot)
        }
    }
}

/// Refuses a start as the platform's error-recovery table says (`rate_limit_exceeded`,
/// counted); false when the socket is gone.
async fn shed_run(state: &State, sink: &Sink, payload: &serde_json::Map<String, Value>) -> bool {
    bump(&state.shedding.runs_shed);
    let message = "too many agent runs in flight: back off and retry";
    let mut error = layouts::error(state.args.profile, "rate_limit_exceeded", message);
    error["run_id"] = payload.get("run_id").cloned().unwrap_or(Value::Null);
    send(sink, error).await
}

/// More runs in flight than `--shed-runs-over` allows.
fn busy(state: &State) -> bool {
    let Some(max) = state.args.shed_runs_over else {
        return false;
    };
    let c = &state.counters;
    let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let ended = get(&c.runs_completed)
        + get(&c.runs_errored)
        + get(&c.runs_abandoned)
        + get(&state.shedding.runs_shed);
    // This start is counted already: the runs in flight are the others.
    get(&c.runs_started).saturating_sub(ended + 1) >= max as u64
}

/// The next tick of the ping timer; never, without one.
async fn tick(pinger: &mut Option<tokio::time::Interval>) {
    match pinger {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
