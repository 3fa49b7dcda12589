//! Load shedding on purpose, as platforms guard themselves: past `--max-connections` open
//! sockets a new one is refused (reference dialect: HTTP 429 with `Retry-After: 1`; netra:
//! the upgrade is accepted, an `error_message` `rate_limited` says so, and the socket is closed
//! with 1013 Try Again Later), and past `--shed-runs-over` runs in flight a start is answered
//! with a `rate_limit_exceeded` error. Each refusal is counted, and so is how soon a refused
//! user came back (`retry_gap_min_ms`), so clients can be shown to honour `Retry-After`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The wait a refusal asks for, in seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

#[derive(Default)]
pub struct Shedding {
    /// Sockets admitted and still open (reserved before the upgrade, so concurrent upgrades
    /// can not pass the cap together).
    admitted: Arc<AtomicU64>,
    pub connections_refused: AtomicU64,
    pub runs_shed: AtomicU64,
    /// When each user was last refused; the shortest gap before its next try.
    refused_at: Mutex<HashMap<String, Instant>>,
    retry_gap_min_ms: Mutex<Option<u64>>,
}

/// A socket's place under the cap, given back when dropped (the socket ended, or its
/// upgrade never completed).
pub struct Admitted(Arc<AtomicU64>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shedding {
    /// A socket of `user` asks to be admitted under `max` open sockets; `None`: refused
    /// (counted). Every try after a refusal is timed from it.
    pub fn admit(&self, max: Option<usize>, user: &str) -> Option<Admitted> {
        self.note_retry(user);
        let max = max.map_or(u64::MAX, |m| m as u64);
        let taken = self
            .admitted
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < max).then_some(n + 1)
            });
        match taken {
            Ok(_) => Some(Admitted(self.admitted.clone())),
            Err(_) => {
                self.connections_refused.fetch_add(1, Ordering::Relaxed);
                self.lock_refused().insert(user.to_string(), Instant::now());
                None
            }
        }
    }

    fn note_retry(&self, user: &str) {
        let Some(at) = self.lock_refused().remove(user) else {
            return;
        };
        let gap = at.elapsed().as_millis() as u64;
        let mut min = self
            .retry_gap_min_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *min = Some(min.map_or(gap, |m| m.min(gap)));
    }

    fn lock_refused(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.refused_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shortest time a refused user waited before it tried again (ms).
    pub fn retry_gap_min_ms(&self) -> Option<u64> {
        *self
            .retry_gap_min_ms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}
