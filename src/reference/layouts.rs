//! How the target dresses its frames: the `reference` layout, or the `netra` platform's several
//! layouts (netra-protocol.md §5 A–D), mixed within one run as the real code paths mix them.

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetProfile {
    Reference,
    Netra,
}

/// How the dialect varies its frames and what starts a run.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DialectKnobs {
    /// Netra: each event's layout drawn at random, with this seed, among those the real code
    /// paths send it in (the platform's emitters pick per event); without it, each kind of
    /// event has the same layout in every run.
    #[arg(long)]
    pub random_layouts: Option<u64>,
    /// Only a message whose `type` (or `action`) is this starts a run, its request read from
    /// `content`, `message`, `text`, `query` or `user_request`; others are acknowledged
    /// (netra) or refused.
    #[arg(long)]
    pub start_type: Option<String>,
    /// The target names every run itself, whatever run id the start message sends.
    #[arg(long)]
    pub server_run_ids: bool,
    /// The socket's token is read from this carrier only: `header`, `subprotocol` or `query`.
    #[arg(long, value_parser = ["header", "subprotocol", "query"])]
    pub token_carrier: Option<String>,
}

/// How a netra frame carries its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// A: the bridge, details nested in `data`, some copied to the root.
    Bridge,
    /// B: the emitter, flattened at the root.
    Flat,
    /// C: a ServerMessage of this type, the event in `data.event`, details in `data.payload`.
    Wrapped(&'static str),
    /// D: details in `payload`.
    Payload,
    /// E: a `system_message` with the event's name at the root, details in `payload`.
    SystemRoot,
}

/// The layouts the real code paths send `kind` in (netra-protocol.md §5).
fn layouts_of(kind: &str) -> &'static [Layout] {
    use Layout::*;
    match kind {
        "agent_started" => &[Bridge, Flat, Wrapped("system_message")],
        "agent_thinking" => &[Flat, Payload, SystemRoot, Wrapped("agent_progress")],
        "tool_executing" | "tool_completed" => &[Bridge, Flat, Wrapped("agent_progress")],
        "agent_completed" => &[Flat, Wrapped("agent_response_complete"), Payload],
        _ => &[Bridge],
    }
}

/// The layout of the `nth` event of `kind` in a run: drawn (`draw`), or the same in every run.
fn layout(kind: &str, nth: u32, draw: Option<u64>) -> Layout {
    if let Some(draw) = draw {
        let all = layouts_of(kind);
        return all[(draw % all.len() as u64) as usize];
    }
    match (kind, nth) {
        ("agent_started", _) | ("tool_completed", _) | ("agent_error", _) => Layout::Bridge,
        ("tool_executing", _) => Layout::Wrapped("agent_progress"),
        ("agent_thinking", n) if n % 3 == 2 => Layout::Payload,
        ("agent_thinking", n) if n % 3 == 0 => Layout::SystemRoot,
        _ => Layout::Flat,
    }
}

/// Who and what a frame belongs to.
pub struct Ids<'a> {
    pub run_id: &'a str,
    pub thread_id: &'a str,
    pub user_id: &'a str,
}

fn iso_now() -> String {
    chrono::Utc::now().to_rfc3339()
}

fn epoch() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

/// `EVENT=NAME` of `--rename-events`: the event's full name and the name it is sent under.
pub fn rename(text: &str) -> Result<(String, String), String> {
    let (event, name) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: write EVENT=NAME, e.g. started=run_begin"))?;
    let full = match event.trim() {
        "started" | "agent_started" => "agent_started",
        "thinking" | "agent_thinking" => "agent_thinking",
        "executing" | "tool_executing" => "tool_executing",
        "executed" | "tool_completed" => "tool_completed",
        "completed" | "agent_completed" => "agent_completed",
        other => {
            return Err(format!(
                "`{other}` is not one of the five events: started, thinking, executing, executed, completed"
            ))
        }
    };
    Ok((full.to_string(), name.trim().to_string()))
}

/// The name `kind` is sent under (`--rename-events`).
pub fn renamed<'a>(renames: &'a [(String, String)], kind: &'a str) -> &'a str {
    renames
        .iter()
        .find(|(from, _)| from == kind)
        .map_or(kind, |(_, to)| to.as_str())
}

/// Where a `tool_completed` says how long the tool itself ran, in ms: `duration_ms`, or the
/// platform's `execution_time_ms`.
pub fn tool_duration_key(profile: TargetProfile) -> &'static str {
    match profile {
        TargetProfile::Reference => "duration_ms",
        TargetProfile::Netra => "execution_time_ms",
    }
}

/// The welcome frame.
pub fn welcome(profile: TargetProfile, connection_id: &str, user_id: &str) -> Value {
    match profile {
        TargetProfile::Reference => json!({
            "type": "connection_established",
            "data": {"connection_id": connection_id, "user_id": user_id},
            "timestamp": epoch(),
        }),
        // The platform shows only the first 8 characters of the user id.
        TargetProfile::Netra => json!({
            "type": "connection_established",
            "data": {"mode": "main", "user_id": shorten(user_id), "connection_id": connection_id,
                     "golden_path_events": ["agent_started", "agent_thinking", "tool_executing",
                                            "tool_completed", "agent_completed"],
                     "timestamp": iso_now()},
            "timestamp": epoch(), "server_id": null, "correlation_id": null,
        }),
    }
}

/// A user id as the platform's welcome shows it: 8 characters and `...`.
fn shorten(user_id: &str) -> String {
    match user_id.char_indices().nth(8) {
        Some((cut, _)) => format!("{}...", &user_id[..cut]),
        None => user_id.to_string(),
    }
}

