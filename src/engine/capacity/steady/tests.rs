use super::*;
use crate::model::hold::HoldSample;
use crate::model::metrics::Latency;
use std::time::Duration;

/// A histogram of `n` run times spread evenly around `ms` (±20%).
fn times(ms: f64, n: usize) -> Option<String> {
    let mut h = Latency::default();
    for i in 0..n {
        let x = ms * (0.8 + 0.4 * i as f64 / n as f64);
        h.record(Duration::from_secs_f64(x / 1000.0));
    }
    Some(h.encode())
}

/// A 60 s hold sampled every second: in flight and sessions open go linearly from `a` to `b`,
/// runs begun at `begun`/s and ended at `ended`/s, run times around `p95s` in each half.
fn hold(
    in_flight: (f64, f64),
    sessions: (f64, f64),
    begun: f64,
    ended: f64,
    p95s: (f64, f64),
) -> HoldFigures {
    let secs = 60.0;
    let samples = (1..=60)
        .map(|i| {
            let t = f64::from(i);
            let x = t / secs;
            HoldSample {
                at_secs: t,
                runs_begun: (begun * t) as u64,
                runs_ended: (ended * t) as u64,
                in_flight: (in_flight.0 + (in_flight.1 - in_flight.0) * x).round() as u64,
                sessions_open: (sessions.0 + (sessions.1 - sessions.0) * x).round() as u64,
            }
        })
        .collect();
    HoldFigures {
        secs,
        samples,
        run_halves: [times(p95s.0 / 1.2, 700), times(p95s.1 / 1.2, 700)],
        first_turn_halves: [None, None],
        sessions_arrived: 0,
    }
}

fn open_expect(rate: f64, mean_turns: f64) -> Expect {
    Expect {
        offered_runs_per_sec: Some(rate * mean_turns),
        rate: Some(rate),
        // Turns 3..8: E[N²] / E[N]² = 33.17 / 30.25.
        turns_dispersion: 33.17 / 30.25,
        session_secs: Some(34.0),
        run_p95_limit_ms: Some(1000.0),
        first_turn_p95_limit_ms: None,
    }
}

#[test]
fn a_steady_hold_is_judged_on_its_sla() {
    // 4.3 sessions/s of 5.5 turns: 23.65 runs/s begun and ended, 12 in flight, 146 sessions.
    let h = hold((12.0, 12.0), (146.0, 148.0), 23.65, 23.6, (600.0, 640.0));
    let s = steadiness(&h, &open_expect(4.3, 5.5));
    assert!(s.steady, "{s:?}");
    assert_eq!(
        decide(&s, None, false, 60.0, 15.0, 180.0, None),
        Decision::Judge
    );
    // Steady and over the SLA: the SLA decides (a fail, not an extension).
    assert_eq!(
        decide(
            &s,
            Some("agent run p95: 1200.0 > 1000.0"),
            false,
            60.0,
            15.0,
            180.0,
            None
        ),
        Decision::Judge
    );
}

