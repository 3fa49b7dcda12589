//! Sessions as the collector keeps them while the load runs: counts, three histograms (length,
//! start lag, first turn), arrivals per second, and each ended session's start, end and first
//! turn (12 bytes), from which the snapshot draws concurrency over time. Runs by turn are kept
//! in the shards beside the runs themselves.

use crate::client::outcome::RunOutcome;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::sessions::{
    ArrivalWindow, SessionPoint, SessionsSummary, TurnFigures, TURN_ROWS,
};
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
pub(super) struct SessionFigures {
    model: Option<String>,
    window: Option<ArrivalWindow>,
    arrived: u64,
    dropped: u64,
    started: u64,
    completed: u64,
    failed: u64,
    cut: u64,
    duration: Option<Latency>,
    start_lag: Option<Latency>,
    first_turn: Option<Latency>,
    /// Per second of the test: arrivals due, and those dropped.
    arrivals: Vec<[u32; 2]>,
    /// Ended sessions, by the second of the test: what the timeline draws (memory grows with
    /// the test's length, not with its sessions).
    seconds: Vec<SessionSecond>,
    /// First turns by when they completed (a capacity step's hold reads its own).
    first_turns: super::timed::Timed,
}

impl SessionFigures {
    /// The counts and the arrival window, as a summary begins (`None`: no sessions).
    fn counts(&self) -> Option<SessionsSummary> {
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
struct SessionSecond {
    started: u32,
    first_turns: u32,
    first_sum_ms: f64,
    first_max_ms: f32,
    session_secs: f64,
}

/// Adds an ended session, `[start, stop)` seconds, first turn `first_ms` (NaN: none).
fn add_session(seconds: &mut Vec<SessionSecond>, start: f64, stop: f64, first_ms: f32) {
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
pub(super) struct TurnPart {
    started: u64,
    completed: u64,
    failed: u64,
    latency: Option<Latency>,
}

/// Records a run of a session's turn (a run of no session is not by turn).
pub(super) fn record_turn(rows: &mut Vec<TurnPart>, outcome: &RunOutcome) {
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
pub(super) fn add_turns(total: &mut Vec<TurnPart>, rows: &[TurnPart]) {
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

fn record(h: &mut Option<Latency>, d: Duration) {
    h.get_or_insert_with(Latency::default).record(d);
}

fn serialize(h: &Option<Latency>) -> Option<SerializedLatency> {
    h.as_ref().map(SerializedLatency::from)
}

impl super::Collector {
    /// The test's users hold sessions (`open` or `closed`): the summary gets a sessions part.
    pub fn expect_sessions(&self, model: &str) {
        self.sessions().model = Some(model.to_string());
    }

    /// The open model's arrivals began at `origin` (seconds from the test's start) and last
    /// `duration`, planning `planned` sessions.
    pub fn arrivals_began(&self, origin: f64, duration: f64, planned: f64) {
        self.sessions().window = Some(ArrivalWindow {
            from_secs: origin,
            to_secs: origin + duration,
            planned,
        });
    }

    /// An arrival came due at `at_secs`; `dropped` when no user was free for it.
    pub fn session_arrived(&self, at_secs: f64, dropped: bool) {
        let mut s = self.sessions();
        s.arrived += 1;
        s.dropped += u64::from(dropped);
        let second = at_secs.max(0.0) as usize;
        if s.arrivals.len() <= second {
            s.arrivals.resize(second + 1, [0, 0]);
        }
        s.arrivals[second][0] += 1;
        s.arrivals[second][1] += u32::from(dropped);
    }

    /// A session began, `lag` after it was due (open model).
    pub fn session_started(&self, lag: Option<Duration>) {
        let mut s = self.sessions();
        s.started += 1;
        if let Some(lag) = lag {
            record(&mut s.start_lag, lag);
        }
    }

    /// A session's first turn completed, `d` after the session was due (or began).
    pub fn first_turn(&self, d: Duration) {
        let now = self.now_secs() as f32;
        let mut s = self.sessions();
        record(&mut s.first_turn, d);
        s.first_turns.push(now, d);
    }

    /// The first turns that completed in `[from, to)` seconds.
    pub fn window_first_turns(&self, from: f64, to: f64) -> Latency {
        self.sessions().first_turns.window(from, to)
    }

    /// The first turns (ms) that completed in `[from, to)`, by time slice (at most `max`).
    pub fn window_first_turn_slices(&self, from: f64, to: f64, max: usize) -> Vec<Vec<f64>> {
        self.sessions().first_turns.slices(from, to, max)
    }

    /// Arrivals due in `[from, to)` (whole seconds), and those dropped.
    pub fn window_arrivals(&self, from: f64, to: f64) -> (u64, u64) {
        let s = self.sessions();
        let first = from.max(0.0).ceil() as usize;
        let last = to.max(0.0).ceil() as usize;
        s.arrivals
            .iter()
            .take(last)
            .skip(first)
            .fold((0, 0), |(a, d), [arrived, dropped]| {
                (a + u64::from(*arrived), d + u64::from(*dropped))
            })
    }

    /// The mean length of the sessions completed so far, seconds (`None`: none yet).
    pub fn mean_session_secs(&self) -> Option<f64> {
        let s = self.sessions();
        let d = s.duration.as_ref().filter(|d| d.count() > 0)?;
        Some(d.stats().mean_ms / 1000.0)
    }

    /// Sessions arrived so far, and sessions open now (started, not ended).
    pub fn sessions_now(&self) -> (u64, u64) {
        let s = self.sessions();
        let ended = s.completed + s.failed + s.cut;
        (s.arrived, s.started.saturating_sub(ended))
    }

    pub fn session_ended(&self, end: SessionEnd) {
        let now = self.now_secs();
        let mut s = self.sessions();
        match (end.failed, end.cut) {
            (true, _) => s.failed += 1,
            (false, true) => s.cut += 1,
            (false, false) => {
                s.completed += 1;
                if !end.resumed {
                    let length = Duration::from_secs_f64((now - end.started_secs).max(0.0));
                    record(&mut s.duration, length);
                }
            }
        }
        let first_ms = end
            .first_turn
            .map_or(f32::NAN, |d| d.as_secs_f32() * 1000.0);
        add_session(&mut s.seconds, end.started_secs, now, first_ms);
    }

    /// Sessions so far: (started, completed, failed + cut, dropped), for the live line.
    pub fn session_counts(&self) -> Option<(u64, u64, u64, u64)> {
        let s = self.sessions();
        s.model.as_ref()?;
        Some((s.started, s.completed, s.failed + s.cut, s.dropped))
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, SessionFigures> {
        self.session_figures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Sessions' counts and first turns, without their timeline.
    pub(super) fn session_reading(&self) -> Option<SessionsSummary> {
        let s = self.sessions();
        Some(SessionsSummary {
            first_turn: s.first_turn.clone().map(SerializedLatency::live),
            ..s.counts()?
        })
    }

    /// The sessions part of a snapshot, with the shards' runs by turn.
    pub(super) fn sessions_summary(&self, turns: &[TurnPart]) -> Option<SessionsSummary> {
        let s = self.sessions();
        let counts = s.counts()?;
        let by_turn = turns
            .iter()
            .enumerate()
            .filter(|(_, t)| t.started > 0)
            .map(|(i, t)| TurnFigures {
                turn: i as u32 + 1,
                started: t.started,
                completed: t.completed,
                failed: t.failed,
                latency: serialize(&t.latency),
            })
            .collect();
        let (bucket, timeline) = session_timeline(&s.seconds, &s.arrivals);
        let mut summary = SessionsSummary {
            duration: serialize(&s.duration),
            start_lag: serialize(&s.start_lag),
            first_turn: serialize(&s.first_turn),
            by_turn,
            timeline_bucket_secs: bucket,
            timeline,
            ..counts
        };
        summary.derive_littles_law();
        Some(summary)
    }
}

/// Per-bucket points (1 s, wider on long tests: at most ~300): arrivals, starts, mean
/// concurrency (the ended sessions' seconds in the bucket), first turns by start.
fn session_timeline(seconds: &[SessionSecond], arrivals: &[[u32; 2]]) -> (f64, Vec<SessionPoint>) {
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
