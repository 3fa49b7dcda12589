//! Pure figures over the collected runs: windows (capacity steps), the timeline, value
//! distributions of result checks.

use super::folded::{Folded, Tally};
use super::record::{RunRecord, WindowStats};
use super::slices::{sliced, Slicing};
use crate::model::metrics::Latency;
use crate::model::summary::{TimelinePoint, ValueStats};
use std::time::Duration;

impl super::state::Collector {
    /// Runs that ended in `[from, to)` seconds: counts, run-time percentiles of completed
    /// runs, error rate. A folded tally counts in a window when it starts in it: windows on
    /// whole seconds are exact while tallies are one second wide (the first ~10 minutes of
    /// folded runs), and whole tallies after that.
    pub fn window(&self, from: f64, to: f64) -> WindowStats {
        let mut runs = Gathered::default();
        let (shards, folded) = self.all();
        for sh in &shards {
            sh.log
                .iter()
                .filter(|r| (from..to).contains(&f64::from(r.ended_secs)))
                .for_each(|r| runs.record(r));
        }
        folded
            .starting_in(from, to)
            .for_each(|(_, t)| runs.tally(t));
        window_stats(runs, to - from)
    }

    /// The completed runs that ended in `[from, to)`, as one histogram of their times (a
    /// capacity step's hold window, so shards' steps add up exactly).
    pub fn window_latency(&self, from: f64, to: f64) -> Latency {
        let mut hist = Latency::default();
        let (shards, folded) = self.all();
        for sh in &shards {
            sh.log
                .iter()
                .filter(|r| r.ok && (from..to).contains(&f64::from(r.ended_secs)))
                .for_each(|r| hist.record(r.elapsed()));
        }
        folded
            .starting_in(from, to)
            .for_each(|(_, t)| t.record_into(&mut hist));
        hist
    }

    /// The completed runs' times (ms) that ended in `[from, to)` by time slice (at most
    /// `max`): what a capacity step's interval and halves are read from.
    pub fn window_slices(&self, from: f64, to: f64, max: usize) -> (Slicing, Vec<Vec<f64>>) {
        let (shards, folded) = self.all();
        sliced(
            shards.iter().flat_map(|sh| sh.log.iter()),
            &folded,
            from,
            to,
            max,
        )
    }
}

/// The runs of a window: records, and the tallies of folded seconds it reaches.
#[derive(Default)]
pub(super) struct Gathered {
    runs: u64,
    /// Run times of the completed runs among the records (ms).
    times: Vec<f64>,
    /// The tallies' completed runs, their summed run time (ms), their run times.
    folded: Option<(u64, f64, Latency)>,
}

impl Gathered {
    pub fn record(&mut self, r: &RunRecord) {
        self.runs += 1;
        if r.ok {
            self.times.push(f64::from(r.elapsed_ms));
        }
    }

    pub fn tally(&mut self, t: &Tally) {
        self.runs += t.runs;
        let (completed, ms, hist) = self
            .folded
            .get_or_insert_with(|| (0, 0.0, Latency::default()));
        *completed += t.completed;
        *ms += t.completed_ms;
        t.record_into(hist);
    }
}

/// A window's figures. Percentiles are exact over records; once folded seconds are in the
/// window they come from the histogram of all its runs (3 significant figures).
pub(super) fn window_stats(g: Gathered, seconds: f64) -> WindowStats {
    let Gathered {
        runs,
        mut times,
        folded,
    } = g;
    let (folded_completed, folded_ms, hist) = match folded {
        Some((completed, ms, hist)) => (completed, ms, Some(hist)),
        None => (0, 0.0, None),
    };
    let completed = times.len() as u64 + folded_completed;
    let mean_ms =
        (completed > 0).then(|| (times.iter().sum::<f64>() + folded_ms) / completed as f64);
    let [p50_ms, p95_ms, p99_ms] = match hist {
        Some(mut hist) => {
            for ms in &times {
                hist.record(Duration::from_secs_f64(ms / 1000.0));
            }
            [0.50, 0.95, 0.99].map(|q| hist.quantile_ms(q))
        }
        None => {
            times.sort_by(f64::total_cmp);
            [0.50, 0.95, 0.99].map(|q| {
                (!times.is_empty()).then(|| times[((times.len() - 1) as f64 * q).round() as usize])
            })
        }
    };
    WindowStats {
        runs,
        completed,
        failed: runs - completed,
        mean_ms,
        p50_ms,
        p95_ms,
        p99_ms,
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
/// the timeline keeps at most ~300 points (and a whole number of folded tallies each).
pub(super) fn timeline(log: &[RunRecord], folded: &Folded) -> (f64, Vec<TimelinePoint>) {
    let width = f64::from(folded.width);
    let last_tally = folded.end_secs() - width;
    let end = f64::from(log.iter().map(|r| r.ended_secs).fold(0.0f32, f32::max)).max(last_tally);
    let bucket = ((end / 300.0).ceil().max(1.0) / width).ceil() * width;
    let count = if log.is_empty() && folded.is_empty() {
        0
    } else {
        (end / bucket).floor() as usize + 1
    };
    let index = |secs: f64| ((secs.max(0.0) / bucket) as usize).min(count.saturating_sub(1));
    let mut records: Vec<Vec<RunRecord>> = vec![Vec::new(); count];
    for r in log {
        records[index(f64::from(r.ended_secs))].push(*r);
    }
    let mut tallies: Vec<Vec<&Tally>> = vec![Vec::new(); count];
    for (start, t) in folded.starting_in(0.0, f64::INFINITY) {
        tallies[index(start)].push(t);
    }
    let points = records
        .iter()
        .zip(&tallies)
        .enumerate()
        .map(|(i, (records, tallies))| {
            // Percentiles from the bucket's histogram, which the timeline keeps so shards'
            // timelines merge exactly (one histogram at a time: each is ~180 KB).
            let mut hist = Latency::default();
            let mut runs = records.len() as u64;
            for r in records.iter().filter(|r| r.ok) {
                hist.record(r.elapsed());
            }
            for t in tallies {
                runs += t.runs;
                t.record_into(&mut hist);
            }
            let completed = hist.count();
            let q = |q: f64| hist.quantile_ms(q);
            TimelinePoint {
                at_secs: i as f64 * bucket,
                runs_completed: completed,
                runs_failed: runs - completed,
                runs_per_sec: runs as f64 / bucket,
                p50_ms: q(0.50),
                p95_ms: q(0.95),
                p99_ms: q(0.99),
                histogram: (completed > 0).then(|| hist.encode()),
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
