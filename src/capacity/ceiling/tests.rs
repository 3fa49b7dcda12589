use super::*;

fn held(p50_ms: f64, per_sec: f64, level: f64) -> Held {
    Held {
        p50_ms: Some(p50_ms),
        per_sec,
        level,
        text: format!("{level}/s"),
        saturated: false,
    }
}

#[test]
fn the_ceiling_is_the_best_throughput_and_measured_when_its_step_saturated() {
    let steps = vec![
        held(310.0, 11.0, 2.0),
        held(320.0, 21.9, 4.0),
        held(2900.0, 25.9, 8.0),
        held(700.0, 25.7, 6.0),
    ];
    let c = ceiling(&steps).unwrap();
    assert_eq!((c.per_sec, c.at.as_str(), c.measured), (25.9, "8/s", true));
    let why = beyond(33.0, Some(&c)).unwrap();
    assert_eq!(
        why,
        "offers 33.0 runs/s, more than the 25.9 runs/s the deployment completed at most (at \
         8/s, saturated)"
    );
    // Within the measured ceiling's noise: tried.
    assert_eq!(beyond(26.2, Some(&c)), None);
    assert_eq!(beyond(33.0, None), None);
}

#[test]
fn before_any_step_saturates_the_most_completed_is_a_floor_that_bounds_nothing() {
    // The people's-think-time search: medians 308–405 ms against 308 ms unloaded.
    let steps = vec![
        held(308.0, 12.1, 2.25),
        held(405.0, 23.3, 4.5),
        held(350.0, 22.0, 4.0),
    ];
    let c = ceiling(&steps).unwrap();
    assert_eq!((c.per_sec, c.measured), (23.3, false));
    assert_eq!(beyond(30.0, Some(&c)), None, "a floor refuses no rate");
    assert_eq!(
        settle(Some(23.0), Some(&c)),
        None,
        "nor holds a step longer"
    );
    assert_eq!(ceiling(&[]), None);
}

#[test]
fn an_overloaded_step_that_completed_less_never_lowers_the_ceiling() {
    // On two cores: 25/s and 37.5/s completed 125.6 and 174.7 runs/s; 56.25/s, overloaded,
    // 94.2 (its median 60 times the fastest). The ceiling stays 174.7, and since the step
    // that completed it had not saturated, it refuses nothing: the rates between are run.
    let mut steps = vec![
        held(41.0, 125.6, 25.0),
        held(47.0, 174.7, 37.5),
        held(2450.0, 94.2, 56.25),
    ];
    let c = ceiling(&steps).unwrap();
    assert_eq!(
        (c.per_sec, c.at.as_str(), c.measured),
        (174.7, "37.5/s", false)
    );
    assert_eq!(beyond(257.8, Some(&c)), None);
    // The next step completes more, saturated: it raises the ceiling, which now bounds.
    steps.push(held(160.0, 205.3, 46.875));
    let c = ceiling(&steps).unwrap();
    assert_eq!((c.per_sec, c.measured), (205.3, true));
    assert!(beyond(232.0, Some(&c)).is_some());
    assert!(beyond(206.2, Some(&c)).is_none());
    // The case: 169.5 runs/s overloaded at 60/s, 195 at 31/s. The ceiling is 195.
    let steps = vec![held(41.0, 195.0, 31.0), held(3000.0, 169.5, 60.0)];
    assert_eq!(ceiling(&steps).unwrap().per_sec, 195.0);
}

#[test]
fn throughput_that_falls_past_the_knee_is_named_with_both_steps() {
    let steps = vec![
        held(310.0, 21.9, 4.0),
        held(700.0, 25.9, 6.0),
        held(2900.0, 21.0, 8.0),
    ];
    let (best, fallen) = falls(&steps).unwrap();
    assert_eq!((best.per_sec, best.level), (25.9, 6.0));
    assert_eq!((fallen.per_sec, fallen.level), (21.0, 8.0));
    // A step above the knee within the window's noise is no fall.
    let flat = vec![held(700.0, 25.9, 6.0), held(2900.0, 24.8, 8.0)];
    assert_eq!(falls(&flat), None);
}

#[test]
fn near_a_measured_ceiling_a_step_must_be_held_until_a_queue_could_settle() {
    // 25.8 runs/s at most: 92% settles in ~47 s, 95% in ~121 s, 98% in ~767 s.
    assert!((settle_secs(0.92 * 25.8, 25.8) - 46.5).abs() < 1.0);
    assert!((settle_secs(0.95 * 25.8, 25.8) - 120.7).abs() < 1.0);
    assert!((settle_secs(0.98 * 25.8, 25.8) - 767.0).abs() < 5.0);
    let c = Ceiling {
        per_sec: 25.8,
        at: "8/s".into(),
        measured: true,
    };
    let (secs, why) = settle(Some(0.9 * 25.8), Some(&c)).unwrap();
    assert_eq!(why, "at 90% of the 25.8 runs/s it completed at most");
    assert!(secs > 20.0 && secs < 40.0, "{secs}");
}

