//! Reconnects that back off: after a failed connect (or a socket the server cut) a user waits
//! an exponential backoff with full jitter before it dials again — a random wait between zero
//! and `base · 2^(failures−1)`, at most `cap` — and a successful connect resets it. A platform
//! coming back up is not met by every user at once.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
    /// The platform's `Retry-After`: the next wait is at least this.
    floor: Option<Duration>,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap,
            failures: 0,
            floor: None,
        }
    }

    /// The platform asked for `wait` before the next try (`Retry-After`).
    pub fn at_least(&mut self, wait: Duration) {
        self.floor = Some(wait);
    }

    pub fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// The server cut the socket: the next dial waits as after one failure.
    pub fn cut(&mut self) {
        self.failures = self.failures.max(1);
    }

    pub fn reset(&mut self) {
        self.failures = 0;
        self.floor = None;
    }

    /// The most the next wait may be: `base · 2^(failures−1)`, at most `cap`.
    pub fn ceiling(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << doublings).min(self.cap)
    }

    /// How long to wait before the next dial; `None` when the last one succeeded.
    pub fn next_wait(&self) -> Option<Duration> {
        let jittered = (self.failures > 0).then(|| self.ceiling().mul_f64(rand::random::<f64>()));
        match (jittered, self.floor) {
            (Some(wait), Some(floor)) => Some(wait.max(floor)),
            (wait, floor) => wait.or(floor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_reset_on_success() {
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
        assert_eq!(b.next_wait(), None);
        let mut ceilings = Vec::new();
        for _ in 0..10 {
            b.failed();
            ceilings.push(b.ceiling().as_millis());
            assert!(b.next_wait().unwrap() <= b.ceiling());
        }
        assert_eq!(
            ceilings,
            [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        b.reset();
        assert_eq!(b.next_wait(), None);
        b.failed();
        b.at_least(Duration::from_secs(1));
        assert!(b.next_wait().unwrap() >= Duration::from_secs(1));
        b.reset();
        b.cut();
        b.cut();
        assert_eq!(b.ceiling(), Duration::from_millis(250));
    }

    #[test]
    fn the_jitter_is_spread_over_the_whole_range() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        b.failed();
        let waits: Vec<f64> = (0..400)
            .map(|_| b.next_wait().unwrap().as_secs_f64())
            .collect();
        let low = waits.iter().filter(|w| **w < 0.25).count();
        let high = waits.iter().filter(|w| **w > 0.75).count();
        // Full jitter: a quarter of the draws in each end (binomial, 400 draws: far from 40).
        assert!(low > 40 && high > 40, "{low} low, {high} high");
    }
}
