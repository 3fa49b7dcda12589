//! A deployment that scales imperfectly (`--replicas R`, `--contention-ms D`,
//! `--coherency-ms C`): R copies of the agent backend behind one listener, each with its own
//! `--max-concurrent-runs` slots and `--shared-capacity` batch; a session (its socket) pinned
//! to the replica with the fewest sessions open when it connects (ties: the lowest index).
//! With contention, every run holds one lock all replicas share, first come first served,
//! once, just before its last event, for D + C × (R − 1), keeping its replica's slot
//! meanwhile: a database row, a cache, a rate-limited model API that every replica waits on,
//! and that costs more the more replicas keep it coherent. The lock's busy and wait seconds
//! are counters (`/stats`, `/metrics`), as a deployment's polled metrics would give them.

use super::batch::Batch;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One copy of the backend.
#[derive(Debug, Default)]
pub struct Replica {
    /// `--max-concurrent-runs` for this replica.
    pub run_permits: Option<Arc<tokio::sync::Semaphore>>,
    /// Its runs in flight, which `--shared-capacity` paces.
    pub batch: Batch,
    sessions: AtomicU64,
    runs: AtomicU64,
}

/// The lock all replicas share.
#[derive(Debug)]
pub struct Lock {
    mutex: tokio::sync::Mutex<()>,
    /// How long a run holds it.
    pub hold: Duration,
    busy_nanos: AtomicU64,
    wait_nanos: AtomicU64,
}

#[derive(Debug)]
pub struct Replicas {
    pub list: Vec<Replica>,
    pub lock: Option<Lock>,
}

/// A socket's replica, given back when the socket goes (dropped).
pub struct Pinned<'a> {
    replicas: &'a Replicas,
    pub index: usize,
}

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        self.replicas.list[self.index]
            .sessions
            .fetch_sub(1, Ordering::SeqCst);
    }
}

impl Replicas {
    /// `count` replicas of `slots` each (none: unbounded); a lock held `contention +
    /// coherency × (count − 1)` when `contention` is more than zero.
    pub fn new(
        count: usize,
        slots: Option<usize>,
        contention: Duration,
        coherency: Duration,
    ) -> Replicas {
        let count = count.max(1);
        let list = (0..count)
            .map(|_| Replica {
                run_permits: slots.map(|n| Arc::new(tokio::sync::Semaphore::new(n.max(1)))),
                ..Default::default()
            })
            .collect();
        let lock = (!contention.is_zero()).then(|| Lock {
            mutex: tokio::sync::Mutex::new(()),
            hold: contention + coherency * (count as u32 - 1),
            busy_nanos: AtomicU64::new(0),
            wait_nanos: AtomicU64::new(0),
        });
        Replicas { list, lock }
    }

    /// Pins a new session to the replica with the fewest sessions open (ties: the lowest).
    /// Two sockets connecting at once may both read the same counts: the pick is then off by
    /// one session, as a balancer's would be.
    pub fn pin(&self) -> Pinned<'_> {
        let index = (0..self.list.len())
            .min_by_key(|i| (self.list[*i].sessions.load(Ordering::SeqCst), *i))
            .unwrap_or(0);
        self.list[index].sessions.fetch_add(1, Ordering::SeqCst);
        Pinned {
            replicas: self,
            index,
        }
    }

    /// A run starts on replica `index`.
    pub fn run_started(&self, index: usize) {
        self.list[index].runs.fetch_add(1, Ordering::Relaxed);
    }

    /// Each replica's sessions open and runs started.
    pub fn counts(&self) -> Vec<(u64, u64)> {
        self.list
            .iter()
            .map(|r| {
                (
                    r.sessions.load(Ordering::SeqCst),
                    r.runs.load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}

impl Lock {
    /// Waits for the lock (first come, first served), holds it, lets it go.
    pub async fn hold(&self) {
        let asked = tokio::time::Instant::now();
        let guard = self.mutex.lock().await;
        let got = tokio::time::Instant::now();
        tokio::time::sleep(self.hold).await;
        let held = got.elapsed();
        drop(guard);
        self.wait_nanos
            .fetch_add(nanos(got - asked), Ordering::Relaxed);
        self.busy_nanos.fetch_add(nanos(held), Ordering::Relaxed);
    }

    /// Seconds the lock was held, and seconds runs waited for it, so far.
    pub fn seconds(&self) -> (f64, f64) {
        let secs = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e9;
        (secs(&self.busy_nanos), secs(&self.wait_nanos))
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_goes_to_the_replica_with_the_fewest_open_ties_to_the_lowest() {
        let r = Replicas::new(3, Some(4), Duration::ZERO, Duration::ZERO);
        let a = r.pin();
        let b = r.pin();
        let c = r.pin();
        assert_eq!((a.index, b.index, c.index), (0, 1, 2));
        drop(b);
        // Replica 1 has the fewest open now.
        let d = r.pin();
        assert_eq!(d.index, 1);
        let e = r.pin();
        assert_eq!(e.index, 0, "all at one: the lowest");
        r.run_started(0);
        assert_eq!(r.counts(), vec![(2, 1), (1, 0), (1, 0)]);
        assert!(r.lock.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_lock_is_held_longer_the_more_replicas_keep_it_coherent() {
        let r = Replicas::new(
            8,
            None,
            Duration::from_millis(10),
            Duration::from_micros(1500),
        );
        let lock = r.lock.as_ref().unwrap();
        // 10 ms + 1.5 ms × 7 other replicas.
        assert_eq!(lock.hold, Duration::from_micros(20_500));
        // Two runs at once: the second waits for the first.
        let (one, two) = tokio::join!(lock.hold(), lock.hold());
        let _ = (one, two);
        let (busy, wait) = lock.seconds();
        // Tokio's timers tick in whole milliseconds: each hold may end up to 1 ms late.
        assert!((0.041..=0.041 + 2.5e-3).contains(&busy), "{busy}");
        assert!((0.0205..=0.0205 + 2e-3).contains(&wait), "{wait}");
    }
}
