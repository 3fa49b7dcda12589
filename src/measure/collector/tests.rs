use super::timeline::{window_stats, Gathered};
use super::*;
use crate::client::protocol::EventKind;
use crate::model::metrics::Latency;
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
            turn: None,
            trace: Default::default(),
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
            turn: None,
            trace: Default::default(),
        },
    );
    let s = c.snapshot();
    assert_eq!(
        s.runs,
        RunCounts {
            started: 2,
            completed: 1,
            failed: 1,
            resumed: 0,
            interrupted: 0
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
                turn: None,
                trace: Default::default(),
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
        c.run_finished(user, plain_run(ms, ok));
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
        turn: None,
        trace: Default::default(),
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

/// A run of `ms` milliseconds without events, failed when `!ok`.
fn plain_run(ms: u64, ok: bool) -> RunOutcome {
    RunOutcome {
        failure: (!ok).then(|| Failure::new("transport.timeout", "x")),
        reached: BTreeSet::new(),
        timeline: vec![],
        elapsed: Duration::from_millis(ms),
        final_data: None,
        scenario: 0,
        turn: None,
        trace: Default::default(),
    }
}

/// A run at `ended_secs` of `ms` milliseconds, failed when `!ok`.
fn run_at(c: &Collector, user: usize, ended_secs: f32, ms: u64, ok: bool) -> RunRecord {
    c.run_ended_at(user, plain_run(ms, ok), ended_secs);
    RunRecord {
        ended_secs,
        elapsed_ms: Duration::from_millis(ms).as_secs_f32() * 1000.0,
        ok,
    }
}

/// Six hours at 10 runs a second (three users throughout, a fourth at 25 a second for the
/// first 1,000 s only), every run also kept here to compare with.
fn long_test() -> (Collector, Vec<RunRecord>) {
    let c = Collector::default();
    let mut all = Vec::new();
    for i in 0..216_000u32 {
        let at = i as f32 / 10.0;
        let ms = 40 + u64::from(i.wrapping_mul(2_654_435_761) % 900);
        all.push(run_at(&c, (i % 3) as usize, at, ms, i % 13 != 0));
        if at < 1_000.0 {
            for k in 0..3 {
                let ms = 100 + u64::from((i * 3 + k) % 50);
                all.push(run_at(
                    &c,
                    3,
                    at + k as f32 / 30.0,
                    ms,
                    k != 2 || i % 2 == 0,
                ));
            }
        }
    }
    (c, all)
}

fn exact_window(all: &[RunRecord], from: f64, to: f64) -> WindowStats {
    let mut runs = Gathered::default();
    all.iter()
        .filter(|r| (from..to).contains(&f64::from(r.ended_secs)))
        .for_each(|r| runs.record(r));
    window_stats(runs, to - from)
}

#[test]
fn a_long_test_keeps_a_bounded_log_and_exact_counts() {
    let (c, all) = long_test();
    for shard in &c.shards {
        let log = shard.lock().unwrap().log.len();
        assert!(log <= folded::FOLD_AT, "{log}");
    }
    let total = c.folded.lock().unwrap().clone();
    assert!(total.tallies.len() <= folded::MAX_BUCKETS);
    // A tally holds one pair per histogram bucket its run times fall in: the workload's
    // times are whole milliseconds from 40 to 939, so at most 900 whatever its length.
    for t in &total.tallies {
        assert!(t.times.len() <= 900, "{}", t.times.len());
    }
    assert!(total.width > 1, "six hours coarsen the tallies");
    // The timeline is the one the unfolded records give, point by point (its percentiles
    // come from histograms either way, and folding keeps every run's bucket).
    let s = c.snapshot();
    let unfolded = Folded {
        width: total.width,
        tallies: Vec::new(),
    };
    let (bucket, expected) = timeline(&all, &unfolded);
    assert_eq!(s.timeline_bucket_secs, bucket);
    assert_eq!(s.timeline, expected);
    let runs: u64 = s
        .timeline
        .iter()
        .map(|p| p.runs_completed + p.runs_failed)
        .sum();
    assert_eq!(runs, all.len() as u64);
    assert_eq!(s.runs.started, all.len() as u64);
}

#[test]
fn windows_over_folded_seconds_count_exactly() {
    let (c, all) = long_test();
    let width = c.folded.lock().unwrap().width as f64;
    // The kept seconds: records only, every figure exact.
    let end = c.shards[0].lock().unwrap().log.last().unwrap().ended_secs as f64;
    let recent = (end - 60.0).floor();
    let (got, exact) = (
        c.window(recent, end + 1.0),
        exact_window(&all, recent, end + 1.0),
    );
    // Summed in another order: the mean may differ in its last bits.
    assert!((got.mean_ms.unwrap() - exact.mean_ms.unwrap()).abs() < 1e-9);
    let exact = WindowStats {
        mean_ms: got.mean_ms,
        ..exact
    };
    assert_eq!(got, exact);
    // Folded seconds, on the tallies' bounds: exact counts and mean, percentiles to the
    // histogram's 3 significant figures.
    for (from, to) in [(0.0, 1_024.0), (width * 10.0, width * 40.0)] {
        let (got, exact) = (c.window(from, to), exact_window(&all, from, to));
        assert_eq!(
            (got.runs, got.completed, got.failed),
            (exact.runs, exact.completed, exact.failed)
        );
        assert!(got.runs > 0);
        assert_eq!(got.runs_per_sec, exact.runs_per_sec);
        let relative = (got.mean_ms.unwrap() - exact.mean_ms.unwrap()) / exact.mean_ms.unwrap();
        assert!(relative.abs() < 1e-9, "{got:?} {exact:?}");
        // The percentiles are those of a histogram of the window's runs.
        let mut hist = Latency::default();
        all.iter()
            .filter(|r| r.ok && (from..to).contains(&f64::from(r.ended_secs)))
            .for_each(|r| hist.record(r.elapsed()));
        let q = |q: f64| hist.quantile_ms(q);
        assert_eq!(
            (got.p50_ms, got.p95_ms, got.p99_ms),
            (q(0.50), q(0.95), q(0.99))
        );
    }
}

/// Users fold their shard's oldest runs while windows are read: a window never counts a run
/// twice (in a log and in a tally) nor misses one on its way between them.
#[test]
fn folding_while_windows_are_read_neither_doubles_nor_drops_a_run() {
    use std::sync::atomic::AtomicU32;
    const RUNS: u32 = 60_000;
    let c = Collector::default();
    // How many runs each user has recorded; run i ends at i / 10 seconds.
    let progress: Vec<AtomicU32> = (0..4).map(|_| AtomicU32::new(0)).collect();
    let mut checked = 0;
    std::thread::scope(|scope| {
        for (user, recorded) in progress.iter().enumerate() {
            let c = &c;
            scope.spawn(move || {
                for i in 0..RUNS {
                    run_at(
                        c,
                        user,
                        i as f32 / 10.0,
                        50 + u64::from(i % 300),
                        i % 9 != 0,
                    );
                    recorded.store(i + 1, Ordering::SeqCst);
                }
            });
        }
        // Once every user is past 1,024 s, the first 1,024 s (a whole number of tallies of
        // any width up to 1,024 s) hold exactly 10,240 runs of each, however the logs and
        // tallies share them at the moment.
        // A read holds every shard: one per 400 runs recorded, so the users keep going.
        let recorded = || {
            progress
                .iter()
                .map(|p| p.load(Ordering::SeqCst))
                .sum::<u32>()
        };
        let mut next_read = 0;
        while progress.iter().any(|p| p.load(Ordering::SeqCst) < RUNS) {
            if recorded() < next_read {
                std::thread::yield_now();
                continue;
            }
            next_read = recorded() + 400;
            if progress.iter().all(|p| p.load(Ordering::SeqCst) > 10_240) {
                assert_eq!(c.window(0.0, 1_024.0).runs, 40_960);
                checked += 1;
            }
        }
    });
    assert!(checked > 0, "no window was read while the users ran");
    assert!(!c.folded.lock().unwrap().is_empty(), "the users folded");
    assert_eq!(c.window(0.0, 1_024.0).runs, 40_960);
    assert_eq!(c.window(0.0, f64::MAX).runs, 4 * u64::from(RUNS));
}
