//! The agent backend's WebSocket: welcome, `start_agent` → the five-event stream, `ping`.

use super::agent::AgentRun;
use super::layouts;
use super::runs::new_run_id;
use super::runs::RunSlot;
use super::state::State;
use super::stats::bump;
use axum::extract::ws::{close_code, CloseFrame};
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

use super::sink::{send, Sink};

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

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
    let profile = state.args.profile;
    let Session {
        user_id,
        mut expires_at,
    } = session;
    counters.connections_open.fetch_add(1, Ordering::Relaxed);
    bump(&counters.connections_total);
    counters.saw_user(&user_id);
    // The backend replica this socket's runs go to, for as long as it is open.
    let pinned = state.replicas.pin();
    // Written, not zeroed, so the pages are resident.
    let ballast = vec![0xA5u8; state.args.ballast_kb_per_connection * 1024];
    let connection_number = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let connection_id = format!("conn-{connection_number}");
    let (sink, mut stream) = socket.split();
    let sink: Sink = Arc::new(Mutex::new(sink));
    state
        .registry
        .add(connection_number, &user_id, sink.clone());
    // A run with the drop fault pulls this: the socket goes without a close frame.
    let kill = Arc::new(tokio::sync::Notify::new());
    let mut dropped = false;
    // Runs this socket carries; each is detached (kept for a resume) when the socket goes.
    let mut slots: Vec<Arc<RunSlot>> = Vec::new();
    let welcome = layouts::welcome(profile, &connection_id, &user_id);
    let mut open = send(&sink, welcome).await;
    // The Oct-2025 handshake: the server names the thread; runs wait for the acknowledgement.
    let handshake_thread = format!("thread-{connection_id}");
    let mut awaiting_ack = state.args.handshake;
    if awaiting_ack && open {
        let offer = json!({"type": "handshake_response", "thread_id": handshake_thread,
                           "run_id": null, "timestamp": now(), "message": "handshake"});
        open = send(&sink, offer).await;
    }
    let mut pinger = (state.args.ping_interval_ms > 0).then(|| {
        let every = Duration::from_millis(state.args.ping_interval_ms);
        tokio::time::interval_at(tokio::time::Instant::now() + every, every)
    });
    while open {
        let expiry = expiry_instant(expires_at);
        let message = tokio::select! {
            m = stream.next() => m,
            _ = tick(&mut pinger) => {
                // Keepalive on a socket with no run in flight, as platforms ping idle clients.
                if slots.iter().all(|slot| Arc::strong_count(slot) == 1) {
                    open = send(&sink, json!({"type": "ping", "timestamp": now()})).await;
                    bump(&counters.pings_sent);
                }
                continue;
            }
            _ = kill.notified() => {
                dropped = true;
                break;
            }
            _ = tokio::time::sleep_until(expiry), if !state.args.ignore_token_expiry => {
                cut_lapsed(&state, &sink).await;
                break;
            }
        };
        let Some(Ok(message)) = message else { break };
        // Forget runs that are over, so a long-lived socket does not pile them up.
        slots.retain(|slot| Arc::strong_count(slot) > 1);
        let text = match message {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => break,
            _ => continue,
        };
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let kind = parsed.get("type").and_then(Value::as_str).unwrap_or("");
        if awaiting_ack {
            let reply;
            (reply, awaiting_ack) = handshake_reply(kind, &parsed, &handshake_thread);
            open = send(&sink, reply).await;
        } else if kind == "pong" {
            bump(&counters.pongs_received);
        } else if kind == "ping" {
            open = send(&sink, json!({"type": "pong", "timestamp": now()})).await;
        } else if kind == "token_refresh" {
            let reply = refresh_reply(&state, &user_id, &parsed, &mut expires_at);
            open = send(&sink, reply).await;
        } else if kind == "resume" {
            match resume(&state, &user_id, &parsed) {
                Ok(slot) => {
                    slot.attach(sink.clone(), resume_after(&parsed)).await;
                    slots.push(slot);
                }
                Err(reply) => open = send(&sink, reply).await,
            }
        } else if let Some(payload) =
            layouts::start_payload(profile, &parsed, state.args.dialect.start_type.as_deref())
        {
            bump(&counters.runs_started);
            counters.thread_run(payload.get("thread_id").and_then(Value::as_str));
            if busy(&state) {
                open = shed_run(&state, &sink, &payload).await;
                continue;
            }
            let on = Replica {
                index: pinned.index,
                kill: &kill,
            };
            slots.push(start_run(&state, payload, &user_id, &sink, on));
        } else if profile == layouts::TargetProfile::Netra {
            // The platform acknowledges message types it does not handle.
            open = send(&sink, layouts::ack(kind)).await;
        } else {
            let message = format!("unknown message type: {kind}");
            open = send(
                &sink,
                json!({"type": "error", "data": {"message": message}}),
            )
            .await;
        }
    }
    // The client is gone: its runs go on without this socket, resumable for a while.
    for slot in &slots {
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

/// Where a socket's runs go: its replica, and what its drop fault pulls.
struct Replica<'a> {
    index: usize,
    kill: &'a Arc<tokio::sync::Notify>,
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
