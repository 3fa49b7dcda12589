//! Collects run outcomes from every user while the load runs, into the result model.
//! Outcomes go to one of several shards by user, so users never wait on one global lock.

mod breakdown;
mod folded;
mod live_view;
mod mix;
mod outages;
mod parts;
mod reading;
mod record;
mod sessions;
mod slices;
mod state;
mod stripe;
mod throttle;
mod timed;
mod timeline;

use folded::Folded;
pub use live_view::LiveStats;
pub use parts::breakdown::ToolBuckets;
pub use parts::mix::ScenarioMeta;
pub use parts::sessions::SessionEnd;
use record::lock;
pub(crate) use record::RunRecord;
pub use record::WindowStats;
use record::{add_failure, slot};
pub use slices::Slicing;
pub use state::Collector;
use stripe::{merge, Shard};
use timeline::{timeline, value_stats};

use crate::client::outcome::{Failure, RunOutcome};
use crate::client::protocol::REQUIRED;
use crate::model::summary::*;
use crate::plan::checks::ResultCheck;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

/// Most values kept per check, to bound memory on long runs.
const MAX_VALUES: usize = 100_000;
impl Collector {
    /// The gauge of sockets open right now.
    pub fn open_gauge(&self) -> Arc<AtomicI64> {
        self.open.clone()
    }

