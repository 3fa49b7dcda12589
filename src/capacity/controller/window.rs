//! A window of the live load as a capacity step's figures: the runs that ended in it (counts,
//! run times by time slice, the intervals of the quantiles the SLA names), the sampled load
//! through it, first turns, arrivals, shed attempts, the deployment's polled metrics and the
//! resources sampled in it.

use crate::capacity::interval::{self, HoldRuns};
use crate::load::level::Attached;
use crate::model::capacity::{Interval, StepResult};
use crate::model::hold::{HoldFigures, HoldSample};
use crate::model::metrics::Latency;
use crate::plan::Plan;

/// The most time slices a hold's runs are cut into (each at least half a second): what its
/// intervals and halves are read from, and what `capacity.json` keeps of each hold.
pub(crate) const MAX_SLICES: usize = 64;

/// One sample of the live load: counts so far, and sessions open (collector seconds).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sample {
    pub at: f64,
    pub begun: u64,
    pub ended: u64,
    pub sessions_open: u64,
}

impl Sample {
    /// The live load now.
    pub fn now(on: &Attached) -> Sample {
        let c = &on.collector;
        let (begun, ended) = c.runs_begun_ended();
        Sample {
            at: c.now_secs(),
            begun,
            ended,
            sessions_open: c.sessions_now().1,
        }
    }
}

/// `looks` with `look` after them, those older than `keep` seconds dropped (half of them at
/// a time, not one a look).
pub(super) fn keep_look(looks: &mut Vec<Sample>, look: Sample, keep: f64) {
    if looks.first().is_some_and(|l| l.at < look.at - keep) {
        looks.retain(|l| l.at >= look.at - keep / 2.0);
    }
    looks.push(look);
}

/// The looks of `[from, to]` as the hold's samples: counts since `from` (the last look at or
/// before it is the base), seconds from `from`.
pub(super) fn hold_samples(looks: &[Sample], from: f64, to: f64) -> Vec<HoldSample> {
    let base = looks
        .iter()
        .rev()
        .find(|l| l.at <= from)
        .or(looks.first())
        .copied()
        .unwrap_or_default();
    looks
        .iter()
        .filter(|l| l.at > from && l.at <= to + 1e-9)
        .map(|l| HoldSample {
            at_secs: l.at - from,
            runs_begun: l.begun.saturating_sub(base.begun),
            runs_ended: l.ended.saturating_sub(base.ended),
            in_flight: l.begun.saturating_sub(l.ended),
            sessions_open: l.sessions_open,
        })
        .collect()
}

