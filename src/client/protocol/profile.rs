//! Protocol profiles: how a platform names and wraps its events, how a run is started, and
//! which events end a run. Built-in `reference` (our target) and `netra` (the real platform as
//! its public code shows it); a plan can override any key of either.

use super::fields::{Fields, Val};
use serde_json::Value;
use std::borrow::Cow;

/// Everything the client needs to speak one platform's dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub name: String,
    /// Where the event name is, as a dotted path (`type`).
    pub type_path: String,
    /// Outer types whose real name is in `data.event` or `data.type` (`system_message`, …).
    pub wrappers: Vec<String>,
    /// Objects merged over the frame's root fields, later ones winning (`data`, `payload`, …).
    pub merge: Vec<String>,
    /// Wire names that mean one of our events (e.g. `agent_response_complete` → `agent_completed`).
    pub aliases: Vec<(String, String)>,
    /// Wire names that end a run as an error.
    pub errors: Vec<String>,
    /// The message that starts a run; strings may hold `{{user_request}}`, `{{run_id}}`,
    /// `{{thread_id}}`, `{{canary}}`, `{{user_id}}`.
    pub start_message: Value,
    /// The message that hands the server a fresh token on an open socket (`{{token}}`).
    pub refresh_message: Value,
    /// Welcome frame to wait for after the upgrade (`None`: don't wait).
    pub welcome: Option<String>,
    /// Optional handshake after the upgrade.
    pub handshake: Option<Handshake>,
    /// The server may assign its own run id; the first run event after the start names it.
    pub server_assigns_run_id: bool,
    /// An error whose code or text contains one of these (lowercase) is the platform shedding
    /// load (`overload.throttled`), not a failure.
    pub throttle_markers: Vec<String>,
    /// Where a `tool_completed` says how long the tool itself ran: a key, and seconds per
    /// unit (`duration_ms`: 0.001). The first present wins.
    pub tool_duration: Vec<(String, f64)>,
}

/// An optional handshake: wait for `wait_for`, answer `reply` (`{{thread_id}}` is the
/// thread id the server sent), then wait for `complete` when set.
#[derive(Debug, Clone, PartialEq)]
pub struct Handshake {
    pub wait_for: String,
    pub reply: Option<Value>,
    pub complete: Option<String>,
    pub timeout_ms: u64,
}

/// What an error says when a platform sheds load, whatever its dialect.
const THROTTLE_MARKERS: &[&str] = &[
    "rate_limit",
    "rate limit",
    "throttl",
    "too many",
    "limit_exceeded",
    "circuit_breaker",
    "circuit breaker",
    "overload",
    "try again later",
    "capacity",
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Profile {
    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<Profile> {
        let base = Profile {
            name: name.to_string(),
            type_path: "type".into(),
            wrappers: Vec::new(),
            merge: strings(&["data", "payload"]),
            aliases: Vec::new(),
            errors: strings(&["agent_error", "error", "error_message"]),
            start_message: serde_json::json!({"type": "start_agent", "payload": {
                "user_request": "{{user_request}}", "run_id": "{{run_id}}",
                "thread_id": "{{thread_id}}", "canary": "{{canary}}"}}),
            refresh_message: serde_json::json!({"type": "token_refresh", "payload": {"token": "{{token}}"}}),
            welcome: Some("connection_established".into()),
            handshake: None,
            server_assigns_run_id: false,
            throttle_markers: strings(THROTTLE_MARKERS),
            tool_duration: vec![
                ("duration_ms".into(), 0.001),
                ("execution_time_ms".into(), 0.001),
            ],
        };
        match name {
            "reference" => Some(base),
            "netra" => Some(Profile {
                wrappers: strings(&[
                    "system_message",
                    "agent_progress",
                    "agent_response_complete",
                ]),
                merge: strings(&["data", "data.payload", "payload"]),
                aliases: vec![("agent_response_complete".into(), "agent_completed".into())],
                errors: strings(&[
                    "agent_error",
                    "agent_death",
                    "error_message",
                    "error",
                    "agent_timeout_failure",
                ]),
                start_message: serde_json::json!({"type": "user_message", "payload": {
                    "content": "{{user_request}}", "run_id": "{{run_id}}",
                    "thread_id": "{{thread_id}}", "canary": "{{canary}}"}}),
                server_assigns_run_id: true,
                // The bridge's `execution_time_ms`; the emitter's `execution_time`, `duration`.
                tool_duration: vec![
                    ("execution_time_ms".into(), 0.001),
                    ("execution_time".into(), 1.0),
                    ("duration".into(), 1.0),
                ],
                // The platform's WebSocket throttler and error-recovery table name these.
                throttle_markers: strings(
                    &[
                        THROTTLE_MARKERS,
                        &[
                            "user_limit_exceeded",
                            "global_limit_exceeded",
                            "circuit_breaker_open",
                            "rate_limited",
                            "rate_limit_exceeded",
                        ],
                    ]
                    .concat(),
                ),
                ..base
            }),
            _ => None,
        }
    }

    /// The wire name of a frame, unwrapped (`system_message` + `data.event`, `data.type` or a
    /// root `event` → the event).
    pub fn event_name<'a>(&self, root: &Fields<'a>) -> Option<Cow<'a, str>> {
        let outer = lookup(root, &self.type_path)?.to_str()?;
        let name = if self.wrappers.iter().any(|w| *w == outer) {
            let data = root.get("data").and_then(Val::as_object);
            data.and_then(|d| d.get("event").or_else(|| d.get("type")))
                .or_else(|| root.get("event"))
                .and_then(Val::to_str)
                .unwrap_or(outer)
        } else {
            outer
        };
        match self.aliases.iter().find(|(from, _)| *from == name) {
            Some((_, to)) => Some(Cow::Owned(to.clone())),
            None => Some(name),
        }
    }

    /// The frame's details: root fields, then each `merge` object over them (later ones
    /// winning). Takes the frame apart instead of copying it: each merge object is moved out of
    /// its place (nested ones, e.g. `data.payload`, out of their parent first) and its fields
    /// moved over the root's.
    pub fn merged_data<'a>(&self, mut root: Fields<'a>) -> Fields<'a> {
        // Up to four merge objects (every built-in profile) without allocating per frame.
        let mut inline: [Option<Fields<'a>>; 4] = Default::default();
        let mut spilled;
        let taken: &mut [Option<Fields<'a>>] = match self.merge.len() {
            n if n <= inline.len() => &mut inline[..n],
            n => {
                spilled = vec![None; n];
                &mut spilled
            }
        };
        let depth = |path: &String| path.matches('.').count();
        let deepest = self.merge.iter().map(depth).max().unwrap_or(0);
        for level in (0..=deepest).rev() {
            for (i, path) in self.merge.iter().enumerate() {
                if depth(path) == level {
                    taken[i] = take_object(&mut root, path);
                }
            }
        }
        for object in taken.iter_mut().filter_map(Option::take) {
            root.extend(object);
        }
        root
    }

    pub fn is_error(&self, wire_name: &str) -> bool {
        self.errors.iter().any(|e| e == wire_name)
    }
}

