//! Runs older than a couple of minutes, kept as per-second tallies instead of one record each,
//! so a long load test's memory stops growing with its run count.
//!
//! A tally keeps a second's runs, completed runs, their summed run time (exact mean) and
//! their run times by histogram bucket (the report's histogram precision, so the timeline is
//! the same as from the records). Past [`MAX_BUCKETS`] tallies, neighbours are merged and a
//! tally covers twice as many seconds. So the runs' memory is bounded however long the test:
//! at most `MAX_BUCKETS` tallies of one (bucket, count) pair per histogram bucket the run times
//! fall in, besides the records of the last [`KEEP_SECS`] (measured at 900 runs/s with run
//! times spread over 60–460 ms: 11–14 MB after 1, 8 or 24 hours, against 12 bytes a run).

use super::record::RunRecord;
use crate::model::metrics::Latency;
use std::sync::OnceLock;

/// A shard folds its records once it holds this many (then again at twice what it kept).
pub(super) const FOLD_AT: usize = 16_384;
/// Records of the last this-many seconds stay records (the live line and a capacity step's
/// latest seconds read them exactly).
pub(super) const KEEP_SECS: f32 = 30.0;
/// Most tallies kept; past it, tallies cover twice as many seconds.
pub(super) const MAX_BUCKETS: usize = 512;

/// The runs of `width` seconds, folded out of the shards' records.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Tally {
    pub runs: u64,
    pub completed: u64,
    /// Run time of the completed runs, summed (ms).
    pub completed_ms: f64,
    /// Completed runs by run time: (histogram bucket value in µs, count), lowest first.
    pub times: Vec<(u32, u32)>,
}

impl Tally {
    fn merge(&mut self, other: &Tally) {
        self.runs += other.runs;
        self.completed += other.completed;
        self.completed_ms += other.completed_ms;
        self.times = merge_counts(&self.times, &other.times);
    }

    /// Adds the completed runs' times to `hist`.
    pub fn record_into(&self, hist: &mut Latency) {
        for &(micros, count) in &self.times {
            hist.record_n(u64::from(micros), u64::from(count));
        }
    }

    /// Its completed runs' times (ms, each at its bucket's value), added to `out`.
    pub fn push_ms(&self, out: &mut Vec<f64>) {
        for &(micros, count) in &self.times {
            out.extend(std::iter::repeat_n(
                f64::from(micros) / 1000.0,
                count as usize,
            ));
        }
    }
}

/// Tallies of `width` seconds each: tally `i` holds the runs that ended in
/// `[i * width, (i + 1) * width)` seconds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Folded {
    pub width: u32,
    pub tallies: Vec<Tally>,
}

impl Default for Folded {
    fn default() -> Self {
        Folded {
            width: 1,
            tallies: Vec::new(),
        }
    }
}

/// A histogram with the report's bounds and precision, to name buckets by (never recorded to).
fn reference() -> &'static Latency {
    static REFERENCE: OnceLock<Latency> = OnceLock::new();
    REFERENCE.get_or_init(Latency::default)
}

/// A completed run's time as the histogram bucket it falls in.
fn bucket_of(r: &RunRecord) -> u32 {
    let micros = Latency::micros(r.elapsed());
    u32::try_from(reference().bucket_value(micros)).unwrap_or(u32::MAX)
}

impl Folded {
    pub fn is_empty(&self) -> bool {
        self.tallies.is_empty()
    }

    /// Folds `records` (any order) into the tallies.
    pub fn fold(&mut self, records: &[RunRecord]) {
        let width = self.width as f32;
        let mut keyed: Vec<(usize, u32, &RunRecord)> = records
            .iter()
            .map(|r| {
                let index = (r.ended_secs.max(0.0) / width) as usize;
                (index, if r.ok { bucket_of(r) } else { 0 }, r)
            })
            .collect();
        keyed.sort_unstable_by_key(|&(index, bucket, _)| (index, bucket));
        let mut at = 0;
        while at < keyed.len() {
            let index = keyed[at].0;
            let end = at + keyed[at..].partition_point(|k| k.0 == index);
            let mut tally = Tally::default();
            for &(_, bucket, r) in &keyed[at..end] {
                tally.runs += 1;
                if !r.ok {
                    continue;
                }
                tally.completed += 1;
                tally.completed_ms += f64::from(r.elapsed_ms);
                match tally.times.last_mut() {
                    Some((b, n)) if *b == bucket => *n = n.saturating_add(1),
                    _ => tally.times.push((bucket, 1)),
                }
            }
            if self.tallies.len() <= index {
                self.tallies.resize(index + 1, Tally::default());
            }
            self.tallies[index].merge(&tally);
            at = end;
        }
        while self.tallies.len() > MAX_BUCKETS {
            self.coarsen();
        }
    }

    /// Tallies of twice the width: neighbours merged.
    fn coarsen(&mut self) {
        let old = std::mem::take(&mut self.tallies);
        self.tallies = old
            .chunks(2)
            .map(|pair| {
                let mut t = pair[0].clone();
                if let Some(next) = pair.get(1) {
                    t.merge(next);
                }
                t
            })
            .collect();
        self.width *= 2;
    }

    /// The tallies that start in `[from, to)` seconds, with their start.
    pub fn starting_in(&self, from: f64, to: f64) -> impl Iterator<Item = (f64, &Tally)> {
        let width = f64::from(self.width);
        self.tallies
            .iter()
            .enumerate()
            .map(move |(i, t)| (i as f64 * width, t))
            .filter(move |(start, t)| t.runs > 0 && (from..to).contains(start))
    }

    /// The end of the last tally's span, in seconds.
    pub fn end_secs(&self) -> f64 {
        (self.tallies.len() as f64) * f64::from(self.width)
    }
}

/// Two (value, count) lists, lowest value first, as one.
fn merge_counts(a: &[(u32, u32)], b: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let next = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                i += 1;
                j += 1;
                (x.0, x.1.saturating_add(y.1))
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                i += 1;
                *x
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (_, Some(y)) => {
                j += 1;
                *y
            }
            (None, None) => unreachable!("the loop runs while one has more"),
        };
        out.push(next);
    }
    // Tallies live for the rest of the test: no spare capacity.
    out.shrink_to_fit();
    out
}