/// The step's figures over its hold `[from, to)`, and its runs by slice; shed attempts from
/// `began` (its ramp too). Its histograms are filled in once it is judged (`keep`): a look
/// that holds on needs none.
pub(super) fn figures(
    on: &Attached,
    plan: &Plan,
    looks: &[Sample],
    began: f64,
    from: f64,
    to: f64,
) -> (StepResult, HoldRuns) {
    let c = &on.collector;
    let w = c.window(from, to);
    let (_, run_slices) = c.window_slices(from, to, MAX_SLICES);
    let first_turn_slices = c.window_first_turn_slices(from, to, MAX_SLICES);
    let (arrived, dropped) = c.window_arrivals(from, to);
    let samples: Vec<_> = on
        .samples
        .as_ref()
        .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|s| (from..=to).contains(&s.at_secs))
        .collect();
    let average = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
    let server = on
        .server
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .within(from, to);
    let polled = !server.series.is_empty();
    let resources = super::super::resources::uses(
        &plan.capacity.resources,
        &server,
        plan.deployment_size(),
        w.completed as f64 / (to - from).max(1e-9),
    );
    let judged = crate::model::summary::Summary {
        server: Some(server.clone()),
        ..Default::default()
    };
    let server_failed = crate::model::sla::server_rules(&plan.sla, &judged)
        .into_iter()
        .find(|v| !v.passed)
        .map(|v| format!("{}: {}", v.rule, v.observed));
    let shed = c.throttled_between(began.floor(), to);
    let whole = c.throttled().unwrap_or_default();
    let shed_here = shed > 0;
    let step = StepResult {
        runs: w.runs,
        completed: w.completed,
        error_rate_percent: w.error_rate_percent,
        runs_per_sec: w.runs_per_sec,
        mean_ms: w.mean_ms,
        p50_ms: w.p50_ms,
        p95_ms: w.p95_ms,
        p99_ms: w.p99_ms,
        window_secs: to - from,
        throttled: shed,
        throttled_percent: 100.0 * shed as f64 / (w.runs + shed).max(1) as f64,
        throttled_first_at_users: (shed_here && whole.first_at_s >= began)
            .then_some(whole.first_at_users),
        throttle_reasons: match shed_here {
            true => whole.reasons.keys().cloned().collect(),
            false => Vec::new(),
        },
        // The whole test's share of refused connects among its shed attempts, for the step's.
        throttled_connects: match whole.count {
            0 => 0,
            n => (shed as f64 * whole.connects as f64 / n as f64).round() as u64,
        },
        server_failed: server_failed.filter(|_| polled),
        target_cpu_percent: average(
            samples
                .iter()
                .filter_map(|s| s.target.map(|t| t.cpu_percent))
                .collect(),
        )
        .or_else(|| server.mean_cpu_percent()),
        target_rss_bytes: samples
            .iter()
            .filter_map(|s| s.target.map(|t| t.rss_bytes))
            .max(),
        generator_cpu_percent: average(
            samples
                .iter()
                .filter_map(|s| s.generator.map(|g| g.cpu_percent))
                .collect(),
        ),
        breakdown: c.hold_breakdown(),
        server_peaks: {
            let names: std::collections::BTreeSet<&String> =
                server.series.iter().map(|x| &x.name).collect();
            names
                .into_iter()
                .filter_map(|n| Some((n.clone(), server.peak(n)?)))
                .collect()
        },
        sessions_arrived: arrived,
        sessions_dropped: dropped,
        first_turn_p95_ms: interval::point(&first_turn_slices, 0.95),
        resources,
        p95_interval: quantile(&run_slices, 0.95),
        p99_interval: plan
            .sla
            .agent_run_p99
            .and_then(|_| quantile(&run_slices, 0.99)),
        mean_interval: plan.sla.agent_run_avg.and_then(|_| mean(&run_slices)),
        first_turn_interval: quantile(&first_turn_slices, 0.95),
        hold: Some(HoldFigures {
            secs: to - from,
            samples: hold_samples(looks, from, to),
            run_slices: Vec::new(),
            first_turn_slices: Vec::new(),
            sessions_arrived: arrived,
        }),
        ..Default::default()
    };
    let slices = HoldRuns {
        runs: run_slices,
        first_turns: first_turn_slices,
    };
    (step, slices)
}

/// A judged step keeps its window's runs: its run times and first turns as histograms (so
/// shards' steps add up exactly), and by slice in its hold.
pub(crate) fn keep(step: &mut StepResult, slices: &HoldRuns) {
    let histogram = |slices: &[Vec<f64>]| {
        let mut h = Latency::default();
        for ms in slices.iter().flatten() {
            h.record(std::time::Duration::from_secs_f64(ms / 1000.0));
        }
        (h.count() > 0).then(|| h.encode())
    };
    step.histogram = histogram(&slices.runs);
    step.first_turn_histogram = histogram(&slices.first_turns);
    if let Some(hold) = step.hold.as_mut() {
        hold.run_slices = HoldFigures::encode(&slices.runs);
        hold.first_turn_slices = HoldFigures::encode(&slices.first_turns);
    }
}

/// The mean of `slices` with its interval, as a step carries it.
pub(crate) fn mean(slices: &[Vec<f64>]) -> Option<Interval> {
    let (point_ms, low_ms, high) = interval::mean(slices)?;
    Some(Interval {
        point_ms,
        low_ms,
        high_ms: Some(high),
        effective_runs: 0.0,
    })
}

/// The `q` quantile of `slices` with its interval, as a step carries it.
pub(crate) fn quantile(slices: &[Vec<f64>], q: f64) -> Option<Interval> {
    let found = interval::quantile(slices, q)?;
    Some(Interval {
        point_ms: found.point_ms,
        low_ms: found.low_ms,
        high_ms: found.high_ms,
        effective_runs: found.effective_runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holds_samples_count_from_its_start() {
        let looks: Vec<Sample> = (0..10)
            .map(|i| Sample {
                at: f64::from(i),
                begun: 10 * i as u64,
                ended: 9 * i as u64,
                sessions_open: 5,
            })
            .collect();
        let samples = hold_samples(&looks, 3.0, 6.0);
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].at_secs, 1.0);
        assert_eq!((samples[2].runs_begun, samples[2].runs_ended), (30, 27));
        assert_eq!(samples[2].in_flight, 6);
    }
}
