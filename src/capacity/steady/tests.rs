use super::*;
use crate::model::hold::{HoldFigures, HoldSample, Steadiness};

/// `n` run times (ms) spread evenly around `ms` (±20%).
pub(super) fn times(ms: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| ms * (0.8 + 0.4 * i as f64 / n as f64))
        .collect()
}

/// Judges a hold as kept (its runs decoded from its slices).
pub(super) fn steadiness(hold: &HoldFigures, expect: &Expect) -> Steadiness {
    let runs = crate::capacity::interval::HoldRuns {
        runs: HoldFigures::decode(&hold.run_slices),
        first_turns: HoldFigures::decode(&hold.first_turn_slices),
    };
    super::steadiness(hold, &runs, expect)
}

/// `slices` one-second slices of `per_slice` runs each around `ms` in the first half and
/// around `ms2` in the second, encoded as a hold keeps them.
pub(super) fn sliced(slices: usize, per_slice: usize, ms: f64, ms2: f64) -> Vec<String> {
    let all: Vec<Vec<f64>> = (0..slices)
        .map(|i| times(if i < slices / 2 { ms } else { ms2 }, per_slice))
        .collect();
    HoldFigures::encode(&all)
}

/// A look at `st` held `held` of at most `max_hold` seconds (looks every 15 s), the load
/// having risen to its level: nothing broken, near, settling, futile or provisional.
pub(super) fn look<'a>(st: &'a Steadiness, shown: &'a Shown, held: f64, max_hold: f64) -> Look<'a> {
    Look {
        steadiness: st,
        shown,
        broken: None,
        near: false,
        approach: Approach::Rising,
        held,
        next: 15.0,
        max_hold,
        settle: None,
        min_pass: 0.0,
        futile: false,
        provisional: false,
        carried: None,
        knee_resolution: None,
    }
}

/// Decides on `look` with `broken`, `near` and `settle` as given.
fn decide_on(
    st: &Steadiness,
    shown: &Shown,
    broken: Option<&str>,
    near: bool,
    held: f64,
    max_hold: f64,
    settle: Option<(f64, &str)>,
) -> Decision {
    decide(&Look {
        broken,
        near,
        settle,
        ..look(st, shown, held, max_hold)
    })
}

/// A 60 s hold sampled every second: in flight and sessions open go linearly from `a` to `b`,
/// runs begun at `begun`/s and ended at `ended`/s, run times around `p95s` in each half.
pub(super) fn hold(
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
        run_slices: sliced(60, 24, p95s.0 / 1.2, p95s.1 / 1.2),
        first_turn_slices: Vec::new(),
        sessions_arrived: 0,
    }
}

pub(super) fn open_expect(rate: f64, mean_turns: f64) -> Expect {
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
        decide_on(&s, &Shown::Within, None, false, 20.0, 180.0, None),
        Decision::Judge
    );
    // Shown within, but held less than half a step_hold: held on (a queue not yet filled
    // reads short).
    let early = Look {
        min_pass: 30.0,
        ..look(&s, &Shown::Within, 20.0, 180.0)
    };
    assert!(matches!(decide(&early), Decision::Extend(_)));
    // Shown over the SLA: the SLA decides (a fail, not an extension), however early.
    let over = Shown::Over("agent run p95: 1,180–1,240 ms > 1,000 ms".into());
    assert_eq!(
        decide_on(
            &s,
            &over,
            Some("agent run p95: 1200.0 > 1000.0"),
            false,
            10.0,
            180.0,
            None
        ),
        Decision::Judge
    );
    // Its interval straddling the limit: held longer while there is room, then not shown.
    let unsure = Shown::Unsure("agent run p95: 880–1,120 ms, not shown within 1,000 ms".into());
    assert_eq!(
        decide_on(&s, &unsure, None, true, 60.0, 180.0, None),
        Decision::Extend("agent run p95: 880–1,120 ms, not shown within 1,000 ms".into())
    );
    assert_eq!(
        decide_on(&s, &unsure, None, true, 180.0, 180.0, None),
        Decision::Judge
    );
}

