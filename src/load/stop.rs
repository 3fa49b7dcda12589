//! A load test stopped before its plan ends (SIGTERM, Ctrl-C): who asked, when, and until when
//! runs in flight may finish. Users read it while they wait (a backoff is cut short) and while
//! they read a run (the run is interrupted when the grace runs out).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The default grace for runs in flight after a stop (`run --grace`).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// A stop under way.
#[derive(Debug, Clone)]
pub struct Stopping {
    /// `SIGTERM`, `SIGINT`, … for a signal; `abort_on_fail`, `max_runs`, `max_duration` for a
    /// guard or a limit of the plan.
    pub signal: String,
    /// A guard's or a limit's reason (`None` for a signal).
    pub reason: Option<String>,
    /// Seconds from the test's start.
    pub at_s: f64,
    /// Runs still open then are interrupted.
    pub grace_ends: Instant,
}

pub struct Stop {
    grace: Duration,
    tx: watch::Sender<Option<Stopping>>,
    /// When the plan's last stage ends (a wait never outlasts it).
    planned_end: Mutex<Option<Instant>>,
    /// Goose's killswitch was pulled by agentload itself (`stop_on_leak`), not by a signal.
    own_killswitch: AtomicBool,
}

impl Stop {
    pub fn new(grace: Duration) -> Stop {
        Stop {
            grace,
            tx: watch::Sender::new(None),
            planned_end: Mutex::new(None),
            own_killswitch: AtomicBool::new(false),
        }
    }

    /// Stops the attack the way Ctrl-C does (Goose's killswitch), for a reason of ours.
    pub fn trigger_killswitch(&self, reason: &str) {
        if self.stopping().is_none() {
            self.own_killswitch.store(true, Ordering::Relaxed);
        }
        goose::trigger_killswitch(reason);
    }

    /// Keeps this stop and Goose's killswitch in step: a Ctrl-C (Goose's handler pulled the
    /// killswitch) is a stop by SIGINT; a stop asked before the attack began is passed on to
    /// Goose (which clears its killswitch when an attack starts).
    pub fn sync_with_goose(&self, at_s: f64) {
        let pulled = goose::is_killswitch_triggered();
        match self.stopping() {
            Some(_) if !pulled => goose::trigger_killswitch("stop requested before the attack"),
            None if pulled
                && !self.own_killswitch.load(Ordering::Relaxed)
                && self.request("SIGINT", at_s) =>
            {
                eprintln!(
                    "agentload: Ctrl-C: stopping the ramp; runs in flight get {:?}, then the \
                     reports are written",
                    self.grace
                );
            }
            _ => {}
        }
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// The attack starts now and lasts `planned` if nothing stops it.
    pub fn begin(&self, planned: Duration) {
        *self.planned_end.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + planned);
    }

    /// Asks for a stop by `signal`; true the first time (a later ask changes nothing).
    pub fn request(&self, signal: &str, at_s: f64) -> bool {
        self.ask(signal, None, at_s)
    }

    /// Stops the test for the plan's own reason (a guard, a limit): the ramp stops as for a
    /// signal, and the verdict decides the exit. True the first time.
    pub fn halt(&self, by: &str, reason: String, at_s: f64) -> bool {
        let first = self.ask(by, Some(reason.clone()), at_s);
        if first {
            eprintln!("agentload: stopping the test ({by}): {reason}");
            self.own_killswitch.store(true, Ordering::Relaxed);
            goose::trigger_killswitch(&reason);
        }
        first
    }

    /// Ends the load for the command's own reason (a capacity search has its answer): as a
    /// guard stops it (runs in flight get the grace), without a word on the console.
    pub fn conclude(&self, by: &str, reason: &str, at_s: f64) {
        if self.ask(by, Some(reason.to_string()), at_s) {
            self.own_killswitch.store(true, Ordering::Relaxed);
            goose::trigger_killswitch(reason);
        }
    }

    fn ask(&self, signal: &str, reason: Option<String>, at_s: f64) -> bool {
        self.tx.send_if_modified(|state| {
            if state.is_some() {
                return false;
            }
            *state = Some(Stopping {
                signal: signal.to_string(),
                reason,
                at_s,
                grace_ends: Instant::now() + self.grace,
            });
            true
        })
    }

    pub fn stopping(&self) -> Option<Stopping> {
        self.tx.borrow().clone()
    }

