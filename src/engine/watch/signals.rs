//! Signals: SIGTERM (a Kubernetes pod stop, a node drain) is handled like Ctrl-C. The first
//! stops the ramp (Goose's killswitch) and gives runs in flight a grace; the reports are then
//! written and the process exits 3. A second signal ends at once, after a last checkpoint.
//! Ctrl-C reaches Goose's own handler: this watcher notices its killswitch and records the stop
//! the same way (a second Ctrl-C is Goose's: it exits at once; the last checkpoint stays).

use super::checkpoint::Checkpoint;
use crate::engine::collector::Collector;
use crate::engine::stop::Stop;
use crate::errors::Exit;
use std::sync::Arc;
use std::time::Duration;

/// How often Goose's killswitch is looked at.
const EVERY: Duration = Duration::from_millis(100);

pub struct Signals {
    stop: Arc<Stop>,
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl Signals {
    /// Listens for SIGTERM from now on; `last_words` is written before a second signal ends
    /// the process.
    pub fn new(stop: Arc<Stop>, collector: Arc<Collector>, last_words: Checkpoint) -> Signals {
        let listener = listen(stop.clone(), collector, last_words);
        Signals { stop, listener }
    }
}

fn listen(
    stop: Arc<Stop>,
    collector: Arc<Collector>,
    last_words: Checkpoint,
) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!("agentload: warning: SIGTERM can not be handled ({e}): it ends the test without reports");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        while terminate.recv().await.is_some() {
            if stop.request("SIGTERM", collector.now_secs()) {
                eprintln!(
                    "agentload: SIGTERM: stopping the ramp; runs in flight get {:?}, then the \
                     reports are written (a second signal ends at once)",
                    stop.grace()
                );
                stop.trigger_killswitch("SIGTERM received");
            } else {
                eprintln!("agentload: a second signal: ending now, with the figures so far");
                last_words.write();
                std::process::exit(Exit::Stopped as i32);
            }
        }
    }))
}

impl super::Watcher for Signals {
    fn every(&self) -> Duration {
        EVERY
    }

    fn tick(&mut self, collector: &Collector) {
        self.stop.sync_with_goose(collector.now_secs());
    }

    fn finish(&mut self, collector: &Collector) {
        self.stop.sync_with_goose(collector.now_secs());
        // The reports are written next: a signal from now on meets the runtime's handler and
        // is ignored until the process exits.
        if let Some(listener) = self.listener.take() {
            listener.abort();
        }
    }
}
