//! The sequence checker: a pure state machine over one run's events.
//!
//! A run must show exactly one `agent_started` first, at least `min_thinking_events`
//! `agent_thinking` of at least `min_thinking_chars` characters (no thought repeated), at least
//! one `tool_executing` (tool name + parameters) each closed by a `tool_completed` (tool name +
//! result), and exactly one `agent_completed` (status + result) last. Thinking may interleave
//! with tool calls, as real agents reason between tools.

use super::event::{AgentEvent, EventKind};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// What the checker demands of a run (from the plan's `[scenario]`).
#[derive(Debug, Clone)]
pub struct SequenceRules {
    pub min_thinking_events: usize,
    pub min_thinking_chars: usize,
    pub require_tool: bool,
    /// Tools the run must execute in this order (others may come between); empty: any.
    pub expect_tools: Vec<String>,
}

impl Default for SequenceRules {
    fn default() -> Self {
        SequenceRules {
            min_thinking_events: 2,
            min_thinking_chars: 50,
            require_tool: true,
            expect_tools: Vec::new(),
        }
    }
}

/// Why a run's sequence is wrong. `kind()` is the stable name counted in reports.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Violation {
    #[error("{got} arrived before agent_started")]
    NotStartedFirst { got: String },
    #[error("agent_started arrived a second time")]
    DuplicateStarted,
    #[error("{got} arrived after agent_completed")]
    AfterCompleted { got: String },
    #[error("{missing} never arrived before {at}")]
    MissingEvent { missing: String, at: String },
    #[error("only {got} agent_thinking before agent_completed, at least {min} required")]
    TooFewThinking { got: usize, min: usize },
    #[error("agent_thinking #{index} has {chars} characters, at least {min} required")]
    ThinkingTooShort {
        index: usize,
        chars: usize,
        min: usize,
    },
    #[error("agent_thinking #{index} repeats an earlier thought word for word")]
    RepeatedThought { index: usize },
    #[error("{event} has no {field}")]
    MissingField { event: String, field: String },
    #[error("tool_completed for `{tool}` without a matching tool_executing")]
    UnmatchedToolCompleted { tool: String },
    #[error("tool `{tool}` started executing and never completed")]
    ToolLeftOpen { tool: String },
    #[error("agent reported an error: {message}")]
    AgentError { message: String },
    #[error("expected the tool chain {expected:?}, the agent executed {got:?}")]
    ToolChain {
        expected: Vec<String>,
        got: Vec<String>,
    },
}

impl Violation {
    pub fn kind(&self) -> &'static str {
        match self {
            Violation::NotStartedFirst { .. } | Violation::AfterCompleted { .. } => {
                "sequence.out_of_order"
            }
            Violation::DuplicateStarted => "sequence.duplicate_started",
            Violation::MissingEvent { .. } => "sequence.missing_event",
            Violation::TooFewThinking { .. } => "sequence.too_few_thinking",
            Violation::ThinkingTooShort { .. } => "sequence.thinking_too_short",
            Violation::RepeatedThought { .. } => "content.repeated_thought",
            Violation::MissingField { .. } => "sequence.missing_field",
            Violation::UnmatchedToolCompleted { .. } => "sequence.unmatched_tool_completed",
            Violation::ToolLeftOpen { .. } => "sequence.tool_left_open",
            Violation::AgentError { .. } => "agent.error",
            Violation::ToolChain { .. } => "content.tool_chain",
        }
    }
}

/// Where a run stands after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Not part of this run (pong, heartbeat, …): ignored.
    Ignored,
    Continue,
    Completed,
    Failed(Violation),
}

#[derive(Debug, Clone)]
struct OpenTool {
    id: Option<String>,
    name: String,
}

