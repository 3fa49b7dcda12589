//! A live rate's sessions, moved with it.

use crate::load::stop::Stop;
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
    /// The share of sessions kept at each fall so far, in order: a session notes how many
    /// falls there were when it began, and is kept through those after it with their product
    /// (a fall to none and back leaves later sessions whole); paused between turns, it wakes
    /// when the rate falls.
    falls: watch::Sender<Vec<f64>>,
}

/// Where a session stands with the falls of its rate: how many it has been kept through.
pub type Noted = usize;

impl Default for Population {
    fn default() -> Self {
        Population {
            asked: Mutex::new(None),
            asking: tokio::sync::Notify::new(),
            falls: watch::Sender::new(Vec::new()),
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
        self.falls
            .send_modify(|falls| falls.push(share.clamp(0.0, 1.0)));
    }

    /// What a session notes when it begins.
    pub fn noted(&self) -> Noted {
        self.falls.borrow().len()
    }

    /// Pauses `wait` as a session between turns; `Some(true)` when the pause ran its
    /// course, `Some(false)` when the session is let go meanwhile (the rate fell: it leaves
    /// at once), `None` when the test stopped (`stop`'s pause).
    pub async fn pause(&self, noted: &mut Noted, wait: Duration, stop: &Stop) -> Option<bool> {
        let mut rx = self.falls.subscribe();
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

    /// Whether a session that noted `noted` stays through the falls since, drawing `u` in
    /// `[0, 1)`; it notes them.
    pub fn stays(&self, noted: &mut Noted, u: f64) -> bool {
        let falls = self.falls.borrow();
        let kept: f64 = falls.iter().skip(*noted).product();
        *noted = falls.len();
        u < kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_kept_through_the_falls_after_it_began_only() {
        let p = Population::default();
        let mut early = p.noted();
        p.keep(0.0);
        // A fall to none: every session open then goes.
        assert!(!p.stays(&mut early, 0.0));
        // One begun after it stays whole, through a second fall to none only once it comes.
        let mut later = p.noted();
        assert!(p.stays(&mut later, 0.999));
        p.keep(0.5);
        let mut kept = p.noted();
        p.keep(0.5);
        assert!(p.stays(&mut kept, 0.49) && !p.stays(&mut later, 0.3));
        let mut other = 1;
        assert!(!p.stays(&mut other, 0.3), "kept through 0.5 × 0.5 = 0.25");
    }
}
