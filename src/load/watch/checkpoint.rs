//! Checkpoints: every `[report] checkpoint` the figures so far go to `summary.partial.json` in
//! the report folder, written whole (a temporary file, then a rename), so a generator killed
//! outright (an OOM kill, SIGKILL) leaves its test up to the last checkpoint. The command
//! removes the file once the final `summary.json` is in place.

use crate::client::isolation::Isolation;
use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use crate::model::summary::Summary;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The checkpoint's file name in the report folder.
pub use crate::report::folder::PARTIAL;

/// What a checkpoint writes: the collector's figures with the test's name, start and target.
#[derive(Clone)]
pub struct Checkpoint {
    path: PathBuf,
    /// The fields a snapshot does not know: plan, start, target, peak users.
    heading: Summary,
    collector: Arc<Collector>,
    isolation: Arc<Isolation>,
    stop: Arc<Stop>,
}

impl Checkpoint {
    pub fn new(
        report_dir: &Path,
        heading: Summary,
        collector: Arc<Collector>,
        isolation: Arc<Isolation>,
        stop: Arc<Stop>,
    ) -> Checkpoint {
        Checkpoint {
            path: report_dir.join(PARTIAL),
            heading,
            collector,
            isolation,
            stop,
        }
    }

    /// The figures so far, as a partial summary.
    pub fn summary(&self) -> Summary {
        let mut s = self.collector.snapshot();
        s.take_heading(&self.heading);
        s.duration_secs = self.collector.now_secs();
        s.isolation = Some(self.isolation.summary());
        s.interrupted = self.stop.interrupted();
        s.partial = true;
        s
    }

    /// Writes the checkpoint now (streamed, compact: it is for tools, and a large summary is
    /// never held whole in memory as text); a failure is said once on stderr, never fatal.
    pub fn write(&self) -> bool {
        let summary = self.summary();
        let written = crate::files::write_whole_with(&self.path, |out| {
            serde_json::to_writer(out, &summary).map_err(std::io::Error::other)
        });
        match written {
            Ok(()) => true,
            Err(e) => {
                eprintln!(
                    "agentload: warning: checkpoint {} not written: {e}",
                    self.path.display()
                );
                false
            }
        }
    }

    /// A watcher writing the checkpoint every `every`.
    pub fn every(self, every: Duration) -> Writer {
        Writer {
            checkpoint: self,
            every,
            failing: false,
        }
    }
}

/// The checkpoint as a watcher.
pub struct Writer {
    checkpoint: Checkpoint,
    every: Duration,
    /// The last write failed: said once, not every interval.
    failing: bool,
}

impl super::watcher::Watcher for Writer {
    fn every(&self) -> Duration {
        self.every
    }

    fn tick(&mut self, _: &Collector) {
        if !self.failing {
            self.failing = !self.checkpoint.write();
        }
    }
}
