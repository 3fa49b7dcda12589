//! How the target dresses its frames: the `reference` layout, or the `netra` platform's several
//! layouts (netra-protocol.md §5 A–D), mixed within one run as the real code paths mix them.

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetProfile {
    Reference,
    Netra,
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

/// The welcome frame.
pub fn welcome(profile: TargetProfile, connection_id: &str, user_id: &str) -> Value {
    match profile {
        TargetProfile::Reference => json!({
            "type": "connection_established",
            "data": {"connection_id": connection_id, "user_id": user_id},
            "timestamp": epoch(),
        }),
        TargetProfile::Netra => json!({
            "type": "connection_established",
            "data": {"mode": "main", "user_id": user_id, "connection_id": connection_id,
                     "golden_path_events": ["agent_started", "agent_thinking", "tool_executing",
                                            "tool_completed", "agent_completed"],
                     "timestamp": iso_now()},
            "timestamp": epoch(), "server_id": null, "correlation_id": null,
        }),
    }
}

/// A client message that starts a run, as its payload (with `user_request` filled in).
pub fn start_payload(profile: TargetProfile, message: &Value) -> Option<Map<String, Value>> {
    let kind = message.get("type")?.as_str()?;
    let payload = match message.get("payload") {
        Some(Value::Object(p)) => p.clone(),
        // The platform uses a message without `payload` as its own payload.
        _ => message.as_object()?.clone(),
    };
    let mut payload = payload;
    let text = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| payload.get(*k).and_then(Value::as_str).map(String::from))
    };
    let request = match (profile, kind) {
        (_, "start_agent") => text(&["user_request"]),
        (TargetProfile::Netra, "user_message" | "chat" | "message") => {
            text(&["content", "message", "text", "user_request"])
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
/// netra run shows several layouts.
pub fn event(
    profile: TargetProfile,
    kind: &str,
    seq: usize,
    nth: u32,
    ids: &Ids,
    data: Value,
) -> Value {
    if profile == TargetProfile::Reference {
        return json!({
            "type": kind, "run_id": ids.run_id, "thread_id": ids.thread_id,
            "user_id": ids.user_id, "seq": seq, "timestamp": epoch(), "data": data,
        });
    }
    let common = json!({"run_id": ids.run_id, "thread_id": ids.thread_id, "user_id": ids.user_id, "seq": seq});
    let mut frame = match (kind, nth) {
        // A: bridge, details nested in `data`, some at the root.
        ("agent_started", _) | ("tool_completed", _) | ("agent_error", _) => {
            let mut root = json!({"type": kind, "timestamp": iso_now(), "data": data.clone()});
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
        // C: wrapped in a ServerMessage, real name in data.event, details in data.payload.
        ("tool_executing", _) => json!({
            "type": "agent_progress",
            "data": {"event": kind, "run_id": ids.run_id, "payload": data},
            "timestamp": epoch(), "server_id": null, "correlation_id": null,
        }),
        // D: details in `payload`.
        ("agent_thinking", n) if n % 2 == 0 => json!({"type": kind, "payload": data}),
        // B: flattened at the root by the emitter.
        _ => {
            let mut root = json!({"type": kind, "timestamp": epoch(), "critical": true});
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
