use super::*;
use crate::onboarding::probe::section::verdict;
use serde_json::json;

fn frames(incoming: &[Value], start: Value) -> (Vec<Frame>, usize) {
    let mut all = vec![Frame {
        at_ms: 0.0,
        incoming: true,
        value: json!({"type": "connection_established", "data": {"user_id": "u0"}}),
    }];
    all.push(Frame {
        at_ms: 1.0,
        incoming: false,
        value: start,
    });
    let start = all.len() - 1;
    all.extend(incoming.iter().enumerate().map(|(i, v)| Frame {
        at_ms: 10.0 * (i + 2) as f64,
        incoming: true,
        value: v.clone(),
    }));
    (all, start)
}

const THOUGHT: &str =
    "Step: examining the request, reviewing spend by service and usage patterns carefully.";

#[test]
fn renamed_events_are_aliased_by_name_and_the_section_checks_the_run() {
    let run = [
        json!({"type": "run_begin", "run_id": "r1", "data": {"agent_name": "a"}}),
        json!({"type": "reasoning_step", "run_id": "r1", "data": {"thought": THOUGHT}}),
        json!({"type": "reasoning_step", "run_id": "r1", "data": {"thought": format!("{THOUGHT} 2")}}),
        json!({"type": "tool_call", "run_id": "r1", "data": {"tool_name": "t", "parameters": {"x": 1}}}),
        json!({"type": "tool_result", "run_id": "r1", "data": {"tool_name": "t", "result": {"y": 2}}}),
        json!({"type": "run_finished", "run_id": "r1", "data": {"status": "success", "result": {"z": 3}}}),
    ];
    let (frames, start) = frames(
        &run,
        json!({"type": "start_agent", "payload": {"run_id": "r1"}}),
    );
    let probed = Probed {
        frames,
        start,
        run_id: "r1".into(),
        profile: "reference".into(),
        handshake: None,
    };
    let p = propose(&probed);
    let aliases: Vec<(&str, &str)> = p
        .aliases
        .iter()
        .map(|(w, (o, _))| (w.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        aliases,
        vec![
            ("reasoning_step", "agent_thinking"),
            ("run_begin", "agent_started"),
            ("run_finished", "agent_completed"),
            ("tool_call", "tool_executing"),
            ("tool_result", "tool_completed"),
        ]
    );
    assert_eq!(p.welcome.as_deref(), Some("connection_established"));
    assert_eq!(p.server_assigns_run_id, None);
    assert_eq!(verdict(&p, &probed).unwrap().len(), 6, "{}", p.toml());
    // Without the aliases the run does not check.
    let bare = Proposal {
        aliases: BTreeMap::new(),
        ..p
    };
    assert!(verdict(&bare, &probed).is_err());
}

#[test]
fn wrappers_and_a_server_named_run_are_found() {
    let run = [
        json!({"type": "agent_started", "run_id": "srv-9", "agent_name": "a", "timestamp": "2026-01-01T00:00:00Z"}),
        json!({"type": "heartbeat", "data": {"connection_id": "c"}}),
        json!({"type": "agent_thinking", "run_id": "srv-9", "reasoning": THOUGHT}),
        json!({"type": "deep_frame", "event": "agent_thinking", "run_id": "srv-9", "payload": {"reasoning": format!("{THOUGHT} 2")}}),
        json!({"type": "step_wrapper", "data": {"event": "tool_executing", "run_id": "srv-9", "payload": {"tool_name": "t", "parameters": {"a": 1}}}}),
        json!({"type": "tool_completed", "run_id": "srv-9", "tool_name": "t", "result": {"b": 2}}),
        json!({"type": "agent_completed", "run_id": "srv-9", "status": "success", "result": {"c": 3}}),
    ];
    let (frames, start) = frames(
        &run,
        json!({"type": "start_agent", "payload": {"run_id": "mine"}}),
    );
    let probed = Probed {
        frames,
        start,
        run_id: "mine".into(),
        profile: "reference".into(),
        handshake: None,
    };
    let p = propose(&probed);
    assert!(
        p.wrappers.contains(&"deep_frame".to_string())
            && p.wrappers.contains(&"step_wrapper".to_string()),
        "{:?}",
        p.wrappers
    );
    assert_eq!(p.server_assigns_run_id.as_ref().map(|s| s.0), Some(true));
    assert!(p.aliases.is_empty(), "{:?}", p.aliases);
    verdict(&p, &probed).unwrap_or_else(|e| panic!("{e}\n{}", p.toml()));
    assert!(p.protocol().is_ok(), "{}", p.toml());
}
