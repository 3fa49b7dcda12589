//! Signals: SIGTERM (a Kubernetes pod stop, a node drain) and SIGINT (Ctrl-C) are agentload's
//! own, both the same way (Goose's Ctrl-C handler finds one in place and stands aside). During
//! the attack, the first stops the ramp (Goose's killswitch) and gives runs in flight a grace;
//! the reports are then written and the process exits 3; a second ends at once, after a last
//! checkpoint. While the reports are written, a signal is not lost: the reports finish, then
//! the exit is 3; a second ends at once.

use super::checkpoint::Checkpoint;
use crate::errors::Exit;
use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often Goose's killswitch is looked at.
const EVERY: Duration = Duration::from_millis(100);

/// A signal came while the reports were being written (the command exits 3 once they are).
static LATE: AtomicBool = AtomicBool::new(false);
/// The process's one listener (a capacity search starts one per step).
static LISTENER: Mutex<Option<tokio::task::JoinHandle<()>>> = Mutex::new(None);

/// Whether a signal came after the attack, while the reports were being written.
pub fn signalled_while_reporting() -> bool {
    LATE.load(Ordering::SeqCst)
}

/// Where the test is when a signal comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Attack,
    Reports,
}

/// What a signal does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Stop the ramp; runs in flight get the grace; the reports follow (exit 3).
    StopTheTest,
    /// The reports go on; the exit is 3 once they are written.
    FinishReportsThenStop,
    /// End the process now (exit 3), after a last checkpoint when `checkpoint`.
    EndNow { checkpoint: bool },
}

/// The decision, pure: the phase, and whether a stop was asked already.
pub fn action(phase: Phase, already_stopping: bool) -> Action {
    match (phase, already_stopping) {
        (Phase::Attack, false) => Action::StopTheTest,
        (Phase::Attack, true) => Action::EndNow { checkpoint: true },
        // The figures are final and being written: no checkpoint over them.
        (Phase::Reports, false) if !signalled_while_reporting() => Action::FinishReportsThenStop,
        (Phase::Reports, _) => Action::EndNow { checkpoint: false },
    }
}

pub struct Signals {
    stop: Arc<Stop>,
    reporting: Arc<AtomicBool>,
    /// Agentload's SIGINT handler, put back when Goose's replaces it.
    sigint: Option<Disposition>,
}

/// A signal's handler as the OS holds it.
#[derive(Clone, Copy)]
struct Disposition(libc::sigaction);

impl Disposition {
    fn sigint() -> Option<Disposition> {
        // SAFETY: reads the current action into a zeroed struct; no handler changes.
        unsafe {
            let mut now: libc::sigaction = std::mem::zeroed();
            (libc::sigaction(libc::SIGINT, std::ptr::null(), &mut now) == 0)
                .then_some(Disposition(now))
        }
    }

    /// Goose installs its Ctrl-C handler (ctrlc, which replaces whatever is in place) when its
    /// first attack starts; its second Ctrl-C exits 1 at once. Agentload's own is put back, so
    /// both signals are handled the one way.
    fn keep(&self) {
        let now = Disposition::sigint();
        if now.is_some_and(|n| n.0.sa_sigaction != self.0.sa_sigaction) {
            // SAFETY: reinstates the action the signal listener registered (signal-hook's).
            unsafe { libc::sigaction(libc::SIGINT, &self.0, std::ptr::null_mut()) };
        }
    }
}

impl Signals {
    /// Listens for SIGTERM and SIGINT from now on; `last_words` is written before a second
    /// signal ends the process.
    pub fn new(stop: Arc<Stop>, collector: Arc<Collector>, last_words: Checkpoint) -> Signals {
        let reporting = Arc::new(AtomicBool::new(false));
        let task = listen(stop.clone(), collector, last_words, reporting.clone());
        let mut listener = LISTENER.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(previous) = std::mem::replace(&mut *listener, task) {
            previous.abort();
        }
        // The listener's own handler, as registered: what `keep` puts back.
        Signals {
            stop,
            reporting,
            sigint: Disposition::sigint(),
        }
    }
}

fn listen(
    stop: Arc<Stop>,
    collector: Arc<Collector>,
    last_words: Checkpoint,
    reporting: Arc<AtomicBool>,
) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let streams =
        signal(SignalKind::terminate()).and_then(|t| Ok((t, signal(SignalKind::interrupt())?)));
    let (mut terminate, mut interrupt) = match streams {
        Ok(streams) => streams,
        Err(e) => {
            eprintln!("agentload: warning: signals can not be handled ({e}): SIGTERM ends the test without reports");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                s = terminate.recv() => s.map(|()| "SIGTERM"),
                s = interrupt.recv() => s.map(|()| "SIGINT"),
            };
            let Some(name) = name else { return };
            let phase = match reporting.load(Ordering::SeqCst) {
                true => Phase::Reports,
                false => Phase::Attack,
            };
            match action(phase, stop.stopping().is_some()) {
                Action::StopTheTest => {
                    stop.request(name, collector.now_secs());
                    eprintln!(
                        "agentload: {name}: stopping the ramp; runs in flight get {:?}, then the \
                         reports are written (a second signal ends at once)",
                        stop.grace()
                    );
                    stop.trigger_killswitch(&format!("{name} received"));
                }
                Action::FinishReportsThenStop => {
                    LATE.store(true, Ordering::SeqCst);
                    eprintln!(
                        "agentload: {name} while the reports are written: they finish, then the \
                         exit is 3 (a second signal ends at once)"
                    );
                }
                Action::EndNow { checkpoint } => {
                    eprintln!("agentload: a second signal: ending now, with the figures so far");
                    if checkpoint {
                        last_words.write();
                    }
                    std::process::exit(Exit::Stopped as i32);
                }
            }
        }
    }))
}

impl super::watcher::Watcher for Signals {
    fn every(&self) -> Duration {
        EVERY
    }

    fn tick(&mut self, collector: &Collector) {
        if let Some(ours) = &self.sigint {
            ours.keep();
        }
        self.stop.sync_with_goose(collector.now_secs());
    }

    fn finish(&mut self, collector: &Collector) {
        self.stop.sync_with_goose(collector.now_secs());
        // The reports are written next: a signal from now on is noted, not lost.
        self.reporting.store(true, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_signal_does_what_its_moment_asks() {
        assert_eq!(action(Phase::Attack, false), Action::StopTheTest);
        assert_eq!(
            action(Phase::Attack, true),
            Action::EndNow { checkpoint: true }
        );
        // A test stopped during its attack: a further signal while its reports are written
        // ends it at once (the exit is 3 either way).
        assert_eq!(
            action(Phase::Reports, true),
            Action::EndNow { checkpoint: false }
        );
        assert_eq!(action(Phase::Reports, false), Action::FinishReportsThenStop);
        LATE.store(true, Ordering::SeqCst);
        assert_eq!(
            action(Phase::Reports, false),
            Action::EndNow { checkpoint: false }
        );
        LATE.store(false, Ordering::SeqCst);
    }
}
