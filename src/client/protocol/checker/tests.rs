use super::*;
use serde_json::json;

const LONG_A: &str =
    "Looking at the compute spend first: three instance families dominate the bill.";
const LONG_B: &str =
    "Reserved capacity covers only a third of steady usage, so commitments will pay off.";

fn ev(kind: &str, data: serde_json::Value) -> AgentEvent<'static> {
    let frame = json!({"type": kind, "run_id": "r1", "data": data}).to_string();
    AgentEvent::parse(crate::client::protocol::leak(frame)).unwrap()
}

fn started() -> AgentEvent<'static> {
    ev("agent_started", json!({"agent_name": "cost_optimizer"}))
}
fn thinking(text: &str) -> AgentEvent<'static> {
    ev("agent_thinking", json!({ "thought": text }))
}
fn executing(id: &str) -> AgentEvent<'static> {
    ev(
        "tool_executing",
        json!({"tool_name": "cost_analyzer", "tool_call_id": id, "parameters": {"scope": "compute"}}),
    )
}
fn tool_done(id: &str) -> AgentEvent<'static> {
    ev(
        "tool_completed",
        json!({"tool_name": "cost_analyzer", "tool_call_id": id, "result": {"monthly_savings": 9000}}),
    )
}
fn completed() -> AgentEvent<'static> {
    ev(
        "agent_completed",
        json!({"status": "success", "result": {"monthly_savings": 9000}}),
    )
}

fn valid() -> Vec<AgentEvent<'static>> {
    vec![
        started(),
        thinking(LONG_A),
        thinking(LONG_B),
        executing("t1"),
        tool_done("t1"),
        completed(),
    ]
}

/// Feeds events until a verdict; returns the last progress.
fn run(events: &[AgentEvent]) -> Progress {
    let mut checker = SequenceChecker::new(SequenceRules::default());
    let mut last = Progress::Continue;
    for e in events {
        last = checker.observe(e);
        if matches!(last, Progress::Failed(_)) {
            return last;
        }
    }
    last
}