    /// A socket was dropped or closed.
    pub fn socket_gone(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// The result checks, to evaluate a completed run against.
    pub fn checks(&self) -> &[ResultCheck] {
        &self.checks
    }

    /// Records a finished run of user `user`.
    pub fn run_finished(&self, user: usize, outcome: RunOutcome) {
        self.run_ended_at(user, outcome, self.started.elapsed().as_secs_f32());
        self.runs_ended.fetch_add(1, Ordering::Release);
    }

    fn run_ended_at(&self, user: usize, outcome: RunOutcome, ended_secs: f32) {
        if outcome
            .failure
            .as_ref()
            .is_some_and(Failure::is_interrupted)
        {
            // Cut by a stop's grace: the server started it, nothing judged it.
            let mut shard = self.shard(user);
            shard.counts.runs.started += 1;
            shard.counts.runs.interrupted += 1;
            return;
        }
        self.outage_run(outcome.failure.is_none(), ended_secs);
        if let Some(f) = &outcome.failure {
            self.note_throttle(f, parts::throttle::Attempt::Run);
        }
        lock(&self.breakdown).run(&outcome);
        let mut shard = self.shard(user);
        let sh = &mut *shard;
        if !self.mix.is_empty() {
            parts::mix::scenario_run(&mut sh.mix, &outcome);
        }
        parts::sessions::record_turn(&mut sh.by_turn, &outcome);
        sh.log.push(RunRecord {
            ended_secs,
            elapsed_ms: outcome.elapsed.as_secs_f32() * 1000.0,
            ok: outcome.failure.is_none(),
        });
        if sh.log.len() >= sh.fold_at.max(folded::FOLD_AT) {
            // Records older than the kept seconds become tallies; the next fold waits until
            // the log has doubled, so a fast test does not fold on every run.
            let cutoff = ended_secs - folded::KEEP_SECS;
            let (old, kept): (Vec<RunRecord>, Vec<RunRecord>) =
                sh.log.iter().partition(|r| r.ended_secs < cutoff);
            lock(&self.folded).fold(&old);
            sh.log = kept;
            sh.fold_at = 2 * sh.log.len();
        }
        let s = &mut sh.counts;
        s.runs.started += 1;
        match &outcome.failure {
            None => s.runs.completed += 1,
            Some(f) => {
                s.runs.failed += 1;
                add_failure(&mut s.failures, f);
            }
        }
        if s.funnel.is_empty() {
            s.funnel = REQUIRED.iter().map(|k| (k.name().to_string(), 0)).collect();
        }
        for (kind, (_, count)) in REQUIRED.iter().zip(s.funnel.iter_mut()) {
            if outcome.reached.contains(kind) {
                *count += 1;
            }
        }
        let mut previous = Duration::ZERO;
        for (name, at) in &outcome.timeline {
            let figures = slot(&mut sh.per_event, name);
            figures.count += 1;
            figures.from_start.record(*at);
            figures.gap_before.record(at.saturating_sub(previous));
            previous = *at;
        }
        if let Some((_, first)) = outcome.timeline.first() {
            sh.first_event.record(*first);
        }
        if outcome.failure.is_none() {
            sh.agent_run.record(outcome.elapsed);
            if let (Some((_, first)), Some((_, last))) =
                (outcome.timeline.first(), outcome.timeline.last())
            {
                sh.span.record(last.saturating_sub(*first));
            }
        }
        if let Some(data) = &outcome.final_data {
            for (check, (summary, values)) in self.checks.iter().zip(sh.checks.iter_mut()) {
                let (value, met) = check.evaluate(data);
                summary.runs += 1;
                summary.met += u64::from(met);
                match value {
                    Some(v) if values.len() < MAX_VALUES => values.push(v),
                    Some(_) => {}
                    None => summary.missing += 1,
                }
            }
        }
    }

    /// Records a connect attempt of user `user` and how long it took.
    pub fn connect_attempted(&self, user: usize, elapsed: Duration, failure: Option<&Failure>) {
        match failure {
            // A refusal by the platform's throttler is no outage: it answered.
            Some(f) if f.is_throttled() => self.note_throttle(f, parts::throttle::Attempt::Connect),
            _ => self.outage_connect(failure.is_none()),
        }
        let mut shard = self.shard(user);
        let s = &mut shard.counts;
        s.connections.attempted += 1;
        match failure {
            None => {
                s.connections.established += 1;
                shard.connect.record(elapsed);
                self.open.fetch_add(1, Ordering::Relaxed);
            }
            Some(f) => {
                s.connections.failed += 1;
                add_failure(&mut s.failures, f);
            }
        }
    }

    /// A run was picked up again on a new socket.
    pub fn resumed(&self, user: usize) {
        self.shard(user).counts.runs.resumed += 1;
    }

    /// A failure that belongs to no run or connect (an isolation leak, a security probe).
    pub fn note_failure(&self, user: usize, failure: &Failure) {
        self.note_throttle(failure, parts::throttle::Attempt::Other);
        add_failure(&mut self.shard(user).counts.failures, failure);
    }

    /// Frames of finished runs read off `user`'s socket and set aside.
    pub fn stale_frames(&self, user: usize, frames: u64) {
        if frames > 0 {
            self.shard(user).counts.stale_frames += frames;
        }
    }

    pub fn closed_cleanly(&self, user: usize) {
        self.shard(user).counts.connections.closed_cleanly += 1;
    }

    /// Everything collected so far, merged across shards.
    pub fn snapshot(&self) -> Summary {
        let mut total = Shard::default();
        let folded = {
            let (shards, folded) = self.all();
            for (i, sh) in shards.iter().enumerate() {
                merge(&mut total, sh, i == 0);
            }
            folded.clone()
        };
        let latency = total.latency_section();
        let sessions = self.sessions_summary(&total.by_turn);
        let mut s = total.counts;
        for (name, figures) in &total.per_event {
            *s.events.entry(name.clone()).or_default() += figures.count;
        }
        let (bucket, timeline) = timeline(&total.log, &folded);
        s.timeline_bucket_secs = bucket;
        s.timeline = timeline;
        s.timeline_origin_unix_ms = Some(self.origin_unix_ms);
        s.scenarios = self.scenarios();
        s.outages = self.outages().list(self.now_secs());
        s.throttled = self.throttled();
        if s.funnel.is_empty() {
            s.funnel = REQUIRED.iter().map(|k| (k.name().to_string(), 0)).collect();
        }
        s.latency = latency;
        s.sessions = sessions;
        s.breakdown = lock(&self.breakdown).whole.summary();
        s.checks = total
            .checks
            .into_iter()
            .map(|(mut c, mut values)| {
                c.share_met_percent = if c.runs == 0 {
                    0.0
                } else {
                    100.0 * c.met as f64 / c.runs as f64
                };
                c.values = value_stats(&mut values);
                c
            })
            .collect();
        s
    }

    /// Seconds since the collector was made (the load test's clock).
    pub fn now_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Every shard, then the folded tallies: one consistent view (no run is in a shard's log
    /// and in a tally, nor in neither). A user holds one shard and may then fold, so the
    /// shards are locked first, in order, and the tallies last.
    fn all(&self) -> (Vec<MutexGuard<'_, Shard>>, MutexGuard<'_, Folded>) {
        let shards = self.shards.iter().map(|s| lock(s)).collect();
        let folded = lock(&self.folded);
        (shards, folded)
    }

    fn shard(&self, user: usize) -> MutexGuard<'_, Shard> {
        lock(&self.shards[user % self.shards.len()])
    }
}

#[cfg(test)]
mod tests;