#[test]
fn a_rising_load_shown_over_the_sla_fails_even_before_it_is_steady() {
    // Its queue still filling: run times only grow from here.
    let h = hold((12.0, 20.0), (146.0, 148.0), 23.65, 23.0, (900.0, 1500.0));
    let s = steadiness(&h, &open_expect(4.3, 5.5));
    assert!(!s.steady, "{s:?}");
    let over = Shown::Over("agent run p95: 1,180–1,640 ms > 1,000 ms".into());
    assert_eq!(
        decide_on(&s, &over, None, true, 20.0, 180.0, None),
        Decision::Judge
    );
    // Falling to this level (a heavier level's queue draining), not yet: it may still hold.
    let falling = Look {
        near: true,
        approach: Approach::Falling,
        min_pass: 30.0,
        ..look(&s, &over, 20.0, 180.0)
    };
    assert!(matches!(decide(&falling), Decision::Extend(_)));
    // And a draining queue shown within the SLA passes at once: its run times only fall.
    let within = Look {
        shown: &Shown::Within,
        ..falling
    };
    assert_eq!(decide(&within), Decision::Judge);
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
    // Shown within the SLA: held longer while there is room, never passed.
    assert!(matches!(
        decide_on(&s, &Shown::Within, None, false, 60.0, 180.0, None),
        Decision::Extend(_)
    ));
    match decide_on(&s, &Shown::Within, None, false, 180.0, 180.0, None) {
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
fn the_hold_that_passed_at_4_5_per_s_short_of_its_offer_stands_for_what_it_carried() {
    // People's think times: 4.5/s offers 24.75 runs/s; the hold began 22.4 (9.6% short) with
    // sessions of ~118 s. Within a steady system's noise over a minute (sessions open are a
    // Poisson count of ~530: ±4.3%, and they stay for two minutes), so not unsteady: but
    // what it showed, it showed of the load it carried, 22.4 / 5.5 = 4.07 sessions/s, and of
    // one state of the sessions' slow swing: it stands for 4.07 less 0.7 of that swing.
    let h = hold((14.0, 15.0), (520.0, 526.0), 22.4, 22.4, (560.0, 600.0));
    let mut expect = open_expect(4.5, 5.5);
    expect.session_secs = Some(118.0);
    let s = steadiness(&h, &expect);
    assert!(s.steady, "{s:?}");
    let carried = s.runs_begun_per_sec / 5.5;
    let slow = s.slow_sd.unwrap();
    // 1 / √(4.5 × 118): 4.3%.
    assert!((slow - 0.043).abs() < 0.002, "{slow}");
    let mut step = StepResult {
        rate: Some(4.5),
        carried_rate: Some(carried),
        passed: true,
        steadiness: Some(s),
        ..Default::default()
    };
    let shown = 4.07 * (1.0 - crate::model::capacity::MIXTURE_SIGMAS * slow);
    assert!(
        (step.shown_level() - shown).abs() < 0.01,
        "{}",
        step.shown_level()
    );
    assert!(step.shown_level() < 4.0);
    // One that carried more than its rate stands for its rate at most; a failure, and a
    // provisional pass, for their rate.
    step.carried_rate = Some(4.8);
    assert_eq!(step.shown_level(), 4.5);
    step.carried_rate = Some(4.0);
    step.provisional = true;
    assert_eq!(step.shown_level(), 4.5);
    step.provisional = false;
    step.passed = false;
    assert_eq!(step.shown_level(), 4.5);
}

#[test]
fn a_growing_queue_that_breaks_the_sla_fails_at_once() {
    let h = hold((12.0, 85.0), (150.0, 220.0), 30.0, 25.8, (900.0, 2400.0));
    let s = steadiness(&h, &open_expect(5.5, 5.5));
    assert!(!s.steady && s.worsening);
    let unsure = Shown::Unsure("agent run p95: 900 ms – unbounded, not shown".into());
    let why = match decide_on(
        &s,
        &unsure,
        Some("agent run p95: 1840.0 > 1000.0"),
        false,
        30.0,
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
    assert_eq!(s.moved.len(), 1, "{s:?}");
    assert!(s.moved[0].starts_with("run-time P95 3"), "{s:?}");
}

#[test]
fn a_steady_look_near_the_ceiling_counts_only_after_the_queue_could_settle() {
    let h = hold((12.0, 12.0), (146.0, 148.0), 23.65, 23.6, (600.0, 640.0));
    let s = steadiness(&h, &open_expect(4.3, 5.5));
    assert!(s.steady);
    let settle = Some((101.0, "at 98% of the 25.8 runs/s it completed at most"));
    assert_eq!(
        decide_on(&s, &Shown::Within, None, false, 60.0, 180.0, settle),
        Decision::Extend(
            "at 98% of the 25.8 runs/s it completed at most, a queue takes ~101 s to settle".into()
        )
    );
    assert_eq!(
        decide_on(&s, &Shown::Within, None, false, 105.0, 180.0, settle),
        Decision::Judge
    );
    match decide_on(&s, &Shown::Within, None, false, 60.0, 60.0, settle) {
        Decision::NotSustainable(why) => assert_eq!(
            why,
            "at 98% of the 25.8 runs/s it completed at most, a queue takes ~101 s to settle: \
             more than the 60 s a step may be held"
        ),
        other => panic!("{other:?}"),
    }
}