    /// A stop by a signal, as `summary.json` says it (`interrupted`).
    pub fn interrupted(&self) -> Option<crate::model::incidents::Interrupted> {
        let stop = self.stopping().filter(|s| s.reason.is_none())?;
        Some(crate::model::incidents::Interrupted {
            signal: stop.signal,
            at_s: stop.at_s,
        })
    }

    /// A stop by the plan (a guard, a limit), as `summary.json` says it (`stopped`).
    pub fn stopped(&self) -> Option<crate::model::incidents::EarlyStop> {
        let stop = self.stopping()?;
        Some(crate::model::incidents::EarlyStop {
            by: stop.signal,
            reason: stop.reason?,
            at_s: stop.at_s,
        })
    }

    /// The plan's planned end has passed (waits are cut short now).
    pub fn past_planned_end(&self) -> bool {
        let end = *self.planned_end.lock().unwrap_or_else(|p| p.into_inner());
        end.is_some_and(|end| Instant::now() >= end)
    }

    /// Resolves once a stop is asked for (pending until then).
    pub async fn asked(&self) {
        let mut rx = self.tx.subscribe();
        if rx.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// The plan's load is done before Goose's test plan ends (every session of an open plan
    /// has ended): Goose's attack ends now, as planned, with no stop and nothing interrupted.
    pub fn end_now(&self, reason: &str) {
        self.own_killswitch.store(true, Ordering::Relaxed);
        goose::trigger_killswitch(reason);
    }

    /// Resolves once a stop was asked for and its grace has run out; pending until then.
    pub async fn grace_over(&self) {
        let mut rx = self.tx.subscribe();
        let ends = match rx.wait_for(Option::is_some).await {
            Ok(state) => state.as_ref().map(|s| s.grace_ends),
            Err(_) => None,
        };
        match ends {
            Some(ends) => tokio::time::sleep_until(ends).await,
            None => std::future::pending().await,
        }
    }

    /// Sleeps `wait`, cut short by a stop or at the plan's end (so a long backoff never keeps
    /// Goose waiting for a user at the end of the test). False when cut short: the test is
    /// ending, and what the wait was for should not be done.
    pub async fn pause(&self, wait: Duration) -> bool {
        let planned_end = *self.planned_end.lock().unwrap_or_else(|p| p.into_inner());
        let wanted = Instant::now() + wait;
        let until = planned_end.map_or(wanted, |end| wanted.min(end));
        let mut rx = self.tx.subscribe();
        tokio::select! {
            _ = tokio::time::sleep_until(until) => until == wanted,
            _ = async { rx.wait_for(Option::is_some).await.map(|_| ()) } => false,
        }
    }
}

/// `[limits] max_runs`: runs this process may still start (its shard's share). A user takes
/// one before each start message, so the count is exact; the first user refused stops the
/// test.
pub struct RunBudget {
    left: std::sync::atomic::AtomicU64,
    limit: u64,
}

impl RunBudget {
    pub fn new(limit: u64) -> RunBudget {
        RunBudget {
            left: std::sync::atomic::AtomicU64::new(limit),
            limit,
        }
    }

    /// One run may start: true while the budget lasts.
    pub fn take(&self) -> bool {
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl Default for Stop {
    fn default() -> Self {
        Stop::new(DEFAULT_GRACE)
    }
}

impl crate::client::run::Grace for Stop {
    fn grace(&self) -> Duration {
        Stop::grace(self)
    }

    fn grace_over(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(Stop::grace_over(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_grace_runs_from_the_first_request() {
        let stop = Stop::new(Duration::from_secs(10));
        assert!(stop.request("SIGTERM", 4.0));
        assert!(!stop.request("SIGINT", 5.0));
        assert_eq!(stop.stopping().unwrap().signal, "SIGTERM");
        let started = Instant::now();
        stop.grace_over().await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_ends_at_the_plan_end_or_a_stop() {
        let stop = Stop::new(Duration::from_secs(10));
        stop.begin(Duration::from_secs(3));
        let started = Instant::now();
        assert!(!stop.pause(Duration::from_secs(30)).await);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        let stop = std::sync::Arc::new(Stop::new(Duration::from_secs(10)));
        let asker = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            asker.request("SIGTERM", 2.0);
        });
        let started = Instant::now();
        assert!(!stop.pause(Duration::from_secs(30)).await);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert!(Stop::default().pause(Duration::from_secs(1)).await);
    }
}
