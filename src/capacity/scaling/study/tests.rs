use super::*;
use crate::model::capacity::{ResourceUse, StepResult};
use crate::plan::Percent;

/// A size's search: its answer (sessions/s), runs a session, the steps it held at `loads`
/// (shares of its ceiling) with the lock busy as a demand of `demand` s a run.
fn measured(size: u32, answer: f64, runs_per_session: f64, demand: Option<f64>) -> Measured {
    let ceiling = 12.9 * f64::from(size);
    let step = |rate: f64, passed: bool| {
        let per_sec = (rate * runs_per_session).min(ceiling);
        StepResult {
            rate: Some(rate),
            passed,
            completed: (per_sec * 60.0) as u64,
            window_secs: 60.0,
            resources: demand
                .map(|d| ResourceUse {
                    name: "lock".into(),
                    servers: 1.0,
                    utilization: per_sec * d,
                    demand_secs: Some(d),
                })
                .into_iter()
                .collect(),
            ..Default::default()
        }
    };
    Measured {
        size,
        report: CapacityReport {
            max_rate: Some(answer),
            max_throughput: Some(ceiling),
            max_throughput_measured: true,
            steps: vec![
                step(answer / 2.0, true),
                step(answer, true),
                step(answer * 2.0, false),
            ],
            ..Default::default()
        },
        folder: format!("size-{size}"),
    }
}

fn setup(enterprise: Option<Enterprise>) -> Setup {
    Setup {
        plan: "lock".into(),
        by_rate: true,
        enterprise,
        headroom_percent: 20.0,
        resources: Vec::new(),
    }
}

/// The lock's demand at size `n`: 10 ms + 1.5 ms per other replica.
fn lock(n: u32) -> f64 {
    0.010 + 0.0015 * f64::from(n - 1)
}

#[test]
fn the_lock_that_sizes_1_2_4_do_not_show_bounds_8() {
    let sizes = [(1, 3.58), (2, 7.33), (4, 14.59)]
        .map(|(n, a)| measured(n, a, 3.6, Some(lock(n))))
        .into_iter()
        .collect();
    let s = study(&setup(None), sizes);
    // The fit through 1, 2, 4 is a line: it says 28.6 at 8.
    assert!(s.fit.sigma < 0.01 && s.fit.kappa < 1e-3, "{:?}", s.fit);
    let at8 = s.predictions.iter().find(|p| p.size == 8).unwrap();
    assert!((at8.fitted.unwrap() - 28.6).abs() < 1.0, "{at8:?}");
    // The lock's demand grows 1.5 ms a replica: 20.5 ms at 8, 48.8 runs/s, 13.5 sessions/s.
    let r = &s.resources[0];
    assert!((r.demand_secs - 0.010).abs() < 2e-4 && (r.growth_secs - 0.0015).abs() < 1e-4);
    assert_eq!(r.binds_at, Some(5));
    assert!(
        (at8.bound_runs_per_sec.unwrap() - 48.8).abs() < 0.5,
        "{at8:?}"
    );
    assert_eq!(at8.bound_by.as_deref(), Some("lock"));
    assert!((at8.expected.unwrap() - 48.8 / 3.6).abs() < 0.3, "{at8:?}");
    assert!(
        s.conclusion.contains("it bounds 8 replicas at 48.8 runs/s"),
        "{}",
        s.conclusion
    );
    assert!(
        s.conclusion.contains("binds from 5 replicas"),
        "{}",
        s.conclusion
    );
    assert!(
        s.conclusion.contains("an extrapolation: measure 8"),
        "{}",
        s.conclusion
    );
}

#[test]
fn with_nothing_shared_the_fit_predicts_the_next_size() {
    let sizes = [(1, 3.6), (2, 7.1), (4, 13.8)]
        .map(|(n, a)| measured(n, a, 3.6, None))
        .into_iter()
        .collect();
    let s = study(&setup(None), sizes);
    assert!(s.resources.is_empty());
    let at8 = s.predictions.iter().find(|p| p.size == 8).unwrap();
    assert_eq!(at8.bound, None);
    // A little contention (σ ≈ 0.02): ~26 at 8, under division's 28.8.
    assert!(
        at8.expected.unwrap() > 24.0 && at8.expected.unwrap() < 28.8,
        "{at8:?}"
    );
}

#[test]
fn an_enterprise_takes_the_smallest_measured_size_or_a_named_extrapolation() {
    let e = |seats| Enterprise {
        seats,
        active_share: Percent(15.0),
        sessions_per_active_hour: 4.0,
    };
    let sizes = || {
        [(1, 3.58), (2, 7.33), (4, 14.59)]
            .map(|(n, a)| measured(n, a, 3.6, Some(lock(n))))
            .into_iter()
            .collect()
    };
    // 20,000 seats: 3.33/s at the peak, 4.17 with 20% headroom: 2 replicas, measured.
    let s = study(&setup(Some(e(20_000))), sizes());
    let got = s.enterprise.as_ref().unwrap();
    assert_eq!((got.measured_size, got.extrapolated_size), (Some(2), None));
    assert!(
        s.conclusion.contains("2 replicas (measured: 7.33/s)"),
        "{}",
        s.conclusion
    );
    // 80,000 seats: 13.3/s, 16.7 with headroom: not measured; division says 5; the lock
    // bounds 5 at 62.5 runs/s (17.4/s): 5 is expected to hold it, named an extrapolation.
    let s = study(&setup(Some(e(80_000))), sizes());
    let got = s.enterprise.as_ref().unwrap();
    assert_eq!(got.measured_size, None);
    assert_eq!(
        (got.extrapolated_size, got.division_size),
        (Some(5), Some(5))
    );
    // 160,000 seats: 33/s; the lock never allows it past 5: no size holds it.
    let s = study(&setup(Some(e(160_000))), sizes());
    let got = s.enterprise.as_ref().unwrap();
    assert_eq!((got.measured_size, got.extrapolated_size), (None, None));
    assert!(
        s.conclusion.contains("no size up to 256"),
        "{}",
        s.conclusion
    );
}

#[test]
fn one_size_fits_no_curve_and_says_so() {
    let s = study(&setup(None), vec![measured(2, 7.3, 3.6, None)]);
    assert_eq!(s.fit.kind, "none");
    assert!(
        s.conclusion.contains("One size: no curve"),
        "{}",
        s.conclusion
    );
    // Division from it is all there is for 4.
    let at4 = s.predictions.iter().find(|p| p.size == 4).unwrap();
    assert_eq!((at4.fitted, at4.expected), (None, Some(14.6)));
}