impl Profile {
    /// The built-in profile with this plan's overrides applied. The profile name was checked
    /// when the plan was validated.
    pub fn from_plan(plan: &crate::plan::Protocol) -> Profile {
        let mut p = Profile::builtin(&plan.profile).expect("validated profile name");
        if let Some(v) = &plan.type_path {
            p.type_path = v.clone();
        }
        if let Some(v) = &plan.wrappers {
            p.wrappers = v.clone();
        }
        if let Some(v) = &plan.merge {
            p.merge = v.clone();
        }
        if let Some(v) = &plan.aliases {
            p.aliases = v.iter().map(|(a, b)| (a.clone(), b.clone())).collect();
        }
        if let Some(v) = &plan.error_events {
            p.errors = v.clone();
        }
        if let Some(v) = &plan.start_message {
            p.start_message = v.clone();
        }
        if let Some(v) = &plan.refresh_message {
            p.refresh_message = v.clone();
        }
        if let Some(v) = plan.server_assigns_run_id {
            p.server_assigns_run_id = v;
        }
        if let Some(v) = &plan.throttle_markers {
            p.throttle_markers = v.iter().map(|m| m.to_ascii_lowercase()).collect();
        }
        if let Some(v) = &plan.welcome {
            p.welcome = Some(v.clone());
        }
        if !plan.wait_for_welcome {
            p.welcome = None;
        }
        if let Some(h) = &plan.handshake {
            p.handshake = Some(Handshake {
                wait_for: h.wait_for.clone(),
                reply: h.reply.clone(),
                complete: h.complete.clone(),
                timeout_ms: h.timeout.0.as_millis() as u64,
            });
        }
        p
    }
}

/// The value at a dotted path.
pub fn lookup<'f, 'a>(root: &'f Fields<'a>, path: &str) -> Option<&'f Val<'a>> {
    let mut parts = path.split('.');
    let mut current = root.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// Moves the object at a dotted path out of `root` (anything else stays where it is).
fn take_object<'a>(root: &mut Fields<'a>, path: &str) -> Option<Fields<'a>> {
    let (parent, key) = match path.rsplit_once('.') {
        Some((head, key)) => (lookup_mut(root, head)?, key),
        None => (root, path),
    };
    if !matches!(parent.get(key), Some(Val::Obj(_))) {
        return None;
    }
    match parent.remove(key) {
        Some(Val::Obj(o)) => Some(o),
        _ => None,
    }
}

fn lookup_mut<'f, 'a>(root: &'f mut Fields<'a>, path: &str) -> Option<&'f mut Fields<'a>> {
    let mut current = root;
    for part in path.split('.') {
        current = match current.get_mut(part)? {
            Val::Obj(o) => o,
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_order_is_root_then_each_merge_object() {
        let p = Profile::builtin("netra").unwrap();
        let frame = json!({"type": "agent_progress", "run_id": "root", "x": 0,
            "data": {"event": "agent_thinking", "x": 1, "y": 1, "payload": {"y": 2, "z": 2}},
            "payload": {"z": 3}})
        .to_string();
        let merged = p.merged_data(Fields::parse(&frame).unwrap()).to_map();
        assert_eq!(merged.get("x"), Some(&json!(1)));
        assert_eq!(merged.get("y"), Some(&json!(2)));
        assert_eq!(merged.get("z"), Some(&json!(3)));
        assert_eq!(merged.get("run_id"), Some(&json!("root")));
        assert_eq!(merged.get("event"), Some(&json!("agent_thinking")));
        // Moved out: neither object is also a field.
        assert!(!merged.contains_key("data") && !merged.contains_key("payload"));
        assert_eq!(merged.len(), 6, "{merged:?}");
    }

    #[test]
    fn every_plan_profile_name_is_built_in() {
        for name in crate::plan::PROFILES {
            assert!(Profile::builtin(name).is_some(), "{name}");
        }
    }

    #[test]
    fn unknown_profile_is_none() {
        assert!(Profile::builtin("nope").is_none());
        assert!(Profile::builtin("netra").unwrap().server_assigns_run_id);
    }
}
