//! A load whose level moves while it runs: the capacity search's knob. The level is an
//! arrival rate (sessions per second, the open model) or seats (users admitted, the closed
//! one), and it moves linearly from where it is to a new level over a ramp. The feeder draws
//! arrivals on the live rate; a closed user begins work only while its seat is admitted.
//! The load shows its controller what it runs on (`Attached`) once its attack starts.

mod population;

use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use crate::model::resources::Sample;
use crate::model::server::ServerMetrics;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What the level moves: sessions arriving per second, or seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    Rate,
    Seats,
}

/// The level from `start`: `from`, then linearly to `to` over `over`, then `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ramp {
    pub from: f64,
    pub to: f64,
    pub start: Instant,
    pub over: Duration,
}

impl Ramp {
    fn flat(level: f64) -> Ramp {
        Ramp {
            from: level,
            to: level,
            start: Instant::now(),
            over: Duration::ZERO,
        }
    }

    /// The level at `t`.
    pub fn at(&self, t: Instant) -> f64 {
        level_at(self.from, self.to, self.over.as_secs_f64(), self.secs(t))
    }

    fn secs(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_secs_f64()
    }

    fn instant(&self, secs: f64) -> Instant {
        self.start + Duration::from_secs_f64(secs.clamp(0.0, 1e9))
    }

    /// The level integrated from `t0` to `t1` (arrivals due between them, for a rate).
    pub fn integral(&self, t0: Instant, t1: Instant) -> f64 {
        let over = self.over.as_secs_f64();
        let cumulative = |s: f64| cumulative(self.from, self.to, over, s);
        cumulative(self.secs(t1)) - cumulative(self.secs(t0))
    }

    /// When `amount` more arrivals are due after `t0`; `None` when the rate stays at 0.
    pub fn time_of(&self, t0: Instant, amount: f64) -> Option<Instant> {
        let over = self.over.as_secs_f64();
        let s0 = self.secs(t0);
        let target = cumulative(self.from, self.to, over, s0) + amount;
        time_of_cumulative(self.from, self.to, over, target).map(|s| self.instant(s.max(s0)))
    }

    /// When the level first exceeds `x`, at or after `t0`; `None` when it never does.
    pub fn exceeds(&self, t0: Instant, x: f64) -> Option<Instant> {
        if self.at(t0) > x {
            return Some(t0);
        }
        // Only a rising ramp can cross `x` later.
        if self.to <= x || self.to <= self.from {
            return None;
        }
        let over = self.over.as_secs_f64();
        let s = over * (x - self.from) / (self.to - self.from);
        // Just past the crossing, so the level there exceeds `x`.
        Some(self.instant(s).max(t0) + Duration::from_micros(1))
    }
}

fn level_at(from: f64, to: f64, over: f64, s: f64) -> f64 {
    if s >= over || over <= 0.0 {
        to
    } else {
        from + (to - from) * (s / over).max(0.0)
    }
}

/// ∫₀ˢ of the level.
fn cumulative(from: f64, to: f64, over: f64, s: f64) -> f64 {
    let s = s.max(0.0);
    if over <= 0.0 {
        return to * s;
    }
    let ramp = s.min(over);
    let during = from * ramp + (to - from) * ramp * ramp / (2.0 * over);
    during + to * (s - ramp).max(0.0)
}

/// The `s` at which `cumulative` reaches `target` (`None`: never).
fn time_of_cumulative(from: f64, to: f64, over: f64, target: f64) -> Option<f64> {
    if target <= 0.0 {
        return Some(0.0);
    }
    let in_ramp = cumulative(from, to, over, over);
    if over > 0.0 && target <= in_ramp {
        // from·s + k·s² = target, k = (to − from) / (2·over): the root, written to stay exact
        // when k is ~0.
        let k = (to - from) / (2.0 * over);
        let root = (from * from + 4.0 * k * target).max(0.0).sqrt();
        return match from + root {
            d if d > 0.0 => Some(2.0 * target / d),
            _ => None,
        };
    }
    (to > 0.0).then(|| over.max(0.0) + (target - in_ramp) / to)
}

/// The live level of one load.
pub struct Level {
    knob: Knob,
    tx: watch::Sender<Ramp>,
    /// A live rate's sessions, moved with it (the open model).
    pub population: population::Population,
}

impl Level {
    pub fn new(knob: Knob) -> Level {
        Level {
            knob,
            tx: watch::Sender::new(Ramp::flat(0.0)),
            population: population::Population::default(),
        }
    }

    pub fn knob(&self) -> Knob {
        self.knob
    }

    /// The level now.
    pub fn now(&self) -> f64 {
        self.tx.borrow().at(Instant::now())
    }

    pub fn ramp(&self) -> Ramp {
        *self.tx.borrow()
    }

    /// Moves from where the level is now to `to` over `over`.
    pub fn move_to(&self, to: f64, over: Duration) {
        let now = Instant::now();
        let from = self.tx.borrow().at(now);
        self.tx.send_replace(Ramp {
            from,
            to,
            start: now,
            over,
        });
    }

    /// A receiver that wakes when the level is moved.
    pub fn watch(&self) -> watch::Receiver<Ramp> {
        self.tx.subscribe()
    }

    /// Seat `seat` (from 0) is admitted now.
    pub fn admits(&self, seat: usize) -> bool {
        self.now() > seat as f64
    }

