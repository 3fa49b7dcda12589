//! An agent event as decoded from a frame: its kind, its fields, the five every run must show.

use super::fields::{self, Fields, Val};
use super::profile::Profile;
use std::borrow::Cow;

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
            EventKind::Other(name) => name,
            known => known.static_name().unwrap_or_default(),
        }
    }

    /// The name of every kind but `Other`.
    pub fn static_name(&self) -> Option<&'static str> {
        Some(match self {
            EventKind::ConnectionEstablished => "connection_established",
            EventKind::AgentStarted => "agent_started",
            EventKind::AgentThinking => "agent_thinking",
            EventKind::ToolExecuting => "tool_executing",
            EventKind::ToolCompleted => "tool_completed",
            EventKind::AgentCompleted => "agent_completed",
            EventKind::Error => "error",
            EventKind::Other(_) => return None,
        })
    }

    /// Is this one of the events of an agent run (including its error)?
    pub fn is_run_event(&self) -> bool {
        REQUIRED.contains(self) || *self == EventKind::Error
    }
}

/// One frame, decoded into a typed event. Borrows the frame's text: keys and values are
/// read where they are, decoded when a check asks for them.
#[derive(Debug, Clone)]
pub struct AgentEvent<'a> {
    pub kind: EventKind,
    /// The wire name as sent (e.g. `agent_error` for `EventKind::Error`).
    pub wire_name: Cow<'a, str>,
    pub run_id: Option<Cow<'a, str>>,
    /// Details: the `data` object, with top-level fields filled in where `data` lacks them.
    pub data: Fields<'a>,
}

/// A frame that is not an event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("frame is not JSON: {0}")]
    NotJson(String),
    #[error("frame has no string `type`: {0}")]
    NoType(String),
}

impl<'a> AgentEvent<'a> {
    /// Decodes a frame in the reference layout.
    pub fn parse(text: &'a str) -> Result<AgentEvent<'a>, ParseError> {
        thread_local! {
            static REFERENCE: Profile = Profile::builtin("reference").expect("built in");
        }
        REFERENCE.with(|p| AgentEvent::parse_with(text, p))
    }

    /// Decodes a frame as `profile` says: the name (unwrapped from wrapper types, aliased),
    /// and the details merged root < `data` < `payload` (or the profile's merge order).
    pub fn parse_with(text: &'a str, profile: &Profile) -> Result<AgentEvent<'a>, ParseError> {
        let root = Fields::parse(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ParseError::NoType(excerpt(text)),
            _ => ParseError::NotJson(excerpt(text)),
        })?;
        let wire_name = profile
            .event_name(&root)
            .ok_or_else(|| ParseError::NoType(excerpt(text)))?;
        let mut data = profile.merged_data(root);
        data.remove("type");
        for key in ["data", "payload"] {
            if data.get(key).is_some_and(|v| v.as_str().is_none()) {
                data.remove(key);
            }
        }
        let run_id = data.get("run_id").and_then(Val::to_str);
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
        use std::hash::Hasher as _;
        let mut h = fields::Hasher::default();
        h.write(self.wire_name.as_bytes());
        h.write_u64(fields::hash_fields(&self.data, &["attempt", "timestamp"]));
        h.finish()
    }

    /// A string field, borrowed from the frame unless it has escapes.
    pub fn str_field(&self, key: &str) -> Option<Cow<'a, str>> {
        self.data.get(key).and_then(Val::to_str)
    }

    /// An unsigned integer field (as `Value::as_u64` reads it).
    pub fn u64_field(&self, key: &str) -> Option<u64> {
        self.data.get(key).and_then(Val::as_u64)
    }

    /// A field that is present and not null, empty string, or empty object.
    pub fn has_value(&self, key: &str) -> bool {
        self.data.get(key).is_some_and(Val::has_value)
    }

    /// A field as text: a string as it is, anything else as compact JSON.
    pub fn text_field(&self, key: &str) -> Option<String> {
        self.data.get(key).map(Val::text)
    }
}

/// When the platform says it made `event`, Unix seconds: a number (seconds, or milliseconds
/// when it is that large) or an ISO-8601 time, in `timestamp`.
pub fn stamp(event: &AgentEvent) -> Option<f64> {
    let value = event.data.get("timestamp")?;
    if let Some(n) = value.as_f64() {
        return Some(if n > 1e11 { n / 1000.0 } else { n });
    }
    let text = value.to_str()?;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&text) {
        return Some(t.timestamp_micros() as f64 / 1e6);
    }
    let naive = chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some(naive.and_utc().timestamp_micros() as f64 / 1e6)
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The first 120 characters of a frame, for error messages.
pub fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(120).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

/// A test's frame, kept for the test's whole run (events borrow their frame's text).
#[cfg(test)]
pub(crate) fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}
