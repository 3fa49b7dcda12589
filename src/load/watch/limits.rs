//! `[limits] max_duration`: the test stops when its load has run this long, whatever its
//! stages say; the report says why it stopped. (`max_runs` is counted where runs start:
//! `load::stop::RunBudget`.)

use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use std::sync::Arc;
use std::time::Duration;

pub struct MaxDuration {
    pub limit: Duration,
    pub stop: Arc<Stop>,
}

impl super::watcher::Watcher for MaxDuration {
    fn every(&self) -> Duration {
        Duration::from_millis(100)
    }

    fn tick(&mut self, collector: &Collector) {
        let now = collector.now_secs();
        if now >= self.limit.as_secs_f64() {
            let reason = format!("the load ran its max_duration of {:?}", self.limit);
            self.stop.halt("max_duration", reason, now);
        }
    }
}
