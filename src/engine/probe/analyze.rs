//! From a probed socket's frames to a proposed `[protocol]` section, pure: where the event
//! name is, which outer types wrap it, which wire name is each of the five events (by name
//! and by place in the run), which are errors, the welcome, and whether the server names the
//! run (`section` writes it and judges it).

use crate::engine::protocol::Profile;
use serde_json::Value;
use std::collections::BTreeMap;

/// One frame of the probe, either way.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Since the socket opened (the prelude) or since the start message (the run), ms.
    pub at_ms: f64,
    pub incoming: bool,
    pub value: Value,
}

/// A probed socket: its frames, which one was the start message, and what was sent.
#[derive(Debug, Clone)]
pub struct Probed {
    pub frames: Vec<Frame>,
    /// The index of the start message in `frames`.
    pub start: usize,
    pub run_id: String,
    /// The built-in profile whose start message got the run.
    pub profile: String,
    /// The handshake the probe answered: the server's message and its completion, if any.
    pub handshake: Option<(String, Option<String>)>,
}

/// A proposed `[protocol]`, with the evidence for each line.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    pub profile: String,
    pub type_path: String,
    pub wrappers: Vec<String>,
    /// Objects merged over a frame's root, later ones winning.
    pub merge: Vec<String>,
    /// Wire name → our event, with why.
    pub aliases: BTreeMap<String, (String, String)>,
    pub error_events: Vec<String>,
    /// The welcome to wait for; `None`: none came, do not wait.
    pub welcome: Option<String>,
    pub handshake: Option<(String, Option<String>)>,
    /// `Some` when it differs from the profile's default: (value, why).
    pub server_assigns_run_id: Option<(bool, String)>,
    /// Events recognised, in the run's order (wire name → ours).
    pub recognised: Vec<(String, String)>,
}

const TYPE_PATHS: [&str; 4] = ["type", "event", "kind", "event_type"];

/// One of our events, guessed from a wire name.
fn guess(name: &str) -> Option<&'static str> {
    let ours = [
        "agent_started",
        "agent_thinking",
        "tool_executing",
        "tool_completed",
        "agent_completed",
    ];
    if let Some(exact) = ours.iter().find(|o| **o == name) {
        return Some(exact);
    }
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["error", "fail", "death", "exception"]) {
        return Some("error");
    }
    if has(&["tool", "function_call", "action"]) {
        if has(&[
            "complet", "result", "done", "end", "finish", "output", "return",
        ]) {
            return Some("tool_completed");
        }
        if has(&["exec", "start", "call", "begin", "invok", "run", "use"]) {
            return Some("tool_executing");
        }
        return None;
    }
    if has(&["think", "reason", "thought"]) {
        return Some("agent_thinking");
    }
    if has(&["complet", "done", "finish", "end", "final"]) {
        return Some("agent_completed");
    }
    if has(&["start", "begin"]) {
        return Some("agent_started");
    }
    None
}

/// The frame's outer name under `path`, and the name it wraps (`data.event`, `data.type` or
/// a root `event` other than the outer one).
fn names(value: &Value, path: &str) -> Option<(String, Option<String>)> {
    let outer = value.get(path)?.as_str()?.to_string();
    let inner = value
        .pointer("/data/event")
        .or_else(|| value.pointer("/data/type"))
        .or_else(|| value.get("event").filter(|_| path != "event"))
        .and_then(Value::as_str)
        .filter(|inner| *inner != outer)
        .map(String::from);
    Some((outer, inner))
}

fn run_id_of(value: &Value) -> Option<&str> {
    value
        .get("run_id")
        .or_else(|| value.pointer("/data/run_id"))
        .or_else(|| value.pointer("/payload/run_id"))
        .and_then(Value::as_str)
}

