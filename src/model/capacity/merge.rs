//! Capacity shards' steps added: each step's counts, hold-window histograms and sampled hold
//! exactly, the target's figures from the first shard that sampled it. Judged afterwards.

use super::step::StepResult;
use crate::model::hold::HoldFigures;

/// The shards' runs of each step of one ladder, added: counts, exact histograms (so the merged
/// P95 is the P95 of every recorded run time), rates added, the target's figures from the
/// first shard that sampled it, the generator's worst. Judged afterwards.
pub fn merge_steps(shards: &[&[StepResult]]) -> Result<Vec<StepResult>, String> {
    // Steps line up by level: users, or (rate steps) the rate's exact bits.
    let mut by_level: std::collections::BTreeMap<(usize, u64), Vec<&StepResult>> =
        Default::default();
    for step in shards.iter().flat_map(|s| s.iter()) {
        let rate = step.rate.map_or(0, f64::to_bits);
        by_level.entry((step.users, rate)).or_default().push(step);
    }
    let mut steps: Vec<StepResult> = by_level
        .into_values()
        .map(|parts| merge_one(parts[0].users, &parts))
        .collect::<Result<_, _>>()?;
    steps.sort_by(|a, b| a.level().total_cmp(&b.level()));
    Ok(steps)
}

fn merge_one(users: usize, parts: &[&StepResult]) -> Result<StepResult, String> {
    use crate::model::metrics::{Latency, SerializedLatency};
    let mut hist = Latency::default();
    for part in parts {
        if let Some(text) = &part.histogram {
            let decoded = Latency::decode(text).map_err(|e| format!("step {users}: {e}"))?;
            hist.add(&decoded);
        }
    }
    let sum = |f: fn(&StepResult) -> u64| parts.iter().map(|p| f(p)).sum::<u64>();
    let (runs, completed) = (sum(|p| p.runs), sum(|p| p.completed));
    let stats = (hist.count() > 0).then(|| hist.stats());
    let first_shed = parts.iter().filter_map(|p| p.throttled_first_at_users);
    let mut reasons: Vec<String> = parts
        .iter()
        .flat_map(|p| p.throttle_reasons.clone())
        .collect();
    reasons.sort();
    reasons.dedup();
    let attempts = runs + sum(|p| p.throttled_connects);
    Ok(StepResult {
        users,
        runs,
        completed,
        runs_started: sum(|p| p.runs_started),
        error_rate_percent: match runs {
            0 => 0.0,
            n => 100.0 * (n - completed) as f64 / n as f64,
        },
        runs_per_sec: parts.iter().map(|p| p.runs_per_sec).sum(),
        mean_ms: stats.as_ref().map(|s| s.mean_ms),
        p50_ms: stats.as_ref().map(|s| s.p50_ms),
        p95_ms: stats.as_ref().map(|s| s.p95_ms),
        p99_ms: stats.as_ref().map(|s| s.p99_ms),
        target_cpu_percent: parts.iter().find_map(|p| p.target_cpu_percent),
        target_rss_bytes: parts.iter().find_map(|p| p.target_rss_bytes),
        generator_cpu_percent: parts
            .iter()
            .filter_map(|p| p.generator_cpu_percent)
            .reduce(f64::max),
        generator_saturated: parts.iter().any(|p| p.generator_saturated),
        throttled: sum(|p| p.throttled),
        throttled_connects: sum(|p| p.throttled_connects),
        throttled_percent: match attempts {
            0 => 0.0,
            n => 100.0 * sum(|p| p.throttled) as f64 / n as f64,
        },
        throttled_first_at_users: first_shed.reduce(|a, b| a + b),
        throttle_reasons: reasons,
        server_failed: parts.iter().find_map(|p| p.server_failed.clone()),
        window_secs: parts.iter().map(|p| p.window_secs).fold(0.0, f64::max),
        histogram: (hist.count() > 0).then(|| SerializedLatency::from(&hist).histogram),
        rate: parts[0].rate,
        sessions_arrived: sum(|p| p.sessions_arrived),
        sessions_dropped: sum(|p| p.sessions_dropped),
        // From the shards' first turns added; a shard of an older version has no histogram:
        // the worst shard's then.
        first_turn_p95_ms: match merge_first_turns(parts)? {
            Some(text) => Latency::decode(&text)?.quantile_ms(0.95),
            None => parts
                .iter()
                .filter_map(|p| p.first_turn_p95_ms)
                .reduce(f64::max),
        },
        interrupted: parts.iter().any(|p| p.interrupted),
        breakdown: merge_breakdowns(parts)?,
        // The deployment is one: its peaks are the first shard's that polled it.
        server_peaks: parts
            .iter()
            .map(|p| p.server_peaks.clone())
            .find(|p| !p.is_empty())
            .unwrap_or_default(),
        hold: merge_holds(parts)?,
        first_turn_histogram: merge_first_turns(parts)?,
        offered_runs_per_sec: parts[0].offered_runs_per_sec,
        ramp_secs: parts.iter().map(|p| p.ramp_secs).fold(0.0, f64::max),
        held_secs: parts.iter().map(|p| p.held_secs).fold(0.0, f64::max),
        ..Default::default()
    })
}

