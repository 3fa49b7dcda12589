//! How near a hold's figures are to their limits: futility, and `near_limit`.

use super::*;

#[test]
fn an_interval_that_cannot_narrow_enough_by_max_hold_is_futile() {
    let sla: crate::plan::Sla = toml::from_str("agent_run_p95 = \"1s\"").unwrap();
    let step = |low: f64, point: f64, high: Option<f64>| StepResult {
        p95_interval: Some(crate::model::capacity::Interval {
            point_ms: point,
            low_ms: low,
            high_ms: high,
            effective_runs: 100.0,
        }),
        ..Default::default()
    };
    // 960 ms, 900–1,100 after 60 s of 240: at 240 s about 930–1,010, still over 1,000.
    assert!(futile(&sla, &step(900.0, 960.0, Some(1100.0)), 60.0, 240.0));
    // 800 ms, 700–1,100: at 240 s about 750–950, within: worth holding.
    assert!(!futile(
        &sla,
        &step(700.0, 800.0, Some(1100.0)),
        60.0,
        240.0
    ));
    // An upper end the runs cannot bound yet: nothing to project.
    assert!(!futile(&sla, &step(900.0, 960.0, None), 60.0, 240.0));
    // Shown within: nothing straddles.
    assert!(!futile(&sla, &step(700.0, 800.0, Some(950.0)), 60.0, 240.0));
}

#[test]
fn a_figure_near_its_limit_is_what_near_limit_says() {
    let sla: crate::plan::Sla = toml::from_str("agent_run_p95 = \"1s\"").unwrap();
    let step = |p95: f64| StepResult {
        p95_ms: Some(p95),
        ..Default::default()
    };
    assert!(near_limit(&sla, &step(900.0)) && near_limit(&sla, &step(1140.0)));
    assert!(!near_limit(&sla, &step(800.0)) && !near_limit(&sla, &step(1200.0)));
}
