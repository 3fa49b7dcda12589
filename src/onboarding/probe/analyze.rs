//! From a probed socket's frames to a proposed `[protocol]` section, pure: where the event
//! name is, which outer types wrap it, which wire name is each of the five events (by name
//! and by place in the run), which are errors, the welcome, and whether the server names the
//! run (`section` writes it and judges it).

use crate::client::protocol::Profile;
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
    /// Why the profile: its fingerprint, the runs it reads, or its start message.
    pub why: String,
    /// The start message that got the runs, when it is not the profile's (and what it was).
    pub start_message: Option<(Value, String)>,
    /// The token carriers, when not the plan's.
    pub token_carriers: Option<Vec<String>>,
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

impl Probed {
    /// Frames after the start message that could be a run's (not an error, not an ack).
    pub fn events(&self) -> usize {
        self.run_frames()
            .filter(|f| {
                let name = f.value.get("type").and_then(Value::as_str).unwrap_or("");
                !(name.contains("error") || name == "ack")
            })
            .count()
    }

    /// The incoming frames after the start message.
    pub fn run_frames(&self) -> impl Iterator<Item = &Frame> {
        self.frames[(self.start + 1).min(self.frames.len())..]
            .iter()
            .filter(|f| f.incoming)
    }
}

/// A frame that ends a run by its name (outer or wrapped): a completion or an error.
pub fn ends_run(value: &Value) -> bool {
    TYPE_PATHS.iter().any(|path| {
        names(value, path).is_some_and(|(outer, inner)| {
            let name = inner.unwrap_or(outer);
            matches!(guess(&name), Some("agent_completed" | "error"))
        })
    })
}

/// A frame's shape: its names (outer and wrapped) and where it keeps its details.
pub fn shape(value: &Value) -> String {
    let named = TYPE_PATHS
        .iter()
        .find_map(|path| names(value, path))
        .map(|(outer, inner)| format!("{outer}/{}", inner.unwrap_or_default()))
        .unwrap_or_default();
    format!("{named} {}", layout(value))
}

/// Where a frame keeps its details: wrapped (its event named inside), `data`, `payload`, or
/// flat at the root.
pub fn layout(value: &Value) -> &'static str {
    let object = |v: Option<&Value>| v.is_some_and(Value::is_object);
    let wrapped = TYPE_PATHS
        .iter()
        .any(|path| names(value, path).is_some_and(|(_, inner)| inner.is_some()));
    match () {
        _ if wrapped => "wrapped",
        _ if object(value.get("payload")) => "payload",
        _ if object(value.get("data")) => "data",
        _ => "flat",
    }
}

/// How many shapes `run` shows that none of `before` did.
pub fn new_shapes(before: &[Probed], run: &Probed) -> usize {
    let seen: std::collections::BTreeSet<String> = before
        .iter()
        .flat_map(|p| p.run_frames().map(|f| shape(&f.value)))
        .collect();
    let mine: std::collections::BTreeSet<String> =
        run.run_frames().map(|f| shape(&f.value)).collect();
    mine.difference(&seen).count()
}

/// The proposal for one probed run, on `base` (a built-in profile's name).
pub fn propose_on(p: &Probed, base: &str) -> Proposal {
    let probed = Probed {
        profile: base.to_string(),
        ..p.clone()
    };
    propose(&probed)
}

pub fn propose(p: &Probed) -> Proposal {
    let base = Profile::builtin(&p.profile)
        .unwrap_or_else(|| Profile::builtin("reference").expect("built in"));
    let type_path = type_path_of(&p.frames);
    let mut proposal = Proposal {
        profile: p.profile.clone(),
        type_path: type_path.to_string(),
        wrappers: base.wrappers.clone(),
        merge: base.merge.clone(),
        handshake: p.handshake.clone(),
        welcome: welcome_of(&p.frames, type_path),
        ..Proposal::default()
    };
    let run = proposal.run_names(&p.frames[p.start + 1..], type_path);
    let taken = proposal.events(&run, &base);
    for (ours, (wire, why)) in &taken {
        let built_in = base
            .aliases
            .iter()
            .any(|(from, to)| from == wire && to == ours);
        if wire != ours && !built_in {
            proposal
                .aliases
                .insert(wire.clone(), (ours.to_string(), why.clone()));
        }
    }
    proposal.server_assigns_run_id = server_names_run(&run, &p.run_id, &base);
    proposal
}