/// The shards' holds of a step, added (`None` when a shard has none: nothing to judge on).
fn merge_holds(parts: &[&StepResult]) -> Result<Option<HoldFigures>, String> {
    let holds: Option<Vec<&HoldFigures>> = parts.iter().map(|p| p.hold.as_ref()).collect();
    holds.map(|h| HoldFigures::merge(&h)).transpose()
}

fn merge_first_turns(parts: &[&StepResult]) -> Result<Option<String>, String> {
    use crate::model::metrics::Latency;
    let mut hist = Latency::default();
    for text in parts
        .iter()
        .filter_map(|p| p.first_turn_histogram.as_deref())
    {
        hist.add(&Latency::decode(text)?);
    }
    Ok((hist.count() > 0).then(|| hist.encode()))
}

fn merge_breakdowns(
    parts: &[&StepResult],
) -> Result<Option<crate::model::breakdown::Breakdown>, String> {
    let mut merged: Option<crate::model::breakdown::Breakdown> = None;
    for b in parts.iter().filter_map(|p| p.breakdown.as_ref()) {
        merged.get_or_insert_with(Default::default).add(b)?;
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::Latency;
    use std::time::Duration;

    fn shard(users: usize, times_ms: &[u64]) -> StepResult {
        let mut hist = Latency::default();
        times_ms
            .iter()
            .for_each(|ms| hist.record(Duration::from_millis(*ms)));
        StepResult {
            users,
            runs: times_ms.len() as u64,
            completed: times_ms.len() as u64,
            runs_per_sec: times_ms.len() as f64 / 3.0,
            histogram: Some(hist.encode()),
            ..Default::default()
        }
    }

    #[test]
    fn a_slow_shard_drags_the_merged_step_exactly_as_its_histogram_says() {
        // Two fast shards (100 ms runs) and one slowed (900 ms): a tenth of the runs are slow.
        let fast: Vec<u64> = vec![100; 45];
        let slow: Vec<u64> = vec![900; 10];
        let (a, b, c) = (shard(30, &fast), shard(30, &fast), shard(30, &slow));
        let merged = merge_steps(&[&[a][..], &[b][..], &[c][..]]).unwrap();
        let step = &merged[0];
        assert_eq!((step.users, step.runs, step.completed), (30, 100, 100));
        // The P95 of all 100 run times is a slow one; the P50 a fast one.
        let mut all = Latency::default();
        fast.iter()
            .chain(&fast)
            .chain(&slow)
            .for_each(|ms| all.record(Duration::from_millis(*ms)));
        assert_eq!(step.p95_ms, all.quantile_ms(0.95));
        assert!(
            step.p95_ms.unwrap() > 890.0 && step.p50_ms.unwrap() < 110.0,
            "{step:?}"
        );
        assert!((step.runs_per_sec - 100.0 / 3.0).abs() < 1e-9);
        // Without the slow shard the step holds a 500 ms P95.
        let quick = merge_steps(&[&[shard(30, &fast)][..]]).unwrap();
        assert!(quick[0].p95_ms.unwrap() < 110.0);
    }
}
