//! The open model's pool: Goose users waiting for a session. The feeder offers each arrival to
//! an idle user; when none is idle the arrival is dropped (never delayed: a delayed arrival
//! would hide the platform's queue in the generator).
//!
//! Invariant: `idle` + tickets in the channel = users waiting in `take`. The feeder takes an
//! idle place before it sends; a user that stops waiting gives its place back, or, when the
//! feeder took it, receives the ticket sent for it.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

/// One arrival, handed to a pool user.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// This process's arrival number, from 0 (test-wide through the shard).
    pub number: usize,
    /// The scenario of the mix the session runs.
    pub scenario: usize,
    pub turns: u32,
    /// When it was due: its latency is measured from here.
    pub scheduled: tokio::time::Instant,
    /// A session started part-way (a live rate rose): where it picks up. Its first turn
    /// here is not a session's first turn.
    pub resume: Option<super::warm::Resume>,
}

pub struct Pool {
    size: usize,
    idle: AtomicUsize,
    launched: AtomicUsize,
    /// Sessions in progress (taken, not yet ended).
    busy: AtomicUsize,
    tx: Mutex<Option<flume::Sender<Ticket>>>,
    rx: flume::Receiver<Ticket>,
    up: tokio::sync::Notify,
}

impl Pool {
    pub fn new(size: usize) -> Pool {
        let (tx, rx) = flume::unbounded();
        Pool {
            size,
            idle: AtomicUsize::new(0),
            launched: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            tx: Mutex::new(Some(tx)),
            rx,
            up: tokio::sync::Notify::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// A pool user is up.
    pub fn launched(&self) {
        if self.launched.fetch_add(1, SeqCst) + 1 >= self.size {
            self.up.notify_waiters();
        }
    }

    /// Waits until every pool user is up (at most `limit`); how many are.
    pub async fn all_up(&self, limit: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.up.notified();
            let n = self.launched.load(SeqCst);
            if n >= self.size {
                return n;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.launched.load(SeqCst);
            }
        }
    }

    /// Hands `ticket` to an idle user; false (the arrival is dropped) when none is idle or
    /// the pool is closed.
    pub fn offer(&self, ticket: Ticket) -> bool {
        let took = self
            .idle
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !took {
            return false;
        }
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        match tx.as_ref().map(|tx| tx.send(ticket)) {
            Some(Ok(())) => true,
            _ => {
                self.idle.fetch_add(1, SeqCst);
                false
            }
        }
    }

    /// A user waits for a session until `give_up` resolves (the test ends) or the pool closes:
    /// `None` then.
    pub async fn take(&self, give_up: impl std::future::Future<Output = ()>) -> Option<Ticket> {
        self.idle.fetch_add(1, SeqCst);
        let got = tokio::select! {
            ticket = self.rx.recv_async() => ticket.ok(),
            () = give_up => None,
        };
        let ticket = match got {
            Some(ticket) => Some(ticket),
            None => self.withdraw().await,
        };
        if ticket.is_some() {
            self.busy.fetch_add(1, SeqCst);
        }
        ticket
    }

    /// Gives the waiting user's idle place back; if the feeder took it already, the ticket it
    /// sent is this user's.
    async fn withdraw(&self) -> Option<Ticket> {
        loop {
            let idle = self.idle.load(SeqCst);
            if idle == 0 {
                return self.rx.recv_async().await.ok();
            }
            if self
                .idle
                .compare_exchange(idle, idle - 1, SeqCst, SeqCst)
                .is_ok()
            {
                return None;
            }
        }
    }

    /// A session taken from the pool has ended.
    pub fn session_ended(&self) {
        self.busy.fetch_sub(1, SeqCst);
    }

    /// Sessions in progress.
    pub fn busy(&self) -> usize {
        self.busy.load(SeqCst)
    }

    /// No more arrivals: waiting users are let go (the channel's sender is dropped).
    pub fn close(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn ticket(number: usize) -> Ticket {
        Ticket {
            number,
            scenario: 0,
            turns: 1,
            scheduled: tokio::time::Instant::now(),
            resume: None,
        }
    }

    #[tokio::test]
    async fn an_arrival_with_no_idle_user_is_dropped_and_none_is_lost() {
        let pool = Arc::new(Pool::new(2));
        assert!(!pool.offer(ticket(0)), "nobody waits yet");
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.take(std::future::pending()).await })
        };
        while pool.idle.load(SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert!(pool.offer(ticket(1)));
        assert!(!pool.offer(ticket(2)), "the one idle user is taken");
        assert_eq!(waiting.await.unwrap().unwrap().number, 1);
        assert_eq!(pool.busy(), 1);
        pool.session_ended();
        assert_eq!(pool.busy(), 0);
    }

    #[tokio::test]
    async fn a_user_giving_up_gets_the_ticket_sent_for_it() {
        let pool = Pool::new(1);
        // The feeder takes the place of a user who is giving up at the same moment.
        pool.idle.fetch_add(1, SeqCst);
        assert!(pool.offer(ticket(7)));
        assert_eq!(pool.withdraw().await.unwrap().number, 7);
        // Nobody's place taken: giving up gives it back.
        pool.idle.fetch_add(1, SeqCst);
        assert!(pool.withdraw().await.is_none());
        assert_eq!(pool.idle.load(SeqCst), 0);
        pool.close();
        assert!(pool.take(std::future::pending()).await.is_none());
        assert!(!pool.offer(ticket(8)));
    }
}
