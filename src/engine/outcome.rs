//! What one agent run or connect produced, as the engine hands it to the collector: a typed
//! failure, the run's events and timings.

use crate::engine::protocol::{AgentEvent, EventKind};
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

/// An event's wire name: static for the run's own events, owned for any other name.
pub type EventName = std::borrow::Cow<'static, str>;

/// The name a run's timeline keeps for an event: the run's own events by their static name.
pub fn event_name(event: &AgentEvent) -> EventName {
    match event.kind.static_name() {
        Some(name) if name == event.wire_name => EventName::Borrowed(name),
        _ => EventName::Owned(event.wire_name.to_string()),
    }
}

/// How one agent run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// `None` when the run completed and passed every check.
    pub failure: Option<Failure>,
    /// Which of the five required events the run reached.
    pub reached: BTreeSet<EventKind>,
    /// Each event of the run (wire name) and its time since the start message was sent.
    pub timeline: Vec<(EventName, Duration)>,
    /// Start message to verdict.
    pub elapsed: Duration,
    /// The `agent_completed` details, for result checks.
    pub final_data: Option<serde_json::Map<String, serde_json::Value>>,
    /// The scenario of the mix that ran it (index).
    pub scenario: usize,
}

/// A typed failure: a stable kind (`sequence.out_of_order`, `transport.timeout`, …) and the
/// readable detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: String,
    pub message: String,
}

impl Failure {
    /// Sorts an error event: an expired or refused token is an auth failure, not an agent error.
    /// An auth error after the token's expiry (or saying so) is the token lapsing.
    pub fn from_error_event(
        event: &AgentEvent,
        violation_text: String,
        token_expires_at: Option<SystemTime>,
    ) -> Failure {
        let code = event
            .str_field("code")
            .or_else(|| event.str_field("error_code"))
            .unwrap_or_default()
            .to_ascii_uppercase();
        let says_expired = ["message", "error_message", "error", "detail"]
            .iter()
            .filter_map(|k| event.str_field(k))
            .any(|m| m.to_ascii_lowercase().contains("expired"));
        let lapsed = token_expires_at.is_some_and(|at| at <= SystemTime::now());
        match code.as_str() {
            "TOKEN_EXPIRED" => Failure::new("auth.token_expired", violation_text),
            "RESUME_UNSUPPORTED" | "RESUME_UNKNOWN_RUN" => {
                Failure::new("reconnect.not_resumable", violation_text)
            }
            "AUTH_FAILED" | "AUTHENTICATION_FAILED" | "UNAUTHORIZED" | "TOKEN_INVALID" => {
                if says_expired || lapsed {
                    Failure::new("auth.token_expired", violation_text)
                } else {
                    Failure::new("auth.refused", violation_text)
                }
            }
            _ => Failure::new("agent.error", violation_text),
        }
    }

    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Failure {
        Failure {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}
