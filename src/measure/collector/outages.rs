//! What the collector tells of outages (the windows are `parts::outages`'s).

use super::parts::outages::Outages;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;

impl super::state::Collector {
    /// Seconds the target has been unreachable (no connect or run succeeded since a connect
    /// failed), once that is an outage.
    pub fn unreachable_for(&self) -> Option<f64> {
        self.outages().unreachable_for(self.now_secs())
    }

    pub(super) fn outages(&self) -> MutexGuard<'_, Outages> {
        self.outages.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connect ended: a failure opens (or widens) a window, a success closes it. A healthy
    /// test takes no lock here: only failures and the successes after them do.
    pub(super) fn outage_connect(&self, ok: bool) {
        if ok && !self.outage_watch.load(Ordering::Relaxed) {
            return;
        }
        let now = self.now_secs();
        let mut outages = self.outages();
        match ok {
            false => outages.connect_failed(now),
            true => outages.success(now, false),
        }
        self.outage_watch
            .store(outages.watching(), Ordering::Relaxed);
    }

    /// A run ended at `ended_secs` (completed or not), while a window is open or waits for
    /// its first completed run.
    pub(super) fn outage_run(&self, completed: bool, ended_secs: f32) {
        if !self.outage_watch.load(Ordering::Relaxed) {
            return;
        }
        let mut outages = self.outages();
        match completed {
            true => outages.success(f64::from(ended_secs), true),
            false => outages.run_failed(),
        }
        self.outage_watch
            .store(outages.watching(), Ordering::Relaxed);
    }
}
