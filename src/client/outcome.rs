//! What one agent run or connect produced, as the client hands it to the collector: a typed
//! failure, the run's events and timings.

mod errors;
mod failure;

pub use failure::{Failure, INTERRUPTED, THROTTLED};

use crate::client::protocol::{AgentEvent, EventKind};

use std::collections::BTreeSet;
use std::time::Duration;

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
    /// Its turn in a session (1-based); `None` for a user that holds no sessions.
    pub turn: Option<u32>,
    /// Where its time went: its agent, its tools, its events' delivery lags.
    pub trace: RunTrace,
}

/// Where one run's time went.
#[derive(Debug, Clone, Default)]
pub struct RunTrace {
    /// The agent `agent_started` named.
    pub agent: Option<String>,
    /// Each tool it executed, in order.
    pub tools: Vec<ToolSpan>,
    /// Each stamped event's delivery lag: received less stamped, the socket's clock offset
    /// taken out.
    pub lags: Vec<Duration>,
    /// A completed run's phases: to `agent_started`, thinking (to the first tool), tools (first
    /// `tool_executing` to last `tool_completed`), completion (to `agent_completed`).
    pub phases: Option<[Duration; 4]>,
}

/// The phases' names, in `RunTrace::phases`' order.
pub const PHASES: [&str; 4] = ["to agent_started", "thinking", "tools", "completion"];

/// One tool execution of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpan {
    pub name: String,
    /// From its `tool_executing` to its `tool_completed`; `None`: it never completed.
    pub elapsed: Option<Duration>,
    /// How long the platform says the tool itself ran (`duration_ms`, `execution_time`).
    pub server: Option<Duration>,
}