/// Checks one run. Feed it every frame of the run with `observe`.
#[derive(Debug, Clone)]
pub struct SequenceChecker {
    rules: SequenceRules,
    started: bool,
    completed: bool,
    failed: bool,
    thoughts: Vec<String>,
    tools_started: usize,
    open_tools: Vec<OpenTool>,
    /// Tool names in the order they started executing.
    executed: Vec<String>,
    reached: BTreeSet<EventKind>,
}

// Field fallbacks, as the platform's own CLI reads them (netra-protocol.md §5).
const THOUGHT_FIELDS: [&str; 6] = [
    "thought",
    "reasoning",
    "thinking",
    "content",
    "message",
    "text",
];
const TOOL_NAME_FIELDS: [&str; 2] = ["tool_name", "tool"];
const PARAM_FIELDS: [&str; 4] = ["parameters", "tool_args", "args", "input"];
const RESULT_FIELDS: [&str; 3] = ["result", "results", "output"];
const COMPLETION_FIELDS: [&str; 5] = ["result", "final_response", "response", "content", "results"];
const ERROR_FIELDS: [&str; 4] = ["message", "error", "error_message", "detail"];

impl SequenceChecker {
    pub fn new(rules: SequenceRules) -> Self {
        SequenceChecker {
            rules,
            started: false,
            completed: false,
            failed: false,
            thoughts: Vec::new(),
            tools_started: 0,
            open_tools: Vec::new(),
            executed: Vec::new(),
            reached: BTreeSet::new(),
        }
    }

    /// Which of the run's event kinds arrived (for the funnel).
    pub fn reached(&self) -> &BTreeSet<EventKind> {
        &self.reached
    }

    /// What `reached` holds, kept without a copy when the run ends.
    pub fn into_reached(self) -> BTreeSet<EventKind> {
        self.reached
    }

    /// The number of `agent_thinking` events so far.
    pub fn thinking_count(&self) -> usize {
        self.thoughts.len()
    }

    pub fn observe(&mut self, event: &AgentEvent) -> Progress {
        if !event.kind.is_run_event() {
            return Progress::Ignored;
        }
        if self.failed || self.completed {
            // After the verdict only a late event can change it: out of order.
            if self.completed && !self.failed {
                self.failed = true;
                return Progress::Failed(Violation::AfterCompleted {
                    got: event.wire_name.to_string(),
                });
            }
            return Progress::Ignored;
        }
        self.reached.insert(event.kind.clone());
        match self.step(event) {
            Ok(progress) => progress,
            Err(v) => {
                self.failed = true;
                Progress::Failed(v)
            }
        }
    }

    fn step(&mut self, event: &AgentEvent) -> Result<Progress, Violation> {
        let name = || event.wire_name.to_string();
        if event.kind == EventKind::Error {
            let message = first_str(event, &ERROR_FIELDS);
            return Err(Violation::AgentError {
                message: message.as_deref().unwrap_or("(no message)").to_string(),
            });
        }
        if event.kind == EventKind::AgentStarted {
            if self.started {
                return Err(Violation::DuplicateStarted);
            }
            self.started = true;
            present(event, &["agent_name", "agent"], "agent name")?;
            return Ok(Progress::Continue);
        }
        if !self.started {
            return Err(Violation::NotStartedFirst { got: name() });
        }
        match event.kind {
            EventKind::AgentThinking => self.thinking(event)?,
            EventKind::ToolExecuting => {
                if self.thoughts.is_empty() {
                    return Err(Violation::MissingEvent {
                        missing: "agent_thinking".into(),
                        at: name(),
                    });
                }
                let tool = require(event, &TOOL_NAME_FIELDS, "tool name")?;
                present(event, &PARAM_FIELDS, "parameters")?;
                self.tools_started += 1;
                if !self.rules.expect_tools.is_empty() {
                    self.executed.push(tool.clone());
                }
                self.open_tools.push(OpenTool {
                    id: event.str_field("tool_call_id").map(String::from),
                    name: tool,
                });
            }
            EventKind::ToolCompleted => {
                let tool = require(event, &TOOL_NAME_FIELDS, "tool name")?;
                let id = event.str_field("tool_call_id");
                let open = self
                    .open_tools
                    .iter()
                    .position(|t| match (&t.id, id.as_deref()) {
                        (Some(a), Some(b)) => a == b,
                        _ => t.name == tool,
                    });
                let Some(index) = open else {
                    return Err(Violation::UnmatchedToolCompleted { tool });
                };
                present(event, &RESULT_FIELDS, "result")?;
                self.open_tools.remove(index);
            }
            EventKind::AgentCompleted => return self.completed(event),
            _ => {}
        }
        Ok(Progress::Continue)
    }

