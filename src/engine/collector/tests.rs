use super::*;
use crate::engine::protocol::EventKind;
use std::collections::BTreeSet;

#[test]
fn outcomes_add_up() {
    let c = Collector::default();
    let reached: BTreeSet<EventKind> = REQUIRED.iter().cloned().collect();
    let ms = Duration::from_millis;
    c.run_finished(
        0,
        RunOutcome {
            failure: None,
            reached,
            timeline: vec![
                ("agent_started".into(), ms(10)),
                ("agent_thinking".into(), ms(30)),
                ("agent_thinking".into(), ms(30)),
            ],
            elapsed: ms(30),
            final_data: None,
            scenario: 0,
        },
    );
    c.run_finished(
        1,
        RunOutcome {
            failure: Some(Failure::new(
                "transport.timeout",
                "no agent_completed in 5s",
            )),
            reached: BTreeSet::from([EventKind::AgentStarted]),
            timeline: vec![
                ("agent_started".into(), ms(12)),
                ("agent_thinking".into(), ms(12)),
            ],
            elapsed: ms(5000),
            final_data: None,
            scenario: 0,
        },
    );
    let s = c.snapshot();
    assert_eq!(
        s.runs,
        RunCounts {
            started: 2,
            completed: 1,
            failed: 1,
            resumed: 0
        }
    );
    assert_eq!(s.events["agent_thinking"], 3);
    assert_eq!(s.funnel[0], ("agent_started".to_string(), 2));
    assert_eq!(s.funnel[4], ("agent_completed".to_string(), 1));
    assert_eq!(s.failures["transport.timeout"].count, 1);
    let run = s.latency.agent_run.as_ref().unwrap();
    assert_eq!(run.stats.count, 1, "only completed runs count");
    assert_eq!(s.latency.from_start["agent_started"].stats.count, 2);
    let gap = &s.latency.gap_before["agent_thinking"].stats;
    assert!((gap.max_ms - 20.0).abs() < 0.05, "{gap:?}");
    assert!((s.latency.run_span.as_ref().unwrap().stats.p50_ms - 20.0).abs() < 0.05);
}

#[test]
fn result_checks_aggregate() {
    let check: ResultCheck = toml::from_str(
        "name = \"savings\"\npath = \"result.monthly_savings\"\nop = \">=\"\nvalue = 5000",
    )
    .unwrap();
    let c = Collector::new(vec![check]);
    for (user, savings) in [(0, 4000.0), (1, 6000.0), (2, 9000.0)] {
        let data = serde_json::json!({"result": {"monthly_savings": savings}});
        c.run_finished(
            user,
            RunOutcome {
                failure: None,
                reached: BTreeSet::new(),
                timeline: vec![],
                elapsed: Duration::from_millis(1),
                final_data: data.as_object().cloned(),
                scenario: 0,
            },
        );
    }
    let s = c.snapshot();
    let check = &s.checks[0];
    assert_eq!((check.runs, check.met, check.missing), (3, 2, 0));
    assert!((check.share_met_percent - 66.666).abs() < 0.01);
    let values = check.values.as_ref().unwrap();
    assert_eq!(
        (values.min, values.p50, values.max),
        (4000.0, 6000.0, 9000.0)
    );
}

#[test]
fn windows_and_timeline_count_every_run() {
    let c = Collector::default();
    for (user, ms, ok) in [(0, 100, true), (1, 300, true), (2, 200, false)] {
        c.run_finished(
            user,
            RunOutcome {
                failure: (!ok).then(|| Failure::new("transport.timeout", "x")),
                reached: BTreeSet::new(),
                timeline: vec![],
                elapsed: Duration::from_millis(ms),
                final_data: None,
                scenario: 0,
            },
        );
    }
    let w = c.window(0.0, c.now_secs() + 1.0);
    assert_eq!((w.runs, w.completed, w.failed), (3, 2, 1));
    assert_eq!(w.p95_ms, Some(300.0));
    assert!((w.error_rate_percent - 33.33).abs() < 0.01);
    assert_eq!(c.window(1e6, 2e6).runs, 0);
    let s = c.snapshot();
    let total: u64 = s
        .timeline
        .iter()
        .map(|p| p.runs_completed + p.runs_failed)
        .sum();
    assert_eq!(total, 3);
    assert_eq!(s.timeline_bucket_secs, 1.0);
}

/// The shards are an implementation detail: the same runs give the same figures whether one
/// user ran them all (one shard) or 48 users did (every shard).
#[test]
fn sharding_does_not_change_the_figures() {
    let ms = Duration::from_millis;
    let outcome = |i: u64| RunOutcome {
        failure: (i % 7 == 0).then(|| Failure::new("sequence.missing_event", "no thinking")),
        reached: REQUIRED
            .iter()
            .take(2 + (i % 4) as usize)
            .cloned()
            .collect(),
        timeline: vec![
            ("agent_started".into(), ms(5 + i % 13)),
            ("agent_thinking".into(), ms(40 + i % 31)),
            ("agent_completed".into(), ms(90 + i % 97)),
        ],
        elapsed: ms(90 + i % 97),
        final_data: None,
        scenario: 0,
    };
    let one_user = Collector::default();
    let many_users = Collector::default();
    for i in 0..480u64 {
        one_user.run_finished(0, outcome(i));
        many_users.run_finished(i as usize % 48, outcome(i));
    }
    let (a, b) = (one_user.snapshot(), many_users.snapshot());
    assert_eq!(a.runs, b.runs);
    assert_eq!(a.failures["sequence.missing_event"].count, 69);
    assert_eq!(
        a.failures["sequence.missing_event"].count,
        b.failures["sequence.missing_event"].count
    );
    assert_eq!(a.events, b.events);
    assert_eq!(a.funnel, b.funnel);
    for (x, y) in [
        (&a.latency.agent_run, &b.latency.agent_run),
        (
            &a.latency.time_to_first_event,
            &b.latency.time_to_first_event,
        ),
        (&a.latency.run_span, &b.latency.run_span),
    ] {
        let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
        assert_eq!(x.stats.count, y.stats.count);
        assert_eq!(x.stats.p50_ms, y.stats.p50_ms);
        assert_eq!(x.stats.p99_ms, y.stats.p99_ms);
        assert_eq!(x.stats.max_ms, y.stats.max_ms);
    }
    for name in ["agent_started", "agent_thinking", "agent_completed"] {
        assert_eq!(
            a.latency.gap_before[name].stats.p95_ms,
            b.latency.gap_before[name].stats.p95_ms
        );
    }
    assert_eq!(a.timeline.len(), b.timeline.len());
}
