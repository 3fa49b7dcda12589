//! The agent backend's WebSocket: welcome, `start_agent` → the five-event stream, `ping`.

use super::stats::bump;
use super::State;
use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

type Sink = Arc<Mutex<SplitSink<WebSocket, Message>>>;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

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

/// Runs one connection until the client closes it; every run it started ends as completed or
/// abandoned in the counters.
pub async fn serve_socket(state: Arc<State>, socket: WebSocket, user_id: String) {
    let counters = &state.counters;
    counters.connections_open.fetch_add(1, Ordering::Relaxed);
    bump(&counters.connections_total);
    // Written, not zeroed, so the pages are resident.
    let ballast = vec![0xA5u8; state.args.ballast_kb_per_connection * 1024];
    let connection_id = format!("conn-{}", NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed));
    let (sink, mut stream) = socket.split();
    let sink: Sink = Arc::new(Mutex::new(sink));
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut runs = JoinSet::new();
    let welcome = json!({
        "type": "connection_established",
        "data": {"connection_id": connection_id, "user_id": user_id},
        "timestamp": now(),
    });
    if send(&sink, welcome).await {
        while let Some(Ok(message)) = stream.next().await {
            // Reap finished runs so a long-lived socket does not pile them up.
            while runs.try_join_next().is_some() {}
            let text = match message {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let kind = parsed
                .as_ref()
                .and_then(|v| v.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            match kind {
                "ping" => {
                    send(&sink, json!({"type": "pong", "timestamp": now()})).await;
                }
                "start_agent" => {
                    let payload = parsed
                        .as_ref()
                        .and_then(|v| v.get("payload"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    bump(&counters.runs_started);
                    in_flight.fetch_add(1, Ordering::Relaxed);
                    let run = AgentRun {
                        state: state.clone(),
                        sink: sink.clone(),
                        user_id: user_id.clone(),
                        payload,
                        in_flight: in_flight.clone(),
                    };
                    runs.spawn(run.stream());
                }
                other => {
                    let message = format!("unknown message type: {other}");
                    send(
                        &sink,
                        json!({"type": "error", "data": {"message": message}}),
                    )
                    .await;
                }
            }
        }
    }
    // The client is gone: stop its runs; those that had not completed are abandoned.
    runs.shutdown().await;
    counters
        .runs_abandoned
        .fetch_add(in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    let _ = sink.lock().await.close().await;
    drop(std::hint::black_box(ballast));
    counters.connections_open.fetch_sub(1, Ordering::Relaxed);
}

struct AgentRun {
    state: Arc<State>,
    sink: Sink,
    user_id: String,
    payload: Value,
    in_flight: Arc<AtomicU64>,
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
        let events = script(
            &run_id,
            &self.user_id,
            &request,
            args.thinking_steps,
            args.tool_calls,
        );
        let delay = Duration::from_millis(args.event_delay_ms);
        for (seq, (kind, data)) in events.into_iter().enumerate() {
            tokio::time::sleep(delay).await;
            let frame = json!({
                "type": kind, "run_id": run_id, "thread_id": thread_id,
                "user_id": self.user_id, "seq": seq + 1, "timestamp": now(), "data": data,
            });
            if !send(&self.sink, frame).await {
                return; // Counted as abandoned when the connection ends.
            }
            bump(&self.state.counters.events_sent);
        }
        bump(&self.state.counters.runs_completed);
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