    fn thinking(&mut self, event: &AgentEvent) -> Result<(), Violation> {
        let index = self.thoughts.len() + 1;
        let thought = first_str(event, &THOUGHT_FIELDS).unwrap_or_default();
        let thought = thought.trim();
        let chars = thought.chars().count();
        if chars < self.rules.min_thinking_chars {
            return Err(Violation::ThinkingTooShort {
                index,
                chars,
                min: self.rules.min_thinking_chars,
            });
        }
        if self.thoughts.iter().any(|t| t == thought) {
            return Err(Violation::RepeatedThought { index });
        }
        self.thoughts.push(thought.to_string());
        Ok(())
    }

    fn completed(&mut self, event: &AgentEvent) -> Result<Progress, Violation> {
        let at = || event.wire_name.to_string();
        if self.rules.require_tool && self.tools_started == 0 {
            return Err(Violation::MissingEvent {
                missing: "tool_executing".into(),
                at: at(),
            });
        }
        if let Some(open) = self.open_tools.first() {
            return Err(Violation::ToolLeftOpen {
                tool: open.name.clone(),
            });
        }
        if self.thoughts.len() < self.rules.min_thinking_events {
            return Err(Violation::TooFewThinking {
                got: self.thoughts.len(),
                min: self.rules.min_thinking_events,
            });
        }
        let mut expected = self.rules.expect_tools.iter();
        let mut next = expected.next();
        for tool in &self.executed {
            if next == Some(tool) {
                next = expected.next();
            }
        }
        if next.is_some() {
            return Err(Violation::ToolChain {
                expected: self.rules.expect_tools.clone(),
                got: std::mem::take(&mut self.executed),
            });
        }
        let status = require(event, &["status"], "status")?;
        present(event, &COMPLETION_FIELDS, "result")?;
        if matches!(status.as_str(), "error" | "failed" | "failure") {
            let message = first_str(event, &ERROR_FIELDS).map(String::from);
            return Err(Violation::AgentError {
                message: message.unwrap_or(status),
            });
        }
        self.completed = true;
        Ok(Progress::Completed)
    }
}

fn first_str<'a>(event: &AgentEvent<'a>, fields: &[&str]) -> Option<Cow<'a, str>> {
    fields.iter().find_map(|f| event.str_field(f))
}

/// The first of `fields` that has a value; `MissingField` if none has.
fn first_present<'f>(
    event: &AgentEvent,
    fields: &[&'f str],
    what: &str,
) -> Result<&'f str, Violation> {
    fields
        .iter()
        .find(|f| event.has_value(f))
        .copied()
        .ok_or_else(|| Violation::MissingField {
            event: event.wire_name.to_string(),
            field: what.to_string(),
        })
}

/// Whether one of `fields` has a value.
fn present(event: &AgentEvent, fields: &[&str], what: &str) -> Result<(), Violation> {
    first_present(event, fields, what).map(|_| ())
}

/// The first of `fields` that has a value, as text.
fn require(event: &AgentEvent, fields: &[&str], what: &str) -> Result<String, Violation> {
    let field = first_present(event, fields, what)?;
    Ok(event.text_field(field).unwrap_or_default())
}

#[cfg(test)]
mod tests;
