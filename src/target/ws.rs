//! The agent backend's WebSocket: welcome, `start_agent` → the five-event stream, `ping`.

use super::faults::{self, RunFault};
use super::layouts::{self, Ids};
use super::stats::bump;
use super::State;
use axum::extract::ws::{close_code, CloseFrame};
use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

pub type Sink = Arc<Mutex<SplitSink<WebSocket, Message>>>;

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

/// Sends one frame; false when the socket is gone.
async fn send(sink: &Sink, frame: Value) -> bool {
    sink.lock()
        .await
        .send(Message::Text(frame.to_string().into()))
        .await
        .is_ok()
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
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut runs = JoinSet::new();
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
    while open {
        let expiry = expiry_instant(expires_at);
        let message = tokio::select! {
            m = stream.next() => m,
            _ = kill.notified() => {
                dropped = true;
                break;
            }
            _ = tokio::time::sleep_until(expiry), if !state.args.ignore_token_expiry => {
                // The token lapsed on an open socket: say so, close with 1008 (policy).
                bump(&counters.tokens_expired);
                let error = json!({"type": "error", "data": {"code": "TOKEN_EXPIRED", "message": "token expired"}});
                send(&sink, error).await;
                let close = CloseFrame { code: close_code::POLICY, reason: "token expired".into() };
                let _ = sink.lock().await.send(Message::Close(Some(close))).await;
                break;
            }
        };
        let Some(Ok(message)) = message else { break };
        // Reap finished runs so a long-lived socket does not pile them up.
        while runs.try_join_next().is_some() {}
        let text = match message {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => break,
            _ => continue,
        };
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let kind = parsed.get("type").and_then(Value::as_str).unwrap_or("");
        if awaiting_ack {
            // Nothing but the acknowledgement (with the offered thread) is taken before it.
            let thread = parsed.get("thread_id").and_then(Value::as_str);
            let reply =
                if kind == "handshake_acknowledged" && thread == Some(handshake_thread.as_str()) {
                    awaiting_ack = false;
                    json!({"type": "handshake_complete", "timestamp": now()})
                } else {
                    json!({"type": "error", "data": {"message": "handshake not acknowledged"}})
                };
            open = send(&sink, reply).await;
        } else if kind == "ping" {
            open = send(&sink, json!({"type": "pong", "timestamp": now()})).await;
        } else if kind == "token_refresh" {
            let token = parsed
                .pointer("/payload/token")
                .and_then(Value::as_str)
                .unwrap_or("");
            let reply = match state.keys.validate(token, "access") {
                Ok(claims) if claims["sub"].as_str() == Some(user_id.as_str()) => {
                    bump(&counters.tokens_refreshed);
                    expires_at = claims["exp"].as_u64().unwrap_or(expires_at);
                    json!({"type": "token_refreshed", "data": {"expires_at": expires_at}})
                }
                Ok(_) => {
                    json!({"type": "token_refresh_failed", "data": {"message": "token is for another user"}})
                }
                Err(e) => {
                    json!({"type": "token_refresh_failed", "data": {"message": e.to_string()}})
                }
            };
            open = send(&sink, reply).await;
        } else if let Some(payload) = layouts::start_payload(profile, &parsed) {
            bump(&counters.runs_started);
            in_flight.fetch_add(1, Ordering::Relaxed);
            let run = AgentRun {
                state: state.clone(),
                sink: sink.clone(),
                user_id: user_id.clone(),
                payload: Value::Object(payload),
                in_flight: in_flight.clone(),
                kill: kill.clone(),
            };
            runs.spawn(run.stream());
        } else {
            let message = format!("unknown message type: {kind}");
            open = send(
                &sink,
                json!({"type": "error", "data": {"message": message}}),
            )
            .await;
        }
    }
    // The client is gone: stop its runs; those that had not completed are abandoned.
    runs.shutdown().await;
    counters
        .runs_abandoned
        .fetch_add(in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    state.registry.remove(connection_number);
    if !dropped {
        let _ = sink.lock().await.close().await;
    }
    drop(std::hint::black_box(ballast));
    counters.connections_open.fetch_sub(1, Ordering::Relaxed);
}

struct AgentRun {
    state: Arc<State>,
    sink: Sink,
    user_id: String,
    payload: Value,
    in_flight: Arc<AtomicU64>,
    kill: Arc<tokio::sync::Notify>,
}

impl AgentRun {
    /// Streams the run's events with the configured delay before each.
    async fn stream(self) {
        let field = |k: &str| {
            self.payload
                .get(k)
                .and_then(Value::as_str)
                .map(String::from)
        };
        let run_id =
            field("run_id").unwrap_or_else(|| format!("run-{:08x}", rand::random::<u32>()));
        let thread_id = field("thread_id").unwrap_or_else(|| format!("thread-{run_id}"));
        let request = field("user_request").unwrap_or_else(|| "optimize costs".into());
        let args = &self.state.args;
        let mut events = script(
            &run_id,
            &self.user_id,
            &request,
            args.thinking_steps,
            args.tool_calls,
        );
        if let (Some(canary), Some((_, started))) = (field("canary"), events.first_mut()) {
            // Echo the user's canary as a platform echoes a user's data back to that user.
            started["canary"] = Value::String(canary);
        }
        let counters = &self.state.counters;
        let fault = args.faults.pick(&counters.faults);
        faults::apply(fault, &mut events);
        let delay = Duration::from_millis(args.event_delay_ms);
        let ids = Ids {
            run_id: &run_id,
            thread_id: &thread_id,
            user_id: &self.user_id,
        };
        let mut seen: std::collections::HashMap<&str, u32> = Default::default();
        for (seq, (kind, data)) in events.into_iter().enumerate() {
            tokio::time::sleep(delay).await;
            if seq == 2 {
                match fault {
                    Some(RunFault::Drop) => {
                        self.kill.notify_one();
                        return; // Abandoned: counted when the connection ends.
                    }
                    Some(RunFault::Stall) => std::future::pending::<()>().await,
                    Some(RunFault::Error) => {
                        let error = json!({"type": "agent_error", "run_id": run_id,
                            "data": {"message": "injected failure: the agent crashed", "run_id": run_id}});
                        if send(&self.sink, error).await {
                            bump(&counters.events_sent);
                            bump(&counters.runs_errored);
                            self.in_flight.fetch_sub(1, Ordering::Relaxed);
                        }
                        return;
                    }
                    _ => {}
                }
            }
            let nth = seen.entry(kind).or_default();
            *nth += 1;
            let frame = layouts::event(args.profile, kind, seq + 1, *nth, &ids, data);
            if args.faults.leak_now() {
                if let Some(other) = self.state.registry.other_than(&self.user_id) {
                    if send(&other, frame.clone()).await {
                        bump(&counters.faults.leak);
                    }
                }
            }
            if !send(&self.sink, frame).await {
                return; // Counted as abandoned when the connection ends.
            }
            bump(&self.state.counters.events_sent);
        }
        bump(&self.state.counters.runs_completed);
        if matches!(fault, Some(RunFault::Reorder | RunFault::Omit)) {
            bump(&self.state.counters.runs_completed_faulty);
        }
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The events of one run, in order: started, thinking × n, (executing, completed) × k, completed.
fn script(
    run_id: &str,
    user: &str,
    request: &str,
    thinking: u32,
    tools: u32,
) -> Vec<(&'static str, Value)> {
    // Figures vary per run but stay in the seed's healthy ranges.
    let seed = run_id
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let pick = |lo: f64, hi: f64, salt: u64| {
        let x = (seed.wrapping_mul(6364136223846793005).wrapping_add(salt) >> 33) % 10_000;
        lo + (hi - lo) * x as f64 / 10_000.0
    };
    let savings = (pick(6000.0, 20000.0, 1) * 100.0).round() / 100.0;
    let roi = (pick(160.0, 400.0, 2) * 10.0).round() / 10.0;
    let efficiency = (pick(22.0, 45.0, 3) * 10.0).round() / 10.0;
    let mut events = vec![(
        "agent_started",
        json!({"agent_name": "cost_optimizer", "run_id": run_id, "user_id": user}),
    )];
    for step in 1..=thinking {
        let thought = format!(
            "Step {step}: examining the request \"{request}\" — reviewing spend by service, \
             usage patterns and commitments to find the largest savings levers (pass {step})."
        );
        events.push(("agent_thinking", json!({"thought": thought, "step": step})));
    }
    for k in 1..=tools {
        let id = format!("{run_id}-tool-{k}");
        events.push((
            "tool_executing",
            json!({"tool_name": "cost_analyzer", "tool_call_id": id,
                   "parameters": {"scope": "compute", "period_days": 30}}),
        ));
        events.push((
            "tool_completed",
            json!({"tool_name": "cost_analyzer", "tool_call_id": id,
                   "result": {"monthly_savings": savings, "roi_percent": roi,
                              "efficiency_gain_percent": efficiency,
                              "recommendations": ["right-size idle instances",
                                                  "buy reserved capacity for steady load"]}}),
        ));
    }
    events.push((
        "agent_completed",
        json!({"status": "success",
               "result": {"summary": format!("Found ${savings:.0}/month in savings for: {request}"),
                          "monthly_savings": savings, "roi_percent": roi,
                          "efficiency_gain_percent": efficiency}}),
    ));
    events
}
