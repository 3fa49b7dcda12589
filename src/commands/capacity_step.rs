//! One capacity step's own figures, read from its load test's hold window `[from, to)`:
//! runs, run times (with the window's histogram, so shards' steps add up), shed attempts,
//! the server's rules, and the resources sampled in the window.

use crate::engine::capacity::StepResult;
use crate::engine::load::Loaded;
use crate::plan::Plan;

pub(super) fn figures(loaded: &Loaded, plan: &Plan, from: f64, to: f64) -> StepResult {
    let w = loaded.collector.window(from, to);
    let hold = loaded.collector.window_latency(from, to);
    let samples: Vec<_> = loaded
        .summary
        .resources
        .as_ref()
        .map(|r| r.samples.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|s| (from..=to).contains(&s.at_secs))
        .collect();
    let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let shed = loaded.summary.throttled.clone().unwrap_or_default();
    let server = loaded.summary.server.as_ref();
    let server_failed = crate::model::sla::server_rules(&plan.sla, &loaded.summary)
        .into_iter()
        .find(|v| !v.passed)
        .map(|v| format!("{}: {}", v.rule, v.observed));
    StepResult {
        server_failed,
        runs_started: loaded.summary.runs.started,
        histogram: (hold.count() > 0).then(|| hold.encode()),
        window_secs: to - from,
        throttled: shed.attempts(),
        throttled_percent: loaded.summary.share_of_attempts_percent(shed.attempts()),
        throttled_first_at_users: (shed.count > 0).then_some(shed.first_at_users),
        throttle_reasons: shed.reasons.keys().cloned().collect(),
        throttled_connects: shed.connects,
        runs: w.runs,
        completed: w.completed,
        error_rate_percent: w.error_rate_percent,
        runs_per_sec: w.runs_per_sec,
        mean_ms: w.mean_ms,
        p50_ms: w.p50_ms,
        p95_ms: w.p95_ms,
        p99_ms: w.p99_ms,
        target_cpu_percent: mean(
            samples
                .iter()
                .filter_map(|s| s.target.map(|t| t.cpu_percent))
                .collect(),
        )
        .or_else(|| server.and_then(|s| s.mean_cpu_percent())),
        target_rss_bytes: samples
            .iter()
            .filter_map(|s| s.target.map(|t| t.rss_bytes))
            .max(),
        generator_cpu_percent: mean(
            samples
                .iter()
                .filter_map(|s| s.generator.map(|g| g.cpu_percent))
                .collect(),
        ),
        interrupted: loaded.summary.interrupted.is_some() || loaded.summary.stopped.is_some(),
        ..Default::default()
    }
}
