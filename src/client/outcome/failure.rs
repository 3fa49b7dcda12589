//! A typed failure: a stable kind and the readable detail, and what shed load told.

/// The kind of an attempt the platform shed (429, close 1013, a rate-limit error).
pub const THROTTLED: &str = "overload.throttled";

/// The kind of a run a stop's grace cut: counted apart, never as a failure.
pub const INTERRUPTED: &str = "interrupted";

/// A typed failure: a stable kind (`sequence.out_of_order`, `transport.timeout`, …) and the
/// readable detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: String,
    pub message: String,
    /// A shed attempt: the platform's reason (`HTTP 429`, `close 1013`, `rate_limited`).
    pub reason: Option<String>,
    /// How long the platform asked the user to wait before it tries again (`Retry-After`).
    pub retry_after: Option<std::time::Duration>,
}

impl Failure {
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
            reason: None,
            retry_after: None,
        }
    }

    /// The platform shed this attempt (`overload.throttled`): a finding, not an error.
    pub fn throttled(
        reason: impl Into<String>,
        message: impl Into<String>,
        retry_after: Option<std::time::Duration>,
    ) -> Failure {
        Failure {
            reason: Some(reason.into()),
            retry_after,
            ..Failure::new(THROTTLED, message)
        }
    }

    pub fn is_throttled(&self) -> bool {
        self.kind == THROTTLED
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}
