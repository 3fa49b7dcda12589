//! How a run ends early: a verdict found while draining comes first, frames after the verdict
//! are set aside, a socket gone mid-run is resumed when it can be.

use super::spec::{Run, Step};
use crate::client::outcome::Failure;
use crate::client::protocol::AgentEvent;

impl Run<'_> {
    /// The verdict `failure`; a failure found earlier (while draining) comes first.
    pub(super) fn done(&mut self, failure: Failure, usable: bool) -> Step {
        match self.draining.is_some() {
            true => self.done_draining(usable),
            false => Step::Done(Err((failure, usable))),
        }
    }

    pub(super) fn done_draining(&mut self, usable: bool) -> Step {
        let (failure, _) = self.draining.clone().expect("draining");
        Step::Done(Err((failure, usable)))
    }

    /// A frame read after the run's verdict: set aside as stale (still scanned for other
    /// users' data). True once the run's last event has gone by.
    pub(super) fn drain(&mut self, frame: &str) -> bool {
        let spec = &self.spec;
        if let Some(owner) = spec.isolation.check(spec.user_index, frame) {
            self.leaks.push(owner);
            return false;
        }
        let Ok(event) = AgentEvent::parse_with(frame, spec.profile) else {
            return false;
        };
        if !event.kind.is_run_event() {
            return false;
        }
        self.stale_frames += 1;
        let ours = event.run_id.as_deref().is_none_or(|id| id == self.run_id);
        ours && event.is_terminal()
    }

    pub(super) fn interrupted(&mut self, failure: Failure) -> Step {
        if self.draining.is_some() {
            return self.done_draining(false);
        }
        if !self.spec.resume {
            return Step::Done(Err((failure, false)));
        }
        if self.continuity.last_seq.is_none() {
            // Nothing to resume from: the run's events carry no `seq`.
            let message = format!(
                "{}; the run can not be resumed (its events carry no seq)",
                failure.message
            );
            return Step::Done(Err((
                Failure::new("reconnect.not_resumable", message),
                false,
            )));
        }
        Step::Interrupted(failure)
    }
}
