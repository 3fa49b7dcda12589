//! The plan's stages as they pass: at each stage's end the collector closes that stage's
//! breakdown, so a test that failed can say what degraded between its first stage and its
//! peak (`model::breakdown::degraded_first`).

use crate::measure::collector::Collector;
use std::time::Duration;

pub struct StageMarks {
    /// Each stage's end, seconds from the test's start.
    ends: Vec<f64>,
    next: usize,
}

impl StageMarks {
    pub fn new(durations: impl IntoIterator<Item = Duration>) -> StageMarks {
        let ends = durations
            .into_iter()
            .scan(0.0, |at, d| {
                *at += d.as_secs_f64();
                Some(*at)
            })
            .collect();
        StageMarks { ends, next: 0 }
    }
}

impl super::watcher::Watcher for StageMarks {
    fn every(&self) -> Duration {
        Duration::from_millis(250)
    }

    fn tick(&mut self, collector: &Collector) {
        let now = collector.now_secs();
        while self.ends.get(self.next).is_some_and(|end| now >= *end) {
            collector.close_stage();
            self.next += 1;
        }
    }

    /// The stage under way at the end (cut short, or the last) is closed too.
    fn finish(&mut self, collector: &Collector) {
        self.tick(collector);
        if self.next < self.ends.len() {
            collector.close_stage();
            self.next = self.ends.len();
        }
    }
}
