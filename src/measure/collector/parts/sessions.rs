//! Sessions as the collector keeps them while the load runs: counts, three histograms (length,
//! start lag, first turn), arrivals per second, and each ended session's start, end and first
//! turn (12 bytes), from which the snapshot draws concurrency over time. Runs by turn are kept
//! in the shards beside the runs themselves.

use crate::client::outcome::RunOutcome;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::sessions::{ArrivalWindow, SessionPoint, SessionsSummary, TURN_ROWS};
use std::time::Duration;

/// How a session ended, as its user tells the collector.
#[derive(Debug, Clone)]
pub struct SessionEnd {
    /// Seconds from the test's start.
    pub started_secs: f64,
    /// From when it was due (or began) to its first turn's completion (already told to the
    /// collector by `first_turn`; kept for the session's line in the timeline).
    pub first_turn: Option<Duration>,
    pub failed: bool,
    pub cut: bool,
    /// Started part-way (a live rate rose): its length here is what was left of it, not a
    /// session's, and is not counted as one.
    pub resumed: bool,
}

#[derive(Default)]
pub(crate) struct SessionFigures {
    pub(crate) model: Option<String>,
    pub(crate) window: Option<ArrivalWindow>,
    pub(crate) arrived: u64,
    pub(crate) dropped: u64,
    pub(crate) started: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) cut: u64,
    pub(crate) duration: Option<Latency>,
    pub(crate) start_lag: Option<Latency>,
    pub(crate) first_turn: Option<Latency>,
    /// Per second of the test: arrivals due, and those dropped.
    pub(crate) arrivals: Vec<[u32; 2]>,
    /// Ended sessions, by the second of the test: what the timeline draws (memory grows with
    /// the test's length, not with its sessions).
    pub(crate) seconds: Vec<SessionSecond>,
    /// First turns by when they completed (a capacity step's hold reads its own).
    pub(crate) first_turns: super::super::timed::Timed,
}

impl SessionFigures {
    /// The counts and the arrival window, as a summary begins (`None`: no sessions).
    pub(crate) fn counts(&self) -> Option<SessionsSummary> {
        Some(SessionsSummary {
            model: self.model.clone()?,
            arrived: self.arrived,
            dropped: self.dropped,
            started: self.started,
            completed: self.completed,
            failed: self.failed,
            cut: self.cut,
            arrivals: self.window,
            ..SessionsSummary::default()
        })
    }
}

/// The ended sessions of one second of the test: those that started in it, with their first
/// turns, and the session-seconds every ended session spent in it.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct SessionSecond {
    pub(crate) started: u32,
    pub(crate) first_turns: u32,
    pub(crate) first_sum_ms: f64,
    pub(crate) first_max_ms: f32,
    pub(crate) session_secs: f64,
}

/// Adds an ended session, `[start, stop)` seconds, first turn `first_ms` (NaN: none).
pub(crate) fn add_session(seconds: &mut Vec<SessionSecond>, start: f64, stop: f64, first_ms: f32) {
    let (first, last) = (start.max(0.0) as usize, stop.max(0.0) as usize);
    if seconds.len() <= last {
        seconds.resize(last + 1, SessionSecond::default());
    }
    let at = &mut seconds[first];
    at.started += 1;
    if !first_ms.is_nan() {
        at.first_turns += 1;
        at.first_sum_ms += f64::from(first_ms);
        at.first_max_ms = at.first_max_ms.max(first_ms);
    }
    for (i, second) in seconds.iter_mut().enumerate().take(last + 1).skip(first) {
        let overlap = stop.min(i as f64 + 1.0) - start.max(i as f64);
        if overlap > 0.0 {
            second.session_secs += overlap;
        }
    }
}

/// One turn's runs, in a shard.
#[derive(Default, Clone)]
pub(crate) struct TurnPart {
    pub(crate) started: u64,
    pub(crate) completed: u64,
    pub(crate) failed: u64,
    pub(crate) latency: Option<Latency>,
}

