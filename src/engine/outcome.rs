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

/// The kind of a run a stop's grace cut: counted apart, never as a failure.
pub const INTERRUPTED: &str = "interrupted";

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
    /// An error whose code or text names a token, an expiry or authentication is one, whatever
    /// its code (`AUTH_EXPIRED`, `SESSION_TOKEN_INVALID`, "Token expired"); after the token's
    /// expiry (or saying so) it is the token lapsing, else a refusal.
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
        let text: String = ["message", "error_message", "error", "detail"]
            .iter()
            .filter_map(|k| event.str_field(k))
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        let says_expired = text.contains("expired") || code.contains("EXPIRED");
        let lapsed = token_expires_at.is_some_and(|at| at <= SystemTime::now());
        let auth_code = ["AUTH", "TOKEN", "UNAUTHORI", "FORBIDDEN"]
            .iter()
            .any(|w| code.contains(w));
        let auth_text = ["token", "unauthori", "authenticat", "not authori"]
            .iter()
            .any(|w| text.contains(w));
        let auth = |violation_text| match says_expired || lapsed {
            true => Failure::new("auth.token_expired", violation_text),
            false => Failure::new("auth.refused", violation_text),
        };
        match code.as_str() {
            "TOKEN_EXPIRED" => Failure::new("auth.token_expired", violation_text),
            "RESUME_UNSUPPORTED" | "RESUME_UNKNOWN_RUN" => {
                Failure::new("reconnect.not_resumable", violation_text)
            }
            _ if auth_code || auth_text => auth(violation_text),
            _ => Failure::new("agent.error", violation_text),
        }
    }

    /// A run still open when a stop's grace ran out: no failure of the target's.
    pub fn interrupted(grace: std::time::Duration) -> Failure {
        Failure::new(
            INTERRUPTED,
            format!("the test was stopped and the run had not ended {grace:?} later"),
        )
    }

    pub fn is_interrupted(&self) -> bool {
        self.kind == INTERRUPTED
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::protocol::Profile;

    fn kind(frame: &str, profile: &str, expires_at: Option<SystemTime>) -> String {
        let profile = Profile::builtin(profile).unwrap();
        let event = AgentEvent::parse_with(frame, &profile).unwrap();
        Failure::from_error_event(&event, "x".into(), expires_at).kind
    }

    #[test]
    fn an_error_naming_a_token_or_auth_is_an_auth_failure_whatever_its_code() {
        let netra = r#"{"type":"error_message","error_code":"AUTH_EXPIRED","error_message":"Token expired"}"#;
        assert_eq!(kind(netra, "netra", None), "auth.token_expired");
        let reference =
            r#"{"type":"error","data":{"code":"AUTH_EXPIRED","message":"Token expired"}}"#;
        assert_eq!(kind(reference, "reference", None), "auth.token_expired");
        let refused =
            r#"{"type":"error","data":{"code":"SESSION_INVALID","message":"invalid token"}}"#;
        assert_eq!(kind(refused, "reference", None), "auth.refused");
        let past = SystemTime::now() - std::time::Duration::from_secs(1);
        let lapsed = r#"{"type":"error","data":{"code":"UNAUTHORIZED","message":"no"}}"#;
        assert_eq!(kind(lapsed, "reference", Some(past)), "auth.token_expired");
        let agent =
            r#"{"type":"error","data":{"code":"TOOL_FAILED","message":"the agent crashed"}}"#;
        assert_eq!(kind(agent, "reference", Some(past)), "agent.error");
    }
}
