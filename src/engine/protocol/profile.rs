//! Protocol profiles: how a platform names and wraps its events, how a run is started, and
//! which events end a run. Built-in `reference` (our target) and `netra` (the real platform as
//! its public code shows it); a plan can override any key of either.

use serde_json::{Map, Value};

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
                ..base
            }),
            _ => None,
        }
    }

    /// The wire name of a frame, unwrapped (`system_message` + `data.event`, `data.type` or a
    /// root `event` → the event).
    pub fn event_name(&self, root: &Map<String, Value>) -> Option<String> {
        let outer = lookup(root, &self.type_path)?.as_str()?.to_string();
        let name = if self.wrappers.contains(&outer) {
            let data = root.get("data").and_then(Value::as_object);
            data.and_then(|d| d.get("event").or_else(|| d.get("type")))
                .or_else(|| root.get("event"))
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or(outer)
        } else {
            outer
        };
        Some(
            self.aliases
                .iter()
                .find(|(from, _)| *from == name)
                .map(|(_, to)| to.clone())
                .unwrap_or(name),
        )
    }

    /// The frame's details: root fields, then each `merge` object over them.
    pub fn merged_data(&self, root: &Map<String, Value>) -> Map<String, Value> {
        let mut data = root.clone();
        for path in &self.merge {
            if let Some(Value::Object(o)) = lookup(root, path) {
                for (k, v) in o {
                    data.insert(k.clone(), v.clone());
                }
            }
        }
        data
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
pub fn lookup<'a>(root: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = root.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// Replaces `{{name}}` in every string of `template` with `vars`' values.
pub fn fill(template: &Value, vars: &[(&str, &str)]) -> Value {
    match template {
        Value::String(s) => {
            let mut out = s.clone();
            for (name, value) in vars {
                out = out.replace(&format!("{{{{{name}}}}}"), value);
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, vars)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), fill(v, vars))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fill_replaces_placeholders_everywhere() {
        let t = json!({"type": "user_message", "payload": {"content": "{{user_request}}", "ids": ["{{run_id}}"]}});
        let v = fill(&t, &[("user_request", "cut costs"), ("run_id", "r1")]);
        assert_eq!(
            v,
            json!({"type": "user_message", "payload": {"content": "cut costs", "ids": ["r1"]}})
        );
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