    /// Waits until seat `seat` is admitted; false when the test stops first.
    pub async fn admitted(&self, seat: usize, stop: &Stop) -> bool {
        let mut rx = self.tx.subscribe();
        loop {
            let ramp = *rx.borrow_and_update();
            let now = Instant::now();
            let at = ramp.exceeds(now, seat as f64);
            if at.is_some_and(|at| at <= now) {
                return true;
            }
            let crossing = async {
                match at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = crossing => {}
                moved = rx.changed() => if moved.is_err() { return false },
                () = stop.asked() => return false,
            }
        }
    }
}

/// What a live load runs on, shown to its controller once the attack starts.
#[derive(Clone)]
pub struct Attached {
    pub collector: Arc<Collector>,
    pub stop: Arc<Stop>,
    /// The sampler's readings so far (`None`: the sampler is off).
    pub samples: Option<Arc<Mutex<Vec<Sample>>>>,
    /// The deployment's polled metrics so far.
    pub server: Arc<Mutex<ServerMetrics>>,
}

/// A load run live: its level, and what it runs on once it runs.
pub struct Live {
    pub level: Arc<Level>,
    attached: OnceLock<Attached>,
    /// Set when the load is attached, or has ended without ever attaching.
    ready: watch::Sender<bool>,
    /// Set when the load has ended.
    ended: watch::Sender<bool>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Live({:?} at {:.3})",
            self.level.knob(),
            self.level.now()
        )
    }
}

impl Live {
    pub fn new(knob: Knob) -> Live {
        Live {
            level: Arc::new(Level::new(knob)),
            attached: OnceLock::new(),
            ready: watch::Sender::new(false),
            ended: watch::Sender::new(false),
        }
    }

    /// The load's attack is starting on these.
    pub fn attach(&self, attached: Attached) {
        let _ = self.attached.set(attached);
        self.ready.send_replace(true);
    }

    /// The load has ended (before or after attaching).
    pub fn detach(&self) {
        self.ready.send_replace(true);
        self.ended.send_replace(true);
    }

    /// Resolves once the load has ended.
    pub async fn ended(&self) {
        let mut rx = self.ended.subscribe();
        let _ = rx.wait_for(|ended| *ended).await;
    }

    /// Waits for the load to attach; `None` when it ended without (a setup error).
    pub async fn attached(&self) -> Option<Attached> {
        let mut rx = self.ready.subscribe();
        let _ = rx.wait_for(|ready| *ready).await;
        self.attached.get().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_integral_of_a_ramp_then_flat_is_exact_and_inverts() {
        // 0 → 4/s over 10 s (20 arrivals), then 4/s.
        assert!((cumulative(0.0, 4.0, 10.0, 10.0) - 20.0).abs() < 1e-9);
        assert!((cumulative(0.0, 4.0, 10.0, 12.0) - 28.0).abs() < 1e-9);
        assert!((time_of_cumulative(0.0, 4.0, 10.0, 10.0).unwrap() - 50f64.sqrt()).abs() < 1e-9);
        assert!((time_of_cumulative(0.0, 4.0, 10.0, 28.0).unwrap() - 12.0).abs() < 1e-9);
        // Down from 4/s to 0: 20 arrivals in the ramp, none after.
        assert!((time_of_cumulative(4.0, 0.0, 10.0, 20.0).unwrap() - 10.0).abs() < 1e-6);
        assert_eq!(time_of_cumulative(4.0, 0.0, 10.0, 21.0), None);
        assert_eq!(time_of_cumulative(0.0, 0.0, 0.0, 1.0), None);
        assert!((time_of_cumulative(3.0, 3.0, 0.0, 6.0).unwrap() - 2.0).abs() < 1e-9);
    }

    #[tokio::test(start_paused = true)]
    async fn a_ramp_admits_seats_as_it_passes_them() {
        let level = Level::new(Knob::Seats);
        level.move_to(4.0, Duration::from_secs(4));
        let stop = Stop::default();
        assert!(!level.admits(0) || level.now() > 0.0);
        let started = Instant::now();
        assert!(level.admitted(2, &stop).await);
        // Seat 2 (the third) is in once the level passes 2: at 2 s.
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_millis(2010),
            "{waited:?}"
        );
        assert!(level.admits(2) && !level.admits(3));
        // Down to 1: seat 2 is no longer admitted, and waits until a stop.
        level.move_to(1.0, Duration::ZERO);
        assert!(!level.admits(2) && level.admits(0));
        let stop = Arc::new(Stop::default());
        let asker = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            asker.request("SIGTERM", 5.0);
        });
        assert!(!level.admitted(2, &stop).await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_ramp_integrates_from_any_instant() {
        let level = Level::new(Knob::Rate);
        level.move_to(10.0, Duration::from_secs(2));
        let ramp = level.ramp();
        let t0 = ramp.start + Duration::from_secs(1);
        // From 1 s: the rate is 5/s rising to 10 by 2 s: 7.5 arrivals by 2 s, then 10/s.
        assert!((ramp.integral(t0, ramp.start + Duration::from_secs(2)) - 7.5).abs() < 1e-9);
        let due = ramp.time_of(t0, 17.5).unwrap();
        let off = (due - ramp.start).as_secs_f64() - 3.0;
        assert!(off.abs() < 1e-6, "{off}");
    }
}
