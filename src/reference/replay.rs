//! `agentload target --replay FILE.jsonl`: the target serves a recorded platform. Each socket
//! gets the recording's prelude (welcome, handshake: a recorded client message is waited for);
//! each start message gets the next recorded run, round robin, its frames at their recorded
//! times (scaled by `--replay-speed`), with the recording's ids put back as the live ones: the
//! user, the thread, the run (the client's, or fresh ones where the platform named its runs),
//! the canary. `/stats` counts as for any run.

use super::sink::{send_text, Sink};
use super::stats::{bump, Counters};
use crate::wire::recording::{Line, Recording};
use axum::extract::ws::{Message, WebSocket};
use futures_util::StreamExt;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub struct Replay {
    recording: Recording,
    speed: f64,
    next_run: AtomicUsize,
    next_socket: AtomicUsize,
}

impl Replay {
    pub fn load(path: &std::path::Path, speed: f64) -> anyhow::Result<Replay> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read the recording: {e}", path.display()))?;
        let recording =
            Recording::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if recording.run_count() == 0 {
            anyhow::bail!("{}: the recording holds no run", path.display());
        }
        if !(speed > 0.0 && speed.is_finite()) {
            anyhow::bail!("--replay-speed {speed}: give a speed above 0 (1: as recorded)");
        }
        Ok(Replay {
            recording,
            speed,
            next_run: AtomicUsize::new(0),
            next_socket: AtomicUsize::new(1),
        })
    }

    fn at(&self, start: Instant, at_ms: f64) -> Instant {
        start + Duration::from_secs_f64((at_ms / 1000.0 / self.speed).max(0.0))
    }
}

/// The recorded ids and the live ones, longest first (an id can hold another: a run id holds
/// its user's).
struct Ids(Vec<(String, String)>);

impl Ids {
    fn put(&mut self, recorded: Option<&str>, live: &str) {
        if let Some(r) = recorded.filter(|r| !r.is_empty() && *r != live) {
            if !self.0.iter().any(|(x, _)| x == r) {
                self.0.push((r.to_string(), live.to_string()));
                self.0.sort_by_key(|(x, _)| std::cmp::Reverse(x.len()));
            }
        }
    }

