//! Pure figures over the collected runs: windows (capacity steps), the timeline, value
//! distributions of result checks.

use super::{RunRecord, WindowStats};
use crate::model::metrics::Latency;
use crate::model::summary::{TimelinePoint, ValueStats};
use std::time::Duration;

pub(super) fn window_stats(records: &[RunRecord], seconds: f64) -> WindowStats {
    let mut times: Vec<f64> = records
        .iter()
        .filter(|r| r.ok)
        .map(|r| f64::from(r.elapsed_ms))
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        (!times.is_empty()).then(|| times[((times.len() - 1) as f64 * q).round() as usize])
    };
    let runs = records.len() as u64;
    let completed = times.len() as u64;
    WindowStats {
        runs,
        completed,
        failed: runs - completed,
        mean_ms: (!times.is_empty()).then(|| times.iter().sum::<f64>() / times.len() as f64),
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
        error_rate_percent: if runs == 0 {
            0.0
        } else {
            100.0 * (runs - completed) as f64 / runs as f64
        },
        runs_per_sec: if seconds > 0.0 {
            runs as f64 / seconds
        } else {
            0.0
        },
    }
}

/// Per-bucket throughput and run-time percentiles; buckets of 1 s, wider for long runs so
/// the timeline keeps at most ~300 points.
pub(super) fn timeline(log: &[RunRecord]) -> (f64, Vec<TimelinePoint>) {
    let end = log.iter().map(|r| r.ended_secs).fold(0.0f32, f32::max) as f64;
    let bucket = (end / 300.0).ceil().max(1.0);
    let buckets = (end / bucket).floor() as usize + 1;
    let mut grouped: Vec<Vec<RunRecord>> =
        vec![Vec::new(); if log.is_empty() { 0 } else { buckets }];
    for r in log {
        grouped[(f64::from(r.ended_secs) / bucket) as usize].push(*r);
    }
    let points = grouped
        .iter()
        .enumerate()
        .map(|(i, records)| {
            let w = window_stats(records, bucket);
            // Percentiles from the bucket's histogram, which the timeline keeps so shards'
            // timelines merge exactly (one histogram at a time: each is ~180 KB).
            let mut hist = Latency::default();
            for r in records.iter().filter(|r| r.ok) {
                hist.record(Duration::from_secs_f64(f64::from(r.elapsed_ms) / 1000.0));
            }
            let q = |q: f64| hist.quantile_ms(q);
            TimelinePoint {
                at_secs: i as f64 * bucket,
                runs_completed: w.completed,
                runs_failed: w.failed,
                runs_per_sec: w.runs_per_sec,
                p50_ms: q(0.50),
                p95_ms: q(0.95),
                p99_ms: q(0.99),
                histogram: (hist.count() > 0).then(|| hist.encode()),
            }
        })
        .collect();
    (bucket, points)
}

pub(super) fn value_stats(values: &mut [f64]) -> Option<ValueStats> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some(ValueStats {
        min: values[0],
        p50: at(0.5),
        mean: values.iter().sum::<f64>() / values.len() as f64,
        p95: at(0.95),
        max: values[values.len() - 1],
        approximate: false,
    })
}
