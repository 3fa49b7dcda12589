//! A live rate's sessions, moved with it.

use crate::engine::stop::Stop;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// The sessions of a live rate, moved with it so a step's load is its rate's from its first
/// second: when the rate rises, sessions that arrived "before" (started part-way, as the
/// sessions open at the new rate would be) are asked of the feeder; when it falls, each
/// session open is kept with the new rate's share of the old (a session let go leaves at its
/// next pause, cut, not failed).
pub struct Population {
    /// Warm sessions asked for and not yet started (their expected count), and the mean run
    /// time they are drawn with (s).
    asked: Mutex<Option<(f64, f64)>>,
    asking: tokio::sync::Notify,
    /// The share of sessions kept through every fall so far (their product): a session
    /// paused between turns wakes when it falls.
    kept: watch::Sender<f64>,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            asked: Mutex::new(None),
            asking: tokio::sync::Notify::new(),
            kept: watch::Sender::new(1.0),
        }
    }
}

impl Population {
    /// Asks the feeder for `count` (expected) warm sessions, drawn with runs of `run_secs`.
    pub fn ask(&self, count: f64, run_secs: f64) {
        let mut asked = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        let before = asked.map_or(0.0, |a| a.0);
        *asked = Some((before + count, run_secs));
        self.asking.notify_one();
    }

    /// Waits until warm sessions are asked for, and takes the ask.
    pub async fn asked(&self) -> (f64, f64) {
        loop {
            let notified = self.asking.notified();
            if let Some(ask) = self.asked.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return ask;
            }
            notified.await;
        }
    }

    /// Keeps each session open with probability `share` (the rate fell by that much).
    pub fn keep(&self, share: f64) {
        self.kept
            .send_modify(|kept| *kept = kept.max(f64::MIN_POSITIVE) * share.clamp(0.0, 1.0));
    }

    /// The share kept through every fall so far: a session notes it when it begins.
    pub fn kept(&self) -> f64 {
        *self.kept.borrow()
    }

    /// Pauses `wait` as a session between turns; `Some(true)` when the pause ran its
    /// course, `Some(false)` when the session is let go meanwhile (the rate fell: it leaves
    /// at once), `None` when the test stopped (`stop`'s pause).
    pub async fn pause(&self, noted: &mut f64, wait: Duration, stop: &Stop) -> Option<bool> {
        let mut rx = self.kept.subscribe();
        let pausing = stop.pause(wait);
        tokio::pin!(pausing);
        loop {
            tokio::select! {
                done = &mut pausing => return done.then_some(true),
                changed = rx.changed() => {
                    if changed.is_err() {
                        return (&mut pausing).await.then_some(true);
                    }
                    if !self.stays(noted, rand::random()) {
                        return Some(false);
                    }
                }
            }
        }
    }

    /// Whether a session that noted `noted` stays, drawing `u` in `[0, 1)`; it notes the
    /// share now if it stays.
    pub fn stays(&self, noted: &mut f64, u: f64) -> bool {
        let now = self.kept();
        if now >= *noted {
            return true;
        }
        let stays = u < now / *noted;
        *noted = now;
        stays
    }
}