/// Where most incoming frames name themselves.
fn type_path_of(frames: &[Frame]) -> &'static str {
    TYPE_PATHS
        .iter()
        .max_by_key(|path| {
            frames
                .iter()
                .filter(|f| f.incoming && f.value.get(**path).is_some_and(Value::is_string))
                .count()
        })
        .copied()
        .unwrap_or("type")
}

/// The welcome: the first frame before anything was sent.
fn welcome_of(frames: &[Frame], type_path: &str) -> Option<String> {
    frames
        .iter()
        .take_while(|f| f.incoming)
        .find_map(|f| names(&f.value, type_path).map(|(outer, inner)| inner.unwrap_or(outer)))
}

/// The server names the run when its events carry an id other than the one sent: `Some`
/// (with why) where that differs from the profile's default.
fn server_names_run(
    run: &[(String, &Frame)],
    sent: &str,
    base: &Profile,
) -> Option<(bool, String)> {
    let theirs = run
        .iter()
        .filter_map(|(_, f)| run_id_of(&f.value))
        .find(|id| *id != sent);
    (theirs.is_some() != base.server_assigns_run_id).then(|| match theirs {
        Some(id) => (
            true,
            format!("the run's events carry `{id}`, not the `{sent}` sent"),
        ),
        None => (false, format!("the run's events carry the `{sent}` sent")),
    })
}

impl Proposal {
    /// Each incoming frame of the run with its effective name; an outer type that wraps one of
    /// the events becomes a wrapper (and `data.payload` a merged object when it holds the
    /// details).
    fn run_names<'f>(&mut self, frames: &'f [Frame], type_path: &str) -> Vec<(String, &'f Frame)> {
        let mut run = Vec::new();
        for f in frames.iter().filter(|f| f.incoming) {
            let Some((outer, inner)) = names(&f.value, type_path) else {
                continue;
            };
            let name = match inner {
                Some(inner) if guess(&inner).is_some() && guess(&outer).is_none() => {
                    self.wrapper(outer, &f.value);
                    inner
                }
                _ => outer,
            };
            run.push((name, f));
        }
        run
    }

    fn wrapper(&mut self, outer: String, frame: &Value) {
        if !self.wrappers.contains(&outer) {
            self.wrappers.push(outer);
        }
        let nested = frame.pointer("/data/payload").is_some_and(Value::is_object);
        if nested && !self.merge.iter().any(|m| m == "data.payload") {
            let at = self
                .merge
                .iter()
                .position(|m| m == "data")
                .map_or(0, |i| i + 1);
            self.merge.insert(at, "data.payload".into());
        }
    }

    /// Which wire name is each of our events, and why: by name, then (for the run's first and
    /// last events) by place; error names the profile does not know go to `error_events`.
    /// Sets `recognised` in the run's order.
    fn events(
        &mut self,
        run: &[(String, &Frame)],
        base: &Profile,
    ) -> BTreeMap<&'static str, (String, String)> {
        let mut seen: Vec<&str> = Vec::new();
        for (name, _) in run {
            if !seen.contains(&name.as_str()) {
                seen.push(name);
            }
        }
        let mut taken: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
        for name in &seen {
            match guess(name) {
                Some("error") if !base.errors.iter().any(|e| e == name) => {
                    self.error_events.push(name.to_string());
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
        let unguessed: Vec<&str> = seen
            .iter()
            .copied()
            .filter(|n| guess(n).is_none())
            .collect();
        let first = unguessed.first().copied();
        let last = run
            .iter()
            .rev()
            .map(|(n, _)| n.as_str())
            .find(|n| unguessed.contains(n));
        for (ours, place, name) in [
            ("agent_started", "first", first),
            ("agent_completed", "last", last),
        ] {
            if let (false, Some(name)) = (taken.contains_key(ours), name) {
                let why = format!("by place: the run's {place} event");
                taken.insert(ours, (name.to_string(), why));
            }
        }
        let order = |name: &str| seen.iter().position(|n| *n == name).unwrap_or(usize::MAX);
        self.recognised = taken
            .iter()
            .map(|(ours, (wire, _))| (wire.clone(), ours.to_string()))
            .collect();
        self.recognised.sort_by_key(|(wire, _)| order(wire));
        taken
    }
}

#[cfg(test)]
mod tests;
