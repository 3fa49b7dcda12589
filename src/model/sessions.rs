//! Sessions in the result model: how many arrived, were dropped, started, completed, failed or
//! were cut; how long they lasted and how long their first turn took from when they were due;
//! runs by turn; concurrency over time beside Little's law (L = λ·W). Everything adds up
//! across shards: counts, exact histograms, per-second series.

pub use super::metrics::add_latency;
use super::metrics::SerializedLatency;
use serde::{Deserialize, Serialize};

/// Runs by turn keep one row per turn up to this one; later turns share the last row.
pub const TURN_ROWS: u32 = 32;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SessionsSummary {
    /// `open` (sessions arrive on a schedule) or `closed` (each user holds one after another).
    pub model: String,
    /// Open: arrivals due (dropped ones included), and those that found no free user.
    pub arrived: u64,
    pub dropped: u64,
    pub started: u64,
    /// Every turn's run completed and passed.
    pub completed: u64,
    /// A turn failed, or the user could not connect.
    pub failed: u64,
    /// Ended by the test's end (or a stop, or `max_runs`) before its last turn.
    pub cut: u64,
    /// Open: the arrival schedule, seconds from the test's start, and the sessions it planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<ArrivalWindow>,
    /// Completed sessions' length, first connect to close.
    pub duration: Option<SerializedLatency>,
    /// Open: from when an arrival was due to when a user took it (the generator's lag).
    pub start_lag: Option<SerializedLatency>,
    /// From when the session was due (open) or began (closed) to its first turn's completion:
    /// login, connect and the first run, as the user waits for them.
    pub first_turn: Option<SerializedLatency>,
    /// Runs by their turn in the session (1-based; the last row holds every later turn).
    pub by_turn: Vec<TurnFigures>,
    /// Per bucket (by the second sessions started or arrived): concurrency and arrivals.
    pub timeline_bucket_secs: f64,
    pub timeline: Vec<SessionPoint>,
    /// Mean concurrency in the steady part of the arrivals beside λ·W.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub littles_law: Option<LittlesLaw>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct ArrivalWindow {
    pub from_secs: f64,
    pub to_secs: f64,
    /// Sessions the schedule planned (its rate's integral).
    pub planned: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TurnFigures {
    pub turn: u32,
    pub started: u64,
    pub completed: u64,
    pub failed: u64,
    /// Completed runs' time.
    pub latency: Option<SerializedLatency>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SessionPoint {
    pub at_secs: f64,
    /// Arrivals due in the bucket, and those dropped.
    pub arrived: u64,
    pub dropped: u64,
    /// Sessions that started in the bucket.
    pub started: u64,
    /// Mean sessions in progress over the bucket (session-seconds / seconds).
    pub concurrency: f64,
    /// First turns of sessions that began in the bucket: count, mean and max (ms).
    pub first_turns: u64,
    pub first_turn_mean_ms: Option<f64>,
    pub first_turn_max_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct LittlesLaw {
    /// The window judged: past the first mean session length, up to the arrivals' end.
    pub from_secs: f64,
    pub to_secs: f64,
    pub mean_concurrency: f64,
    /// Sessions started per second in the window.
    pub arrival_rate: f64,
    pub mean_duration_secs: f64,
    /// λ·W.
    pub predicted: f64,
}

impl SessionsSummary {
    /// Sessions that ended (completed, failed or cut).
    pub fn ended(&self) -> u64 {
        self.completed + self.failed + self.cut
    }

    /// Arrivals per second measured over the schedule.
    pub fn arrival_rate(&self) -> Option<f64> {
        let w = self.arrivals?;
        let secs = w.to_secs - w.from_secs;
        (secs > 0.0).then(|| self.arrived as f64 / secs)
    }

    /// Dropped arrivals over arrivals, percent.
    pub fn dropped_percent(&self) -> f64 {
        match self.arrived {
            0 => 0.0,
            n => 100.0 * self.dropped as f64 / n as f64,
        }
    }

    /// Little's law over the steady part of the arrivals (after the first mean session
    /// length): the timeline's mean concurrency, the sessions started per second in it, and
    /// the completed sessions' mean length.
    pub fn derive_littles_law(&mut self) {
        self.littles_law = None;
        let (Some(window), Some(duration)) = (self.arrivals, &self.duration) else {
            return;
        };
        let w = duration.stats.mean_ms / 1000.0;
        let bucket = self.timeline_bucket_secs;
        let from = window.from_secs + w;
        if bucket <= 0.0 || w <= 0.0 || from + bucket > window.to_secs {
            return;
        }
        let inside: Vec<&SessionPoint> = self
            .timeline
            .iter()
            .filter(|p| p.at_secs >= from && p.at_secs + bucket <= window.to_secs)
            .collect();
        let Some(first) = inside.first() else { return };
        let secs = inside.len() as f64 * bucket;
        let mean_concurrency =
            inside.iter().map(|p| p.concurrency).sum::<f64>() / inside.len() as f64;
        let rate = inside.iter().map(|p| p.started).sum::<u64>() as f64 / secs;
        self.littles_law = Some(LittlesLaw {
            from_secs: first.at_secs,
            to_secs: first.at_secs + secs,
            mean_concurrency,
            arrival_rate: rate,
            mean_duration_secs: w,
            predicted: rate * w,
        });
    }

    /// Adds `other` (another shard's sessions) to these: counts, histograms, rows and points.
    pub fn add(&mut self, other: &SessionsSummary) -> Result<(), String> {
        if self.model.is_empty() {
            self.model = other.model.clone();
        }
        self.arrived += other.arrived;
        self.dropped += other.dropped;
        self.started += other.started;
        self.completed += other.completed;
        self.failed += other.failed;
        self.cut += other.cut;
        self.arrivals = match (self.arrivals, other.arrivals) {
            (Some(a), Some(b)) => Some(ArrivalWindow {
                from_secs: a.from_secs.min(b.from_secs),
                to_secs: a.to_secs.max(b.to_secs),
                planned: a.planned + b.planned,
            }),
            (a, b) => a.or(b),
        };
        self.duration = add_latency(&self.duration, &other.duration)?;
        self.start_lag = add_latency(&self.start_lag, &other.start_lag)?;
        self.first_turn = add_latency(&self.first_turn, &other.first_turn)?;
        for row in &other.by_turn {
            match self.by_turn.iter_mut().find(|r| r.turn == row.turn) {
                Some(mine) => {
                    mine.started += row.started;
                    mine.completed += row.completed;
                    mine.failed += row.failed;
                    mine.latency = add_latency(&mine.latency, &row.latency)?;
                }
                None => self.by_turn.push(row.clone()),
            }
        }
        self.by_turn.sort_by_key(|r| r.turn);
        if self.timeline_bucket_secs == 0.0 {
            self.timeline_bucket_secs = other.timeline_bucket_secs;
        }
        for point in &other.timeline {
            let same = self
                .timeline
                .iter_mut()
                .find(|p| (p.at_secs - point.at_secs).abs() < 1e-6);
            match same {
                Some(mine) => add_point(mine, point),
                None => self.timeline.push(point.clone()),
            }
        }
        self.timeline
            .sort_by(|a, b| a.at_secs.total_cmp(&b.at_secs));
        self.derive_littles_law();
        Ok(())
    }
}

fn add_point(mine: &mut SessionPoint, other: &SessionPoint) {
    let sum = |p: &SessionPoint| {
        p.first_turn_mean_ms
            .map_or(0.0, |m| m * p.first_turns as f64)
    };
    let total = sum(mine) + sum(other);
    mine.arrived += other.arrived;
    mine.dropped += other.dropped;
    mine.started += other.started;
    mine.concurrency += other.concurrency;
    mine.first_turns += other.first_turns;
    mine.first_turn_mean_ms = (mine.first_turns > 0).then(|| total / mine.first_turns as f64);
    mine.first_turn_max_ms = match (mine.first_turn_max_ms, other.first_turn_max_ms) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::metrics::Latency;
    use std::time::Duration;

    fn latency(ms: &[u64]) -> Option<SerializedLatency> {
        let mut l = Latency::default();
        ms.iter().for_each(|m| l.record(Duration::from_millis(*m)));
        Some(SerializedLatency::from(&l))
    }

    fn steady(shard_concurrency: f64) -> SessionsSummary {
        SessionsSummary {
            model: "open".into(),
            arrived: 40,
            started: 40,
            completed: 40,
            arrivals: Some(ArrivalWindow {
                from_secs: 1.0,
                to_secs: 21.0,
                planned: 40.0,
            }),
            duration: latency(&[5000; 40]),
            timeline_bucket_secs: 1.0,
            timeline: (1..=25)
                .map(|s| SessionPoint {
                    at_secs: s as f64,
                    started: if s <= 20 { 2 } else { 0 },
                    concurrency: shard_concurrency,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn littles_law_holds_on_a_steady_schedule() {
        // 2 sessions/s of 5 s each: 10 in progress.
        let mut s = steady(10.0);
        s.derive_littles_law();
        let law = s.littles_law.unwrap();
        assert_eq!((law.from_secs, law.to_secs), (6.0, 21.0));
        // The histogram's mean is exact to its precision (3 significant figures).
        assert!((law.predicted - 10.0).abs() < 0.01, "{law:?}");
        assert!((law.mean_concurrency / law.predicted - 1.0).abs() < 0.001);
        assert_eq!(s.arrival_rate(), Some(2.0));
    }

    #[test]
    fn shards_add_up() {
        let mut a = steady(10.0);
        a.by_turn = vec![TurnFigures {
            turn: 1,
            started: 40,
            completed: 40,
            failed: 0,
            latency: latency(&[300; 40]),
        }];
        let b = a.clone();
        a.add(&b).unwrap();
        assert_eq!((a.arrived, a.completed), (80, 80));
        assert_eq!(a.by_turn[0].latency.as_ref().unwrap().stats.count, 80);
        assert_eq!(a.timeline[5].concurrency, 20.0);
        let law = a.littles_law.unwrap();
        assert!((law.predicted - 20.0).abs() < 0.02 && (law.mean_concurrency - 20.0).abs() < 1e-9);
    }
}
