//! An error event sorted into a failure kind: shed load, an auth failure, a resume the
//! server can not make, or the agent's own error.

use super::failure::Failure;
use crate::client::protocol::{AgentEvent, Profile};
use std::time::{Duration, SystemTime};

impl Failure {
    /// Sorts an error event: an expired or refused token is an auth failure, not an agent error.
    /// An error whose code or text names a token, an expiry or authentication is one, whatever
    /// its code (`AUTH_EXPIRED`, `SESSION_TOKEN_INVALID`, "Token expired"); after the token's
    /// expiry (or saying so) it is the token lapsing, else a refusal.
    pub fn from_error_event(
        event: &AgentEvent,
        violation_text: String,
        token_expires_at: Option<SystemTime>,
        profile: &Profile,
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
        let lower_code = code.to_ascii_lowercase();
        if let Some(marker) = profile
            .throttle_markers
            .iter()
            .find(|m| lower_code.contains(m.as_str()) || text.contains(m.as_str()))
        {
            let reason = match code.is_empty() {
                true => marker.clone(),
                false => lower_code,
            };
            return Failure::throttled(reason, violation_text, retry_after(event));
        }
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
}

/// The wait an error frame asks for: `retry_after` (seconds), at its root or in `details`.
fn retry_after(event: &AgentEvent) -> Option<Duration> {
    let details = event.data.get("details").and_then(|d| d.as_object());
    event
        .u64_field("retry_after")
        .or_else(|| {
            details
                .and_then(|d| d.get("retry_after"))
                .and_then(|v| v.as_u64())
        })
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::protocol::Profile;

    fn kind(frame: &str, profile: &str, expires_at: Option<SystemTime>) -> String {
        let profile = Profile::builtin(profile).unwrap();
        let event = AgentEvent::parse_with(frame, &profile).unwrap();
        Failure::from_error_event(&event, "x".into(), expires_at, &profile).kind
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

    #[test]
    fn an_error_naming_a_rate_limit_is_shed_load_with_its_reason_and_wait() {
        let netra = r#"{"type":"error_message","error_code":"global_limit_exceeded","error_message":"x","details":{"retry_after":3}}"#;
        let profile = Profile::builtin("netra").unwrap();
        let event = AgentEvent::parse_with(netra, &profile).unwrap();
        let f = Failure::from_error_event(&event, "x".into(), None, &profile);
        assert_eq!(f.kind, "overload.throttled");
        assert_eq!(f.reason.as_deref(), Some("global_limit_exceeded"));
        assert_eq!(f.retry_after, Some(std::time::Duration::from_secs(3)));
        let text = r#"{"type":"error","data":{"message":"Too many requests, slow down"}}"#;
        assert_eq!(kind(text, "reference", None), "overload.throttled");
        let breaker = r#"{"type":"error","data":{"code":"CIRCUIT_BREAKER_OPEN","message":"x"}}"#;
        assert_eq!(kind(breaker, "reference", None), "overload.throttled");
    }
}