/// Records a run of a session's turn (a run of no session is not by turn).
pub(crate) fn record_turn(rows: &mut Vec<TurnPart>, outcome: &RunOutcome) {
    let Some(turn) = outcome.turn else { return };
    let row = turn.clamp(1, TURN_ROWS) as usize - 1;
    if rows.len() <= row {
        rows.resize(row + 1, TurnPart::default());
    }
    let part = &mut rows[row];
    part.started += 1;
    match outcome.failure {
        None => {
            part.completed += 1;
            part.latency
                .get_or_insert_with(Latency::default)
                .record(outcome.elapsed);
        }
        Some(_) => part.failed += 1,
    }
}

/// Adds a shard's rows to `total`.
pub(crate) fn add_turns(total: &mut Vec<TurnPart>, rows: &[TurnPart]) {
    if total.len() < rows.len() {
        total.resize(rows.len(), TurnPart::default());
    }
    for (t, r) in total.iter_mut().zip(rows) {
        t.started += r.started;
        t.completed += r.completed;
        t.failed += r.failed;
        if let Some(l) = &r.latency {
            t.latency.get_or_insert_with(Latency::default).add(l);
        }
    }
}

pub(crate) fn record(h: &mut Option<Latency>, d: Duration) {
    h.get_or_insert_with(Latency::default).record(d);
}

pub(crate) fn serialize(h: &Option<Latency>) -> Option<SerializedLatency> {
    h.as_ref().map(SerializedLatency::from)
}

/// Per-bucket points (1 s, wider on long tests: at most ~300): arrivals, starts, mean
/// concurrency (the ended sessions' seconds in the bucket), first turns by start.
pub(crate) fn session_timeline(
    seconds: &[SessionSecond],
    arrivals: &[[u32; 2]],
) -> (f64, Vec<SessionPoint>) {
    let end = seconds.len().max(arrivals.len()) as f64;
    if end <= 0.0 {
        return (1.0, Vec::new());
    }
    let bucket = (end / 300.0).ceil().max(1.0);
    let count = ((end - 1.0) / bucket).floor() as usize + 1;
    let mut points: Vec<SessionPoint> = (0..count)
        .map(|i| SessionPoint {
            at_secs: i as f64 * bucket,
            ..Default::default()
        })
        .collect();
    let index = |second: usize| ((second as f64 / bucket) as usize).min(count - 1);
    for (second, [arrived, dropped]) in arrivals.iter().enumerate() {
        let p = &mut points[index(second)];
        p.arrived += u64::from(*arrived);
        p.dropped += u64::from(*dropped);
    }
    for (second, s) in seconds.iter().enumerate() {
        let p = &mut points[index(second)];
        p.started += u64::from(s.started);
        p.concurrency += s.session_secs / bucket;
        if s.first_turns > 0 {
            let sum = p.first_turn_mean_ms.unwrap_or(0.0) * p.first_turns as f64 + s.first_sum_ms;
            p.first_turns += u64::from(s.first_turns);
            p.first_turn_mean_ms = Some(sum / p.first_turns as f64);
            let max = f64::from(s.first_max_ms);
            p.first_turn_max_ms = Some(p.first_turn_max_ms.map_or(max, |m| m.max(max)));
        }
    }
    (bucket, points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_is_the_session_seconds_in_each_bucket() {
        // Two sessions: [0.5, 2.5) and [1, 2).
        let mut seconds = Vec::new();
        add_session(&mut seconds, 0.5, 2.5, 100.0);
        add_session(&mut seconds, 1.0, 2.0, f32::NAN);
        let (bucket, points) = session_timeline(&seconds, &[[1, 0], [1, 1]]);
        assert_eq!(bucket, 1.0);
        let c: Vec<f64> = points.iter().map(|p| p.concurrency).collect();
        assert_eq!(c, vec![0.5, 2.0, 0.5]);
        assert_eq!((points[0].started, points[1].started), (1, 1));
        assert_eq!(points[0].first_turn_max_ms, Some(100.0));
        assert_eq!((points[1].arrived, points[1].dropped), (1, 1));
    }
}