#[test]
fn the_transient_that_passed_at_five_94_per_s_is_not_steady() {
    // The step that passed at 5.94/s: sessions still filling (a session lasts ~100 s, the
    // ramp and hold 105 s), 20.7 runs/s begun of the 32.7 the rate offers, P95 520 ms.
    let h = hold((8.0, 9.0), (420.0, 540.0), 20.7, 20.5, (500.0, 540.0));
    let mut expect = open_expect(5.94, 5.5);
    expect.session_secs = Some(100.0);
    let s = steadiness(&h, &expect);
    assert!(!s.steady && s.worsening, "{s:?}");
    let text = s.moved.join("; ");
    assert!(text.contains("runs began 20.7/s of the 32.7/s"), "{text}");
    assert!(text.contains("sessions open"), "{text}");
    // Within the SLA: held longer while there is room, never passed.
    assert!(matches!(
        decide(&s, None, false, 60.0, 15.0, 180.0, None),
        Decision::Extend(_)
    ));
    match decide(&s, None, false, 180.0, 15.0, 180.0, None) {
        Decision::NotSustainable(why) => {
            assert!(
                why.starts_with("not steady after 180 s held: sessions open 451 → 511"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_growing_queue_that_breaks_the_sla_fails_at_once() {
    let h = hold((12.0, 85.0), (150.0, 220.0), 30.0, 25.8, (900.0, 2400.0));
    let s = steadiness(&h, &open_expect(5.5, 5.5));
    assert!(!s.steady && s.worsening);
    let why = match decide(
        &s,
        Some("agent run p95: 1840.0 > 1000.0"),
        false,
        30.0,
        15.0,
        180.0,
        None,
    ) {
        Decision::NotSustainable(why) => why,
        other => panic!("{other:?}"),
    };
    assert!(why.contains("runs in flight 31 → 67"), "{why}");
    assert!(why.contains("runs ended 25.8/s of 30.0/s begun"), "{why}");
    assert!(why.ends_with("and agent run p95: 1840.0 > 1000.0"), "{why}");
}

#[test]
fn a_queue_still_draining_is_held_longer_even_over_the_sla() {
    // After a failed step: in flight falling, P95 falling, runs ending faster than begun.
    let h = hold((60.0, 14.0), (200.0, 150.0), 22.0, 23.0, (2400.0, 700.0));
    let s = steadiness(&h, &open_expect(4.0, 5.5));
    assert!(!s.steady && !s.worsening, "{s:?}");
    assert!(matches!(
        decide(
            &s,
            Some("agent run p95: 1600.0 > 1000.0"),
            false,
            60.0,
            15.0,
            180.0,
            None
        ),
        Decision::Extend(_)
    ));
}

#[test]
fn a_hold_that_ends_more_runs_than_it_begins_is_draining_not_steady() {
    // A queue left by the step before: in flight and P95 barely move within the hold, but
    // the deployment ends runs faster than the load begins them.
    let h = hold((30.0, 26.0), (150.0, 150.0), 22.0, 26.0, (300.0, 290.0));
    let s = steadiness(&h, &open_expect(4.0, 5.5));
    assert!(!s.steady && !s.worsening, "{s:?}");
    assert_eq!(
        s.moved,
        vec!["runs ended 26.0/s, more than the 22.0/s begun (a queue draining)".to_string()],
        "{s:?}"
    );
    // The same hold with runs ended as begun is steady.
    let even = hold((30.0, 26.0), (150.0, 150.0), 22.0, 22.0, (300.0, 290.0));
    assert!(steadiness(&even, &open_expect(4.0, 5.5)).steady);
}

#[test]
fn a_closed_hold_has_no_offered_load_and_the_same_checks() {
    let closed = Expect {
        run_p95_limit_ms: Some(350.0),
        ..Default::default()
    };
    let flat = hold((6.0, 6.0), (0.0, 0.0), 19.0, 19.0, (320.0, 330.0));
    assert!(steadiness(&flat, &closed).steady);
    let growing = hold((6.0, 6.0), (0.0, 0.0), 19.0, 19.0, (320.0, 520.0));
    let s = steadiness(&growing, &closed);
    assert_eq!(
        s.moved,
        vec!["run-time P95 315 → 511 ms".to_string()],
        "{s:?}"
    );
}

#[test]
fn a_steady_look_near_the_ceiling_counts_only_after_the_queue_could_settle() {
    let h = hold((12.0, 12.0), (146.0, 148.0), 23.65, 23.6, (600.0, 640.0));
    let s = steadiness(&h, &open_expect(4.3, 5.5));
    assert!(s.steady);
    let settle = Some((101.0, "at 98% of the 25.8 runs/s it completed at most"));
    assert_eq!(
        decide(&s, None, false, 60.0, 15.0, 180.0, settle),
        Decision::Extend(
            "at 98% of the 25.8 runs/s it completed at most, a queue takes ~101 s to settle".into()
        )
    );
    assert_eq!(
        decide(&s, None, false, 105.0, 15.0, 180.0, settle),
        Decision::Judge
    );
    match decide(&s, None, false, 60.0, 15.0, 60.0, settle) {
        Decision::NotSustainable(why) => assert_eq!(
            why,
            "at 98% of the 25.8 runs/s it completed at most, a queue takes ~101 s to settle: \
             more than the 60 s a step may be held"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_figure_near_its_limit_is_held_longer_while_there_is_room() {
    let h = hold((12.0, 12.0), (146.0, 148.0), 23.65, 23.6, (900.0, 940.0));
    let s = steadiness(&h, &open_expect(4.3, 5.5));
    assert!(s.steady);
    assert_eq!(
        decide(&s, None, true, 60.0, 15.0, 180.0, None),
        Decision::Extend("steady, and near the SLA's limit".into())
    );
    // No room: judged as it is.
    assert_eq!(
        decide(&s, None, true, 180.0, 15.0, 180.0, None),
        Decision::Judge
    );
    let sla: crate::plan::Sla = toml::from_str("agent_run_p95 = \"1s\"").unwrap();
    let step = |p95: f64| StepResult {
        p95_ms: Some(p95),
        ..Default::default()
    };
    assert!(near_limit(&sla, &step(900.0)) && near_limit(&sla, &step(1140.0)));
    assert!(!near_limit(&sla, &step(800.0)) && !near_limit(&sla, &step(1200.0)));
}

/// An 8 s hold looked at every 250 ms: each half's looks at `in_flight` and `sessions` runs
/// in flight and sessions open, 7.5 runs/s begun and ended.
fn short_hold(in_flight: [u64; 2], sessions: [u64; 2]) -> HoldFigures {
    let samples = (1..=32)
        .map(|i| {
            let t = f64::from(i) / 4.0;
            let half = usize::from(t > 4.0);
            HoldSample {
                at_secs: t,
                runs_begun: (7.5 * t) as u64,
                runs_ended: (7.5 * t) as u64,
                in_flight: in_flight[half],
                sessions_open: sessions[half],
            }
        })
        .collect();
    HoldFigures {
        secs: 8.0,
        samples,
        run_halves: [times(1000.0, 30), times(1000.0, 30)],
        first_turn_halves: [None, None],
        sessions_arrived: 0,
    }
}

#[test]
fn runs_in_flight_that_swing_as_a_steady_count_does_are_not_a_queue() {
    // 3.75 sessions/s of 2 turns, ~1 s a run: 7.5 runs in flight on average. Over an 8 s hold,
    // a half holds four independent looks: "9 → 6" is within 3σ (3.9), and was refused once.
    let mut expect = open_expect(3.75, 2.0);
    expect.turns_dispersion = 1.0;
    expect.session_secs = Some(4.0);
    let s = steadiness(&short_hold([9, 6], [30, 30]), &expect);
    assert!(s.steady, "{s:?}");
    // Runs in flight that follow the sessions open are the sessions' swing, judged there.
    let s = steadiness(&short_hold([12, 6], [40, 20]), &expect);
    assert!(
        !s.moved.iter().any(|m| m.starts_with("runs in flight")),
        "{s:?}"
    );
    // A queue growing past the noise is still seen.
    let s = steadiness(&short_hold([5, 17], [30, 30]), &expect);
    assert!(!s.steady && s.worsening, "{s:?}");
    assert_eq!(s.moved[0], "runs in flight 5 → 17");
}