fn violation(events: &[AgentEvent]) -> Violation {
    match run(events) {
        Progress::Failed(v) => v,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn valid_sequence_completes() {
    assert_eq!(run(&valid()), Progress::Completed);
}

#[test]
fn thinking_between_tool_calls_is_fine() {
    let events = vec![
        started(),
        thinking(LONG_A),
        executing("t1"),
        tool_done("t1"),
        thinking(LONG_B),
        executing("t2"),
        tool_done("t2"),
        completed(),
    ];
    assert_eq!(run(&events), Progress::Completed);
}

#[test]
fn non_run_frames_are_ignored() {
    let mut checker = SequenceChecker::new(SequenceRules::default());
    assert_eq!(checker.observe(&ev("pong", json!({}))), Progress::Ignored);
    assert_eq!(
        checker.observe(&ev("heartbeat", json!({}))),
        Progress::Ignored
    );
}

#[test]
fn missing_event_is_reported() {
    let mut events = valid();
    events.retain(|e| !matches!(e.kind, EventKind::ToolExecuting | EventKind::ToolCompleted));
    let v = violation(&events);
    assert_eq!(v.kind(), "sequence.missing_event", "{v}");
    assert!(v.to_string().contains("tool_executing"), "{v}");

    // No thinking at all: the tool call comes too early.
    let v = violation(&[started(), executing("t1")]);
    assert_eq!(v.kind(), "sequence.missing_event", "{v}");
}

#[test]
fn too_few_thinking_is_reported() {
    let events = vec![
        started(),
        thinking(LONG_A),
        executing("t1"),
        tool_done("t1"),
        completed(),
    ];
    let v = violation(&events);
    assert_eq!(v, Violation::TooFewThinking { got: 1, min: 2 });
}

#[test]
fn wrong_order_is_reported() {
    let v = violation(&[thinking(LONG_A), started()]);
    assert_eq!(v.kind(), "sequence.out_of_order");

    let mut events = valid();
    events.push(thinking(
        "A late thought that arrives after the run has already completed.",
    ));
    let v = violation(&events);
    assert_eq!(v.kind(), "sequence.out_of_order");
    assert!(v.to_string().contains("after agent_completed"), "{v}");
}

#[test]
fn duplicate_started_is_reported() {
    let v = violation(&[started(), thinking(LONG_A), started()]);
    assert_eq!(v, Violation::DuplicateStarted);
    assert_eq!(v.kind(), "sequence.duplicate_started");
}

#[test]
fn short_thinking_is_reported() {
    let v = violation(&[started(), thinking("too short")]);
    assert_eq!(
        v,
        Violation::ThinkingTooShort {
            index: 1,
            chars: 9,
            min: 50
        }
    );
}

#[test]
fn repeated_thought_is_reported() {
    let v = violation(&[started(), thinking(LONG_A), thinking(LONG_A)]);
    assert_eq!(v.kind(), "content.repeated_thought");
}

#[test]
fn tool_completed_without_executing_is_reported() {
    let v = violation(&[started(), thinking(LONG_A), tool_done("t9")]);
    assert_eq!(v.kind(), "sequence.unmatched_tool_completed");
    // Matched by id, not just by name.
    let v = violation(&[
        started(),
        thinking(LONG_A),
        executing("t1"),
        tool_done("t2"),
    ]);
    assert_eq!(v.kind(), "sequence.unmatched_tool_completed");
}

#[test]
fn tool_left_open_is_reported() {
    let events = vec![
        started(),
        thinking(LONG_A),
        thinking(LONG_B),
        executing("t1"),
        completed(),
    ];
    assert_eq!(violation(&events).kind(), "sequence.tool_left_open");
}

#[test]
fn missing_result_is_reported() {
    let mut events = valid();
    events[4] = ev(
        "tool_completed",
        json!({"tool_name": "cost_analyzer", "tool_call_id": "t1"}),
    );
    let v = violation(&events);
    assert_eq!(
        v,
        Violation::MissingField {
            event: "tool_completed".into(),
            field: "result".into()
        }
    );

    let mut events = valid();
    events[5] = ev("agent_completed", json!({"status": "success"}));
    assert_eq!(violation(&events).kind(), "sequence.missing_field");

    let mut events = valid();
    events[3] = ev("tool_executing", json!({"tool_name": "cost_analyzer"}));
    assert!(violation(&events).to_string().contains("parameters"));

    let v = violation(&[ev("agent_started", json!({}))]);
    assert!(v.to_string().contains("agent name"), "{v}");
}

#[test]
fn error_event_is_reported() {
    let v = violation(&[
        started(),
        ev("agent_error", json!({"message": "LLM quota exceeded"})),
    ]);
    assert_eq!(
        v,
        Violation::AgentError {
            message: "LLM quota exceeded".into()
        }
    );
    assert_eq!(v.kind(), "agent.error");

    let mut events = valid();
    events[5] = ev(
        "agent_completed",
        json!({"status": "failed", "result": {}, "error": "boom"}),
    );
    // An empty result object is no result.
    assert_eq!(violation(&events).kind(), "sequence.missing_field");
    events[5] = ev(
        "agent_completed",
        json!({"status": "failed", "result": {"x": 1}, "error": "boom"}),
    );
    assert_eq!(violation(&events).kind(), "agent.error");
}

#[test]
fn funnel_records_reached_events() {
    let mut checker = SequenceChecker::new(SequenceRules::default());
    for e in &valid()[..3] {
        checker.observe(e);
    }
    let reached: Vec<&str> = checker.reached().iter().map(|k| k.name()).collect();
    assert_eq!(reached, ["agent_started", "agent_thinking"]);
    assert_eq!(checker.thinking_count(), 2);
}

#[test]
fn a_tool_chain_expectation_holds_in_order_with_others_between() {
    let check = |expect: &[&str]| {
        let mut checker = SequenceChecker::new(SequenceRules {
            expect_tools: expect.iter().map(|t| t.to_string()).collect(),
            ..SequenceRules::default()
        });
        let mut last = Progress::Continue;
        for e in valid() {
            last = checker.observe(&e);
        }
        last
    };
    assert_eq!(check(&["cost_analyzer"]), Progress::Completed);
    match check(&["cost_analyzer", "usage_report"]) {
        Progress::Failed(v) => {
            assert_eq!(v.kind(), "content.tool_chain");
            assert!(v.to_string().contains("usage_report"), "{v}");
        }
        other => panic!("expected a tool-chain failure, got {other:?}"),
    }
}