fn step(rate: f64, p50_ms: f64, completed: u64, offered: f64) -> StepResult {
    StepResult {
        rate: Some(rate),
        p50_ms: Some(p50_ms),
        completed,
        window_secs: 10.0,
        offered_runs_per_sec: Some(offered),
        ..StepResult::default()
    }
}

#[test]
fn utilization_is_stated_only_against_a_measured_ceiling() {
    // The people's-think-time search: no step saturated, the answer's load above the most a
    // step completed. No share of it is claimed: the deployment completes at least that.
    let mut r = CapacityReport {
        steps: vec![step(4.313, 330.0, 230, 23.7), step(4.5, 405.0, 233, 24.7)],
        max_rate: Some(4.313),
        ..CapacityReport::default()
    };
    r.steps[0].p50_ms = Some(308.0);
    r.steps[0].passed = true;
    conclude(&mut r);
    assert_eq!(
        (r.max_throughput, r.utilization_percent),
        (Some(23.3), None)
    );
    assert!(!r.max_throughput_measured && !r.saturated_any);
    assert_eq!(
        sentence(&r),
        " No step saturated: the deployment completes at least 23.3 runs/s (the most a step \
         completed, at 4.5/s)."
    );
    // A saturated step that completed the most: utilization of what the answer completed
    // against it (never above 100%); a heavier step that completed less is named beside it.
    r.steps.push(step(6.0, 900.0, 259, 33.0));
    r.steps.push(step(8.0, 2900.0, 210, 44.0));
    conclude(&mut r);
    assert!(r.max_throughput_measured);
    let share = r.utilization_percent.unwrap();
    assert!((share - 100.0 * 23.0 / 25.9).abs() < 0.01, "{share}");
    assert_eq!(
        sentence(&r),
        " At 4.313/s it completed 23.0 runs/s: 89% of the 25.9 runs/s it completed at most \
         (at 6/s, saturated), in steady state. Completed 25.9 runs/s at 6/s, 21.0 at 8/s: \
         throughput falls under overload."
    );
}

#[test]
fn a_passing_share_is_never_over_100_percent() {
    // The open model once compared what the answer's rate offered (its planned rate × the
    // mean turns) with what the best step completed: 102% at a saturated answer. Like with
    // like, the answer's step is the best step at most: 100%.
    let mut best = step(4.5, 700.0, 260, 26.6);
    best.passed = true;
    best.saturated = true;
    let mut r = CapacityReport {
        steps: vec![step(2.0, 320.0, 110, 11.0), best],
        max_rate: Some(4.5),
        ..CapacityReport::default()
    };
    conclude(&mut r);
    assert!(r.max_throughput_measured);
    assert_eq!(r.utilization_percent, Some(100.0));
}

#[test]
fn a_step_whose_throughput_flattened_is_saturated_though_its_median_is_not_doubled() {
    // A backend that batches (N = 2) between N and 2N in flight: every run slower, the median
    // 1.6× the fastest, and it completed 36 runs/s of the 45 its rate offered.
    let mut steps = [step(20.0, 33.0, 200, 20.0), step(45.0, 53.0, 360, 45.0)];
    steps[1].steadiness = Some(crate::model::hold::Steadiness {
        flattened: true,
        ..Default::default()
    });
    let held: Vec<Held> = steps.iter().filter_map(Held::of).collect();
    assert!(!saturated(&held[0], &held) && saturated(&held[1], &held));
    let c = ceiling(&held).unwrap();
    assert!(c.measured && (c.per_sec - 36.0).abs() < 1e-9);
    // One that completed its offer is not.
    let steady = step(30.0, 40.0, 295, 30.0);
    assert!(!Held::of(&steady).unwrap().saturated);
}

#[test]
fn a_refused_rate_never_stands_beside_no_step_saturated() {
    // 8/s saturated and measured the ceiling, so 6/s was not run; then a lighter step
    // completed a little more without saturating. The conclusion may not say no step
    // saturated.
    let mut over = step(8.0, 2900.0, 258, 44.0);
    over.saturated = true;
    let refused = StepResult {
        rate: Some(6.0),
        skipped: true,
        ..StepResult::default()
    };
    let mut r = CapacityReport {
        steps: vec![step(4.0, 330.0, 262, 22.0), over, refused],
        max_rate: Some(4.0),
        ..CapacityReport::default()
    };
    r.steps[0].passed = true;
    conclude(&mut r);
    assert!(r.saturated_any && r.max_throughput_measured, "{r:?}");
    assert!(
        !sentence(&r).contains("No step saturated"),
        "{}",
        sentence(&r)
    );
}
