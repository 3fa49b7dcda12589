//! A cheap reading of a running test, for what looks at it every second or more often (the
//! `abort_on_fail` guard, the `--metrics-addr` exporter): counts and failures, result checks'
//! shares, the connect, first-event and agent-run histograms (merged in memory, never
//! encoded), shed load and sessions' counts. No timeline, no per-event histograms, no value
//! distributions: those are the snapshot's (checkpoints, the end). One reading serves every
//! reader for `FRESH`.

use super::state::Collector;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::summary::{LatencySection, Summary};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one reading serves (a scrape and the guard's tick in the same moment share it).
const FRESH: Duration = Duration::from_millis(250);

impl Collector {
    /// The figures so far, cheaply (see the module); shared, not copied.
    pub fn reading(&self) -> Arc<Summary> {
        let mut cached = self.reading.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, reading)) = &cached.0 {
            if at.elapsed() < FRESH {
                return reading.clone();
            }
        }
        let reading = Arc::new(self.read());
        cached.0 = Some((Instant::now(), reading.clone()));
        reading
    }

    fn read(&self) -> Summary {
        let mut total = Summary::default();
        let (mut connect, mut first_event, mut agent_run) =
            (Latency::default(), Latency::default(), Latency::default());
        let mut checks = Vec::new();
        // Each shard in turn: no user waits on more than one lock at a time.
        for shard in &self.shards {
            let sh = shard.lock().unwrap_or_else(|p| p.into_inner());
            total.add_counts(&sh.counts);
            connect.add(&sh.connect);
            first_event.add(&sh.first_event);
            agent_run.add(&sh.agent_run);
            if checks.is_empty() {
                checks = sh.checks.iter().map(|(c, _)| c.clone()).collect();
            } else {
                for (t, (c, _)) in checks.iter_mut().zip(&sh.checks) {
                    t.runs += c.runs;
                    t.met += c.met;
                    t.missing += c.missing;
                }
            }
        }
        for c in &mut checks {
            c.share_met_percent = match c.runs {
                0 => 0.0,
                n => 100.0 * c.met as f64 / n as f64,
            };
        }
        let live = |l: Latency| (l.count() > 0).then(|| SerializedLatency::live(l));
        total.latency = LatencySection {
            connect: live(connect),
            time_to_first_event: live(first_event),
            agent_run: live(agent_run),
            ..LatencySection::default()
        };
        total.checks = checks;
        total.scenarios = self.scenarios();
        total.throttled = self.throttled();
        total.sessions = self.session_reading();
        total.duration_secs = self.now_secs();
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::outcome::RunOutcome;

    fn run(ms: u64, ok: bool) -> RunOutcome {
        RunOutcome {
            failure: (!ok).then(|| crate::client::outcome::Failure::new("agent.error", "x")),
            reached: Default::default(),
            timeline: Vec::new(),
            elapsed: Duration::from_millis(ms),
            final_data: None,
            scenario: 0,
            turn: None,
            trace: Default::default(),
        }
    }

    #[test]
    fn a_reading_has_the_snapshots_counts_and_percentiles() {
        let c = Collector::default();
        for user in 0..40 {
            c.run_finished(user, run(100 + user as u64 * 10, user % 10 != 0));
        }
        let reading = c.reading();
        let full = c.snapshot();
        assert_eq!(reading.runs, full.runs);
        assert_eq!(reading.failures, full.failures);
        assert_eq!(reading.error_rate_percent(), full.error_rate_percent());
        let (r, f) = (
            reading.latency.agent_run.as_ref().unwrap(),
            full.latency.agent_run.as_ref().unwrap(),
        );
        assert_eq!(r.stats, f.stats);
        assert!(r.histogram.is_empty(), "a reading encodes nothing");
        assert_eq!(
            r.latency().unwrap().quantile_ms(0.9),
            f.latency().unwrap().quantile_ms(0.9)
        );
        // Readings close together are one.
        assert!(Arc::ptr_eq(&reading, &c.reading()));
    }
}
