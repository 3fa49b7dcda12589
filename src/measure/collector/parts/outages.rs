//! Outages as the users see them: a window opens at a failed connect while nothing has
//! succeeded since, and closes at the next success (a connect or a completed run). Windows
//! shorter than `MIN_OUTAGE_SECS` are a failed connect or two, not an outage: they stay in the
//! failures by kind only.

use crate::model::incidents::Outage;

/// The shortest window reported as an outage.
pub const MIN_OUTAGE_SECS: f64 = 1.0;

#[derive(Debug, Default, Clone)]
pub(crate) struct Outages {
    open: Option<Outage>,
    closed: Vec<Outage>,
    /// The last closed window still waits for its first completed run.
    awaiting_recovery: bool,
}

impl Outages {
    /// True while a success or a completed run changes something here (the collector skips
    /// the lock otherwise).
    pub(crate) fn watching(&self) -> bool {
        self.open.is_some() || self.awaiting_recovery
    }

    pub(crate) fn connect_failed(&mut self, at: f64) {
        let open = self.open.get_or_insert_with(|| Outage {
            start_s: at,
            ..Outage::default()
        });
        open.failed_connects += 1;
    }

    /// A connect succeeded, or a run ended (`completed` or not).
    pub(crate) fn success(&mut self, at: f64, completed_run: bool) {
        if let Some(mut outage) = self.open.take() {
            outage.end_s = Some(at);
            if outage.length_s(at) >= MIN_OUTAGE_SECS {
                self.closed.push(outage);
                self.awaiting_recovery = true;
            }
        }
        if completed_run && self.awaiting_recovery {
            if let Some(last) = self.closed.last_mut() {
                last.recovered_after_s = Some((at - last.end_s.unwrap_or(at)).max(0.0));
            }
            self.awaiting_recovery = false;
        }
    }

    pub(crate) fn run_failed(&mut self) {
        if let Some(open) = self.open.as_mut() {
            open.runs_cut += 1;
        }
    }

    /// Seconds the target has been unreachable at `now`, once that counts as an outage.
    pub(crate) fn unreachable_for(&self, now: f64) -> Option<f64> {
        let open = self.open.as_ref()?;
        let length = open.length_s(now);
        (length >= MIN_OUTAGE_SECS).then_some(length)
    }

    /// Every outage so far; one still open at `now` has no end.
    pub(crate) fn list(&self, now: f64) -> Vec<Outage> {
        let mut all = self.closed.clone();
        all.extend(
            self.open
                .iter()
                .filter(|o| o.length_s(now) >= MIN_OUTAGE_SECS)
                .cloned(),
        );
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_opens_at_a_failed_connect_and_closes_at_a_success() {
        let mut o = Outages::default();
        o.connect_failed(4.0);
        o.run_failed();
        o.connect_failed(5.5);
        assert_eq!(o.unreachable_for(4.5), None);
        assert_eq!(o.unreachable_for(7.0), Some(3.0));
        o.success(9.2, false);
        assert!(o.watching());
        o.success(9.5, true);
        assert!(!o.watching());
        let list = o.list(20.0);
        assert_eq!(list.len(), 1);
        let w = &list[0];
        assert_eq!(
            (w.start_s, w.end_s, w.failed_connects, w.runs_cut),
            (4.0, Some(9.2), 2, 1)
        );
        assert!((w.recovered_after_s.unwrap() - 0.3).abs() < 1e-9);
    }

    #[test]
    fn a_blip_is_no_outage_and_an_open_window_has_no_end() {
        let mut o = Outages::default();
        o.connect_failed(1.0);
        o.success(1.2, true);
        assert!(o.list(2.0).is_empty());
        assert!(!o.watching());
        o.connect_failed(3.0);
        let list = o.list(10.0);
        assert_eq!(list[0].end_s, None);
        assert_eq!(list[0].length_s(10.0), 7.0);
    }
}
