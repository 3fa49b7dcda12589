//! Times stamped with when they were taken (a session's first turn, at its end), kept as
//! records for the last `KEEP_SECS` and folded into tallies before that, as runs are: what a
//! window of the test reads them from, in memory that grows with time, not with their count.

use super::folded::{Folded, FOLD_AT, KEEP_SECS};
use super::record::RunRecord;
use crate::model::metrics::Latency;
use std::time::Duration;

#[derive(Default)]
pub(super) struct Timed {
    log: Vec<RunRecord>,
    folded: Folded,
    fold_at: usize,
}

impl Timed {
    /// A time `d` taken at `at_secs` of the test.
    pub fn push(&mut self, at_secs: f32, d: Duration) {
        self.log.push(RunRecord {
            ended_secs: at_secs,
            elapsed_ms: d.as_secs_f32() * 1000.0,
            ok: true,
        });
        if self.log.len() >= self.fold_at.max(FOLD_AT) {
            let cutoff = at_secs - KEEP_SECS;
            let (old, kept): (Vec<RunRecord>, Vec<RunRecord>) =
                self.log.iter().partition(|r| r.ended_secs < cutoff);
            self.folded.fold(&old);
            self.log = kept;
            self.fold_at = 2 * self.log.len();
        }
    }

    /// The times taken in `[from, to)` seconds, as one histogram (folded seconds count when
    /// they start in the window, as for runs).
    pub fn window(&self, from: f64, to: f64) -> Latency {
        let mut hist = Latency::default();
        self.log
            .iter()
            .filter(|r| (from..to).contains(&f64::from(r.ended_secs)))
            .for_each(|r| hist.record(r.elapsed()));
        self.folded
            .starting_in(from, to)
            .for_each(|(_, t)| t.record_into(&mut hist));
        hist
    }

    /// The times (ms) taken in `[from, to)` by time slice (at most `max`).
    pub fn slices(&self, from: f64, to: f64, max: usize) -> Vec<Vec<f64>> {
        super::slices::sliced(self.log.iter(), &self.folded, from, to, max).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reads_records_and_folded_seconds_alike() {
        let mut timed = Timed::default();
        // Enough times to fold: one a millisecond, 10 ms each for 100 s, then 20 ms.
        for i in 0..(FOLD_AT + 200_000) {
            let at = i as f32 / 1000.0;
            let ms = if at < 100.0 { 10 } else { 20 };
            timed.push(at, Duration::from_millis(ms));
        }
        assert!(!timed.folded.is_empty(), "old records folded");
        assert!(timed.log.len() < FOLD_AT + 200_000);
        let early = timed.window(10.0, 20.0);
        assert_eq!(early.count(), 10_000);
        assert!((early.quantile_ms(0.95).unwrap() - 10.0).abs() < 0.1);
        let late = timed.window(150.0, 160.0);
        assert_eq!(late.count(), 10_000);
        assert!((late.quantile_ms(0.5).unwrap() - 20.0).abs() < 0.1);
    }
}