pub fn propose(p: &Probed) -> Proposal {
    let base = Profile::builtin(&p.profile)
        .unwrap_or_else(|| Profile::builtin("reference").expect("built in"));
    let incoming: Vec<&Frame> = p.frames.iter().filter(|f| f.incoming).collect();
    let type_path = TYPE_PATHS
        .iter()
        .max_by_key(|path| {
            incoming
                .iter()
                .filter(|f| f.value.get(**path).is_some_and(Value::is_string))
                .count()
        })
        .copied()
        .unwrap_or("type");
    let mut proposal = Proposal {
        profile: p.profile.clone(),
        type_path: type_path.to_string(),
        wrappers: base.wrappers.clone(),
        merge: base.merge.clone(),
        handshake: p.handshake.clone(),
        ..Proposal::default()
    };
    // The welcome: the first frame before anything was sent.
    let first_out = p
        .frames
        .iter()
        .position(|f| !f.incoming)
        .unwrap_or(p.frames.len());
    proposal.welcome = p.frames[..first_out]
        .iter()
        .find_map(|f| names(&f.value, type_path).map(|(outer, inner)| inner.unwrap_or(outer)));
    // The run: every frame after the start, its effective name (unwrapped).
    let mut run: Vec<(String, &Frame)> = Vec::new();
    for f in p.frames[p.start + 1..].iter().filter(|f| f.incoming) {
        let Some((outer, inner)) = names(&f.value, type_path) else {
            continue;
        };
        let name = match inner {
            Some(inner) if guess(&inner).is_some() && guess(&outer).is_none() => {
                if !proposal.wrappers.contains(&outer) {
                    proposal.wrappers.push(outer);
                }
                // A wrapper that keeps the details one level further down.
                let nested = f
                    .value
                    .pointer("/data/payload")
                    .is_some_and(Value::is_object);
                if nested && !proposal.merge.iter().any(|m| m == "data.payload") {
                    let at = proposal
                        .merge
                        .iter()
                        .position(|m| m == "data")
                        .map_or(0, |i| i + 1);
                    proposal.merge.insert(at, "data.payload".into());
                }
                inner
            }
            _ => outer,
        };
        run.push((name, f));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &run {
        if !seen.contains(&name.as_str()) {
            seen.push(name);
        }
    }
    let mut taken: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for name in &seen {
        match guess(name) {
            Some("error") if !base.errors.iter().any(|e| e == name) => {
                proposal.error_events.push(name.to_string());
            }
            Some("error") => {}
            Some(ours) if !taken.contains_key(ours) => {
                let why = match *name == ours {
                    true => "its own name".to_string(),
                    false => format!("by name (`{name}` reads as {ours})"),
                };
                taken.insert(ours, (name.to_string(), why));
            }
            _ => {}
        }
    }
    // By place: the run's first and last names when no name said so.
    let unguessed: Vec<&str> = seen
        .iter()
        .copied()
        .filter(|n| guess(n).is_none())
        .collect();
    if !taken.contains_key("agent_started") {
        if let Some(first) = unguessed.first() {
            taken.insert(
                "agent_started",
                (first.to_string(), "by place: the run's first event".into()),
            );
        }
    }
    if !taken.contains_key("agent_completed") {
        if let Some(last) = run
            .iter()
            .rev()
            .map(|(n, _)| n.as_str())
            .find(|n| unguessed.contains(n))
        {
            taken.insert(
                "agent_completed",
                (last.to_string(), "by place: the run's last event".into()),
            );
        }
    }
    for (ours, (wire, why)) in &taken {
        if wire != ours
            && !base
                .aliases
                .iter()
                .any(|(from, to)| from == wire && to == ours)
        {
            proposal
                .aliases
                .insert(wire.clone(), (ours.to_string(), why.clone()));
        }
    }
    let order = |name: &str| seen.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    let mut recognised: Vec<(String, String)> = taken
        .iter()
        .map(|(ours, (wire, _))| (wire.clone(), ours.to_string()))
        .collect();
    recognised.sort_by_key(|(wire, _)| order(wire));
    proposal.recognised = recognised;
    // The server names the run when its events carry an id other than the one we sent.
    let theirs = run
        .iter()
        .filter_map(|(_, f)| run_id_of(&f.value))
        .find(|id| *id != p.run_id);
    let names_run = theirs.is_some();
    if names_run != base.server_assigns_run_id {
        let why = match theirs {
            Some(id) => format!("the run's events carry `{id}`, not the `{}` sent", p.run_id),
            None => format!("the run's events carry the `{}` sent", p.run_id),
        };
        proposal.server_assigns_run_id = Some((names_run, why));
    }
    proposal
}

#[cfg(test)]
mod tests;
