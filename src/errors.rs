//! Exit codes and one-line error messages for the command line.

/// What the process exits with (documented in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every SLA rule held.
    Pass = 0,
    /// The run happened and at least one SLA rule failed.
    SlaFailed = 1,
    /// Bad input or setup: the plan, the target, a secret, TLS.
    Setup = 2,
    /// Stopped early (SIGTERM, Ctrl-C): the reports were written, of part of the plan.
    Stopped = 3,
}

/// An error and its causes on one line: `outer: inner: root`.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