/// An error frame: `error` with a code in `data` (reference), or the platform's
/// `error_message` with `error_code` at the root (netra).
pub fn error(profile: TargetProfile, code: &str, message: &str) -> Value {
    match profile {
        TargetProfile::Reference => {
            json!({"type": "error", "data": {"code": code, "message": message}})
        }
        TargetProfile::Netra => json!({
            "type": "error_message", "error_code": code, "error_message": message,
            "details": {}, "timestamp": epoch(), "recovery_suggestions": null,
        }),
    }
}

/// The platform's answer to a message type it does not handle (`resume`, unknown types).
pub fn ack(received_type: &str) -> Value {
    json!({"type": "ack", "received_type": received_type, "timestamp": epoch()})
}

/// What the platform sends between agent events that is no agent event (netra only):
/// heartbeats, progress and partial results.
pub fn interlude(profile: TargetProfile, after: &str, ids: &Ids) -> Option<Value> {
    if profile == TargetProfile::Reference {
        return None;
    }
    let frame = match after {
        "agent_started" => json!({"type": "agent_update", "run_id": ids.run_id,
            "data": {"status": "running", "message": "supervisor picked the cost agent"}}),
        "agent_thinking" => json!({"type": "heartbeat",
            "data": {"connection_id": "main", "timestamp": epoch(), "stats": {}}, "timestamp": epoch()}),
        "tool_executing" => json!({"type": "progress_update", "run_id": ids.run_id,
            "data": {"progress_data": {"percent": 50, "message": "tool running"}}}),
        "tool_completed" => json!({"type": "partial_result", "run_id": ids.run_id,
            "data": {"content": "first figures are in"}}),
        _ => return None,
    };
    Some(frame)
}

/// A client message that starts a run, as its payload (with `user_request` filled in); only a
/// message of `only`'s type (or action) when given.
pub fn start_payload(
    profile: TargetProfile,
    message: &Value,
    only: Option<&str>,
) -> Option<Map<String, Value>> {
    let kind = message
        .get("type")
        .or_else(|| message.get("action").filter(|_| only.is_some()))?
        .as_str()?;
    let mut payload = match (message.get("payload"), message.get("data")) {
        (Some(Value::Object(p)), _) => p.clone(),
        // `execute_agent` carries its details in `data`, beside `agent_type` at the root.
        (_, Some(Value::Object(d))) if kind == "execute_agent" => {
            let mut p = message.as_object()?.clone();
            p.extend(d.clone());
            p
        }
        // The platform uses a message without `payload` as its own payload.
        _ => message.as_object()?.clone(),
    };
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| payload.get(*k).and_then(Value::as_str).map(String::from))
    };
    let any_text = ["content", "message", "text", "query", "user_request"];
    let request = match (profile, kind, only) {
        (_, kind, Some(only)) if kind == only => text(&any_text),
        (_, _, Some(_)) => return None,
        (_, "start_agent", None) => text(&["user_request"]),
        (TargetProfile::Netra, "user_message" | "chat" | "message" | "execute_agent", None) => {
            text(&["content", "message", "text", "user_request", "query"])
        }
        _ => return None,
    };
    payload.insert(
        "user_request".into(),
        Value::String(request.unwrap_or_else(|| "optimize costs".into())),
    );
    Some(payload)
}

/// An agent event as the profile sends it. `nth` counts events of this kind in the run, so a
/// netra run shows several layouts; `draw` picks the layout at random instead.
pub fn event(
    profile: TargetProfile,
    (kind, name): (&str, &str),
    (seq, nth): (usize, u32),
    ids: &Ids,
    data: Value,
    draw: Option<u64>,
) -> Value {
    if profile == TargetProfile::Reference {
        return json!({
            "type": name, "run_id": ids.run_id, "thread_id": ids.thread_id,
            "user_id": ids.user_id, "seq": seq, "timestamp": epoch(), "data": data,
        });
    }
    let common = json!({"run_id": ids.run_id, "thread_id": ids.thread_id, "user_id": ids.user_id, "seq": seq});
    let mut frame = match layout(kind, nth, draw) {
        Layout::Bridge => {
            let mut root = json!({"type": name, "timestamp": iso_now(), "data": data.clone()});
            for key in ["agent_name", "tool_name"] {
                if let Some(v) = data.get(key) {
                    root[key] = v.clone();
                }
            }
            if let Some(r) = data.get("result").filter(|_| kind == "tool_completed") {
                root["results"] = r.clone();
            }
            root
        }
        Layout::Wrapped(outer) => json!({
            "type": outer,
            "data": {"event": name, "run_id": ids.run_id, "payload": data},
            "timestamp": epoch(), "server_id": null, "correlation_id": null,
        }),
        Layout::Payload => json!({"type": name, "payload": data}),
        // The newest CLI reads the event's name at the root of a `system_message`.
        Layout::SystemRoot => json!({"type": "system_message", "event": name, "payload": data}),
        Layout::Flat => {
            let mut root = json!({"type": name, "timestamp": epoch(), "critical": true});
            if let (Some(r), Value::Object(d)) = (root.as_object_mut(), data) {
                for (k, v) in d {
                    r.insert(k, v);
                }
            }
            if kind == "agent_thinking" {
                root["reasoning"] = root["thought"].take();
                root.as_object_mut().map(|r| r.remove("thought"));
            }
            if kind == "agent_completed" {
                root["final_response"] = root["result"].clone();
            }
            root
        }
    };
    if let (Some(f), Value::Object(c)) = (frame.as_object_mut(), common) {
        for (k, v) in c {
            f.entry(k).or_insert(v);
        }
    }
    frame
}
