//! The netra platform's event layouts (netra-protocol.md §5 A–D) decode to the same typed
//! events, and a run mixing them passes the sequence checker.

use super::*;
use serde_json::json;

fn netra() -> Profile {
    Profile::builtin("netra").unwrap()
}

fn parse(v: serde_json::Value) -> AgentEvent<'static> {
    AgentEvent::parse_with(leak(v.to_string()), &netra()).unwrap()
}

const THOUGHT: &str = "Comparing reserved and on-demand spend across the three largest services.";

#[test]
fn every_layout_of_agent_started_is_the_same_event() {
    let a = parse(
        json!({"type":"agent_started","run_id":"r1","user_id":"u","agent_name":"supervisor",
                         "timestamp":"2025-09-18T00:00:00Z","data":{"status":"started","message":"m"}}),
    );
    let b = parse(
        json!({"timestamp":1.0,"critical":true,"type":"agent_started","run_id":"r1",
                         "agent_name":"supervisor","user_id":"u","thread_id":"t"}),
    );
    let c = parse(
        json!({"type":"system_message","data":{"event":"agent_started","type":"agent_started",
                         "agent_name":"supervisor","run_id":"r1"},"timestamp":1.0,"server_id":null}),
    );
    let d =
        parse(json!({"type":"agent_started","payload":{"agent_name":"supervisor","run_id":"r1"}}));
    // E: the event name at the root of a system_message, details in payload (the newest CLI).
    let e = parse(json!({"type":"system_message","event":"agent_started",
                         "payload":{"agent_name":"supervisor","run_id":"r1"}}));
    for e in [&a, &b, &c, &d, &e] {
        assert_eq!(e.kind, EventKind::AgentStarted, "{e:?}");
        assert_eq!(e.run_id.as_deref(), Some("r1"));
        assert_eq!(e.str_field("agent_name").as_deref(), Some("supervisor"));
    }
}

#[test]
fn wrapped_progress_and_completion_unwrap() {
    let thinking = parse(
        json!({"type":"agent_progress","data":{"event":"agent_thinking","reasoning":THOUGHT}}),
    );
    assert_eq!(thinking.kind, EventKind::AgentThinking);
    let tool = parse(
        json!({"type":"agent_progress","data":{"type":"tool_executing",
                            "payload":{"tool_name":"cost_analyzer","parameters":{"scope":"all"}}}}),
    );
    assert_eq!(tool.kind, EventKind::ToolExecuting);
    assert_eq!(
        tool.str_field("tool_name").as_deref(),
        Some("cost_analyzer")
    );
    let done = parse(
        json!({"type":"agent_response_complete","data":{"status":"success","content":"done"}}),
    );
    assert_eq!(done.kind, EventKind::AgentCompleted);
    assert_eq!(done.wire_name, "agent_completed");
    for name in ["agent_death", "agent_timeout_failure", "error_message"] {
        assert_eq!(
            parse(json!({"type": name})).kind,
            EventKind::Error,
            "{name}"
        );
    }
}

#[test]
fn a_run_mixing_layouts_passes_the_checker() {
    let events = [
        json!({"type":"agent_started","run_id":"r1","agent_name":"supervisor","data":{"status":"started"}}),
        json!({"type":"agent_thinking","critical":true,"reasoning":THOUGHT,"step_number":1}),
        json!({"type":"agent_progress","data":{"event":"agent_thinking",
               "payload":{"thought":"Projecting savings from rightsizing the idle compute fleet next."}}}),
        json!({"type":"tool_executing","tool_name":"cost_analyzer","data":{"parameters":{"scope":"all"}}}),
        json!({"type":"tool_completed","tool_name":"cost_analyzer","results":{"monthly_savings":9000},
               "data":{"result":{"monthly_savings":9000},"execution_time_ms":12}}),
        json!({"type":"agent_completed","status":"completed","final_response":{"monthly_savings":9000}}),
    ];
    let mut checker = SequenceChecker::new(SequenceRules::default());
    let mut last = Progress::Continue;
    for e in events {
        last = checker.observe(&parse(e));
    }
    assert_eq!(last, Progress::Completed);
}
