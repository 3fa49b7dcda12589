//! What the collector tells of sessions (their figures are `parts::sessions`'s).

use super::parts::sessions::*;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::sessions::*;
use std::time::Duration;

impl super::state::Collector {
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