    fn rewrite(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => {
                let mut out = s.clone();
                for (recorded, live) in &self.0 {
                    if out.contains(recorded.as_str()) {
                        out = out.replace(recorded.as_str(), live);
                    }
                }
                Value::String(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.rewrite(v)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), self.rewrite(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The first string under `key` anywhere in `value`.
fn find<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    match value {
        Value::Object(o) => o
            .get(key)
            .and_then(Value::as_str)
            .or_else(|| o.values().find_map(|v| find(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find(v, key)),
        _ => None,
    }
}

/// A platform's short form of a user id (`abcdefgh...`), as welcomes show it.
fn short(id: &str) -> Option<String> {
    id.char_indices()
        .nth(8)
        .map(|(cut, _)| format!("{}...", &id[..cut]))
}

/// Serves one socket from the recording until the client goes.
pub async fn serve(counters: &Counters, replay: Arc<Replay>, socket: WebSocket, user_id: String) {
    counters.connections_open.fetch_add(1, Ordering::Relaxed);
    bump(&counters.connections_total);
    counters.saw_user(&user_id);
    let (sink, mut stream) = socket.split();
    let sink: Sink = Arc::new(tokio::sync::Mutex::new(sink));
    let socket_no = replay.next_socket.fetch_add(1, Ordering::Relaxed);
    let header = &replay.recording.header;
    let mut ids = Ids(Vec::new());
    let thread = format!("thread-replay-{socket_no}");
    ids.put(header.thread_id.as_deref(), &thread);
    ids.put(Some(&header.user_id), &user_id);
    if let (Some(recorded), Some(live)) = (short(&header.user_id), short(&user_id)) {
        ids.put(Some(&recorded), &live);
    }
    let opened = Instant::now();
    let mut open = true;
    for line in replay.recording.prelude() {
        open = match line.dir.as_str() {
            "in" => play(&replay, &sink, &ids, opened, line).await,
            // The client answered here (a handshake): wait for its message.
            _ => matches!(stream.next().await, Some(Ok(Message::Text(_)))),
        };
        if !open {
            break;
        }
    }
    while open {
        let Some(Ok(message)) = stream.next().await else {
            break;
        };
        let text = match message {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => break,
            _ => continue,
        };
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let kind = parsed.get("type").and_then(Value::as_str).unwrap_or("");
        if kind == "ping" {
            open = send_text(&sink, r#"{"type":"pong"}"#.to_string()).await;
            continue;
        }
        if matches!(
            kind,
            "pong" | "token_refresh" | "resume" | "handshake_acknowledged"
        ) {
            continue;
        }
        open = run(counters, &replay, &sink, &ids, &parsed).await;
    }
    counters.connections_open.fetch_sub(1, Ordering::Relaxed);
}

/// One start message: the next recorded run, its ids the live ones.
async fn run(counters: &Counters, replay: &Replay, sink: &Sink, ids: &Ids, start: &Value) -> bool {
    let count = replay.recording.run_count();
    let n = replay.next_run.fetch_add(1, Ordering::Relaxed) % count + 1;
    let lines: Vec<&Line> = replay.recording.run(n).collect();
    let recorded_start = lines.iter().find(|l| l.dir == "out").map(|l| &l.frame);
    let mut ids = Ids(ids.0.clone());
    let live_run = find(start, "run_id").map_or_else(super::runs::new_run_id, String::from);
    let recorded_run = recorded_start.and_then(|f| find(f, "run_id"));
    ids.put(recorded_run, &live_run);
    if let Some(canary) = find(start, "canary") {
        ids.put(recorded_start.and_then(|f| find(f, "canary")), canary);
    }
    let live_thread = find(start, "thread_id");
    if let Some(thread) = live_thread {
        ids.put(recorded_start.and_then(|f| find(f, "thread_id")), thread);
    }
    // Runs the platform named itself: fresh names, so no two replays share one.
    for line in lines.iter().filter(|l| l.dir == "in") {
        if let Some(id) = find(&line.frame, "run_id").filter(|id| Some(*id) != recorded_run) {
            ids.put(Some(id), &super::runs::new_run_id());
        }
    }
    bump(&counters.runs_started);
    counters.thread_run(live_thread);
    let started = Instant::now();
    for line in lines.iter().filter(|l| l.dir == "in") {
        if !play(replay, sink, &ids, started, line).await {
            bump(&counters.runs_abandoned);
            return false;
        }
        bump(&counters.events_sent);
    }
    bump(&counters.runs_completed);
    true
}

/// One recorded frame, at its time, its ids the live ones, stamped now; false when the
/// socket is gone.
async fn play(replay: &Replay, sink: &Sink, ids: &Ids, since: Instant, line: &Line) -> bool {
    tokio::time::sleep_until(replay.at(since, line.at_ms)).await;
    let mut frame = ids.rewrite(&line.frame);
    restamp(&mut frame);
    send_text(sink, frame.to_string()).await
}

/// Every `timestamp` now, in the form it was recorded in (epoch seconds or milliseconds, or
/// ISO-8601): a replayed event is made when it is sent.
fn restamp(value: &mut Value) {
    match value {
        Value::Object(o) => {
            for (key, v) in o.iter_mut() {
                match v {
                    Value::Number(n) if key == "timestamp" => {
                        let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
                        let ms = n.as_f64().is_some_and(|x| x > 1e11);
                        *v = serde_json::json!(if ms { (now * 1000.0).round() } else { now });
                    }
                    Value::String(s)
                        if key == "timestamp"
                            && chrono::DateTime::parse_from_rfc3339(s).is_ok() =>
                    {
                        *s = chrono::Utc::now().to_rfc3339();
                    }
                    other => restamp(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(restamp),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recorded_ids_become_the_live_ones_longest_first() {
        let mut ids = Ids(Vec::new());
        ids.put(Some("u0-alabc"), "u7-alxyz");
        ids.put(Some("u0-alabc-r1"), "u7-alxyz-r9");
        let frame = json!({"run_id": "u0-alabc-r1", "user_id": "u0-alabc",
            "data": {"tool_call_id": "u0-alabc-r1-tool-1", "n": 3}});
        assert_eq!(
            ids.rewrite(&frame),
            json!({"run_id": "u7-alxyz-r9", "user_id": "u7-alxyz",
                "data": {"tool_call_id": "u7-alxyz-r9-tool-1", "n": 3}})
        );
        assert_eq!(find(&frame, "tool_call_id"), Some("u0-alabc-r1-tool-1"));
        assert_eq!(short("u0-alabcdef").as_deref(), Some("u0-alabc..."));
    }
}
