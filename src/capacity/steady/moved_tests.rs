//! Counts that swing as a steady system's do, and a throughput that flattened.

use super::moved::p95_moved;
use super::tests::{hold, open_expect, sliced, steadiness};
use crate::model::hold::{HoldFigures, HoldSample};

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
        run_slices: sliced(8, 8, 1000.0, 1000.0),
        first_turn_slices: Vec::new(),
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

#[test]
fn a_hold_that_completes_far_less_than_it_is_offered_has_flattened() {
    // 8/s offers 44 runs/s; the deployment completed 25.9: flattened, saturated.
    let over = hold((100.0, 180.0), (290.0, 367.0), 30.8, 25.9, (5400.0, 8200.0));
    assert!(steadiness(&over, &open_expect(8.0, 5.5)).flattened);
    // 4/s over a short hold completed 16% less than offered: within a steady count's noise
    // for 20 s of sessions of 34 s (±10% a standard deviation), not flattened.
    let mut short = hold((6.0, 6.0), (136.0, 136.0), 18.5, 18.5, (440.0, 450.0));
    short.secs = 20.0;
    short.samples.truncate(20);
    let mut expect = open_expect(4.0, 5.5);
    expect.session_secs = Some(34.0);
    assert!(!steadiness(&short, &expect).flattened);
}

#[test]
fn a_p95_that_moves_by_chance_over_few_runs_is_not_a_queue() {
    // ~150 runs a half at a few runs a second, P95 2111 → 1458 ms: the halves' runs do not
    // show a difference (the search once failed a step on it, 25% under its truth).
    let chance = |seed: u64| -> Vec<Vec<f64>> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        (0..60)
            .map(|_| {
                (0..5)
                    .map(|_| {
                        // Log-normal run times: median 700 ms, P95 ~1.6 s.
                        let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                        700.0 * (0.5 * z).exp()
                    })
                    .collect()
            })
            .collect()
    };
    let moved = (0..40)
        .filter(|seed| {
            p95_moved("run-time P95", &chance(*seed), Some(2000.0))
                .1
                .is_some()
        })
        .count();
    assert!(moved <= 2, "{moved} of 40 steady holds read as moving");
}
