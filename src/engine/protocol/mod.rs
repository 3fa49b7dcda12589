//! The agent event model and the sequence checker. No I/O: frames in, verdicts out.

mod checker;
pub mod profile;

pub use checker::{Progress, SequenceChecker, SequenceRules, Violation};
pub use profile::Profile;

use serde_json::{Map, Value};

/// The five events every agent run must show, in this order.
pub const REQUIRED: [EventKind; 5] = [
    EventKind::AgentStarted,
    EventKind::AgentThinking,
    EventKind::ToolExecuting,
    EventKind::ToolCompleted,
    EventKind::AgentCompleted,
];

/// What a frame from the platform is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    ConnectionEstablished,
    AgentStarted,
    AgentThinking,
    ToolExecuting,
    ToolCompleted,
    AgentCompleted,
    /// `agent_error`, `error`, `error_message`: ends a run as a failure.
    Error,
    /// `pong`, `heartbeat`, anything else: not part of a run.
    Other(String),
}

impl EventKind {
    pub fn from_wire(name: &str) -> EventKind {
        match name {
            "connection_established" => EventKind::ConnectionEstablished,
            "agent_started" => EventKind::AgentStarted,
            "agent_thinking" => EventKind::AgentThinking,
            "tool_executing" => EventKind::ToolExecuting,
            "tool_completed" => EventKind::ToolCompleted,
            "agent_completed" => EventKind::AgentCompleted,
            "agent_error" | "error" | "error_message" | "agent_death" | "agent_timeout_failure" => {
                EventKind::Error
            }
            other => EventKind::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            EventKind::ConnectionEstablished => "connection_established",
            EventKind::AgentStarted => "agent_started",
            EventKind::AgentThinking => "agent_thinking",
            EventKind::ToolExecuting => "tool_executing",
            EventKind::ToolCompleted => "tool_completed",
            EventKind::AgentCompleted => "agent_completed",
            EventKind::Error => "error",
            EventKind::Other(name) => name,
        }
    }

    /// Is this one of the events of an agent run (including its error)?
    pub fn is_run_event(&self) -> bool {
        REQUIRED.contains(self) || *self == EventKind::Error
    }
}

/// One frame, decoded into a typed event.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    pub kind: EventKind,
    /// The wire name as sent (e.g. `agent_error` for `EventKind::Error`).
    pub wire_name: String,
    pub run_id: Option<String>,
    /// Details: the `data` object, with top-level fields filled in where `data` lacks them.
    pub data: Map<String, Value>,
}

/// A frame that is not an event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("frame is not JSON: {0}")]
    NotJson(String),
    #[error("frame has no string `type`: {0}")]
    NoType(String),
}

impl AgentEvent {
    /// Decodes a frame in the reference layout.
    pub fn parse(text: &str) -> Result<AgentEvent, ParseError> {
        thread_local! {
            static REFERENCE: Profile = Profile::builtin("reference").expect("built in");
        }
        REFERENCE.with(|p| AgentEvent::parse_with(text, p))
    }

    /// Decodes a frame as `profile` says: the name (unwrapped from wrapper types, aliased),
    /// and the details merged root < `data` < `payload` (or the profile's merge order).
    pub fn parse_with(text: &str, profile: &Profile) -> Result<AgentEvent, ParseError> {
        let value: Value =
            serde_json::from_str(text).map_err(|_| ParseError::NotJson(excerpt(text)))?;
        let Value::Object(root) = value else {
            return Err(ParseError::NoType(excerpt(text)));
        };
        let wire_name = profile
            .event_name(&root)
            .ok_or_else(|| ParseError::NoType(excerpt(text)))?;
        let mut data = profile.merged_data(root);
        for key in ["type", "data", "payload"] {
            if !matches!(data.get(key), Some(Value::String(_))) || key == "type" {
                data.remove(key);
            }
        }
        let run_id = data.get("run_id").and_then(Value::as_str).map(String::from);
        let kind = if profile.is_error(&wire_name) {
            EventKind::Error
        } else {
            EventKind::from_wire(&wire_name)
        };
        Ok(AgentEvent {
            kind,
            wire_name,
            run_id,
            data,
        })
    }

    /// Whether this event ends a run (its completion or an error).
    pub fn is_terminal(&self) -> bool {
        matches!(self.kind, EventKind::AgentCompleted | EventKind::Error)
    }

    /// A hash of what the event says, leaving out what a re-sent copy changes (`attempt`,
    /// `timestamp`): two events with one fingerprint are one event delivered twice.
    pub fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.wire_name.hash(&mut h);
        for (k, v) in &self.data {
            if k != "attempt" && k != "timestamp" {
                k.hash(&mut h);
                hash_value(v, &mut h);
            }
        }
        h.finish()
    }

    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// A field that is present and not null, empty string, or empty object.
    pub fn has_value(&self, key: &str) -> bool {
        match self.data.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
            Some(_) => true,
        }
    }
}

fn hash_value(v: &Value, h: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => b.hash(h),
        Value::Number(n) => n.hash(h),
        Value::String(s) => s.hash(h),
        Value::Array(items) => {
            items.len().hash(h);
            items.iter().for_each(|i| hash_value(i, h));
        }
        Value::Object(o) => {
            for (k, v) in o {
                k.hash(h);
                hash_value(v, h);
            }
        }
    }
}

/// The first 120 characters of a frame, for error messages.
pub fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(120).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod netra_layouts;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_layout_parses() {
        let e = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","seq":2,"data":{"thought":"hmm","step":1}}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::AgentThinking);
        assert_eq!(e.run_id.as_deref(), Some("r1"));
        assert_eq!(e.str_field("thought"), Some("hmm"));
        assert_eq!(e.data.get("seq"), Some(&serde_json::json!(2)));
    }

    #[test]
    fn error_names_map_to_error() {
        for name in ["agent_error", "error", "error_message"] {
            let e = AgentEvent::parse(&format!(r#"{{"type":"{name}"}}"#)).unwrap();
            assert_eq!(e.kind, EventKind::Error);
            assert_eq!(e.wire_name, name);
        }
    }

    #[test]
    fn a_resent_copy_has_the_same_fingerprint() {
        let first = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","timestamp":1.0,"data":{"thought":"a"}}"#,
        )
        .unwrap();
        let again = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","timestamp":2.5,"attempt":2,"data":{"thought":"a"}}"#,
        )
        .unwrap();
        let other = AgentEvent::parse(
            r#"{"type":"agent_thinking","run_id":"r1","timestamp":1.0,"data":{"thought":"b"}}"#,
        )
        .unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_ne!(first.fingerprint(), other.fingerprint());
        assert!(!first.is_terminal());
    }

    #[test]
    fn non_events_are_parse_errors() {
        assert!(matches!(
            AgentEvent::parse("nope"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            AgentEvent::parse("[1]"),
            Err(ParseError::NoType(_))
        ));
        assert!(matches!(
            AgentEvent::parse(r#"{"type":3}"#),
            Err(ParseError::NoType(_))
        ));
    }
}
