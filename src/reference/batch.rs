//! A backend whose runs slow down together, as an LLM server batching requests does
//! (`--shared-capacity N`): nobody waits in line, every run starts at once, and with k runs
//! in flight past N each event's delay stretches to `event_delay × k / N` — the batch's
//! tokens per second shared among its requests. Up to N runs go at full speed.
//!
//! A run is in flight from its first event's delay (after `--max-concurrent-runs`' queue,
//! which still comes first) to its outcome, whatever that is; k counts the run itself and is
//! read when each delay starts, so a delay keeps the pace it began with. `/stats` gives the
//! runs in flight and their high-water mark, the figure the capacity tests check a
//! simulation of this backend against.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct Batch {
    in_flight: AtomicU64,
    peak: AtomicU64,
}

/// A run's place among the runs in flight, given back when dropped (the run ended).
pub struct InFlight<'a>(&'a Batch);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Batch {
    /// A run begins: counted in flight until the guard drops.
    pub fn begin(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        InFlight(self)
    }

    /// The runs in flight now, and the most there ever were.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// The delay before a run's next event: `base`, stretched by k / N past `shared` runs in
    /// flight (none: never stretched).
    pub fn delay(&self, base: Duration, shared: Option<usize>) -> Duration {
        stretched(base, self.in_flight(), shared)
    }
}

/// `base × k / N` when k runs in flight pass a shared capacity of N, else `base`.
pub fn stretched(base: Duration, k: u64, shared: Option<usize>) -> Duration {
    match shared {
        Some(n) if k > n.max(1) as u64 => base.mul_f64(k as f64 / n.max(1) as f64),
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_its_capacity_a_run_goes_at_full_speed_then_all_slow_together() {
        let d = Duration::from_millis(10);
        assert_eq!(stretched(d, 4, Some(4)), d);
        assert_eq!(stretched(d, 6, Some(4)), Duration::from_millis(15));
        assert_eq!(stretched(d, 40, None), d, "no knob: never stretched");
        let batch = Batch::default();
        let (a, b) = (batch.begin(), batch.begin());
        let c = batch.begin();
        assert_eq!(batch.delay(d, Some(2)), Duration::from_millis(15));
        drop((a, b));
        assert_eq!((batch.in_flight(), batch.peak()), (1, 3));
        assert_eq!(batch.delay(d, Some(2)), d);
        drop(c);
        assert_eq!((batch.in_flight(), batch.peak()), (0, 3));
    }
}
