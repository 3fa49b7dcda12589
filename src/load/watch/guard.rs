//! `[sla] abort_on_fail`: once past `abort_grace`, the rules are judged on the figures so far
//! every few seconds (the error rate, the typed latency keys, isolation); the first that fails
//! stops the test, named on stderr and in the report, and the verdict exits 1. Real agents cost
//! money: a test that has clearly failed need not run to its end.

use crate::client::isolation::Isolation;
use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use crate::model::summary::{RuleVerdict, Summary};
use crate::plan::Sla;
use std::sync::Arc;
use std::time::Duration;

/// How often the rules are judged.
const EVERY: Duration = Duration::from_secs(1);

pub struct Guard {
    sla: Sla,
    isolation: Arc<Isolation>,
    stop: Arc<Stop>,
}

impl Guard {
    pub fn new(sla: Sla, isolation: Arc<Isolation>, stop: Arc<Stop>) -> Guard {
        Guard {
            sla,
            isolation,
            stop,
        }
    }

    /// The first rule that fails on the figures so far; a latency with no samples yet is no
    /// failure.
    fn failing(&self, collector: &Collector) -> Option<RuleVerdict> {
        // The cheap reading (counts and histograms in memory): a snapshot would encode every
        // histogram of the test each second.
        let mut so_far = Summary::clone(&collector.reading());
        so_far.isolation = Some(self.isolation.summary());
        let mut verdicts = crate::model::sla::judge(&self.sla, &so_far);
        // Nothing completed yet is no failure while the test goes on.
        verdicts.retain(|v| !v.rule.starts_with("the test completed work"));
        let typed = self.sla.typed_rules();
        verdicts.extend(crate::model::threshold::judge(
            &typed,
            &so_far,
            &[],
            "agentload",
        ));
        verdicts
            .into_iter()
            .find(|v| !v.passed && v.observed != "no samples")
    }
}

impl super::watcher::Watcher for Guard {
    fn every(&self) -> Duration {
        EVERY
    }

    fn tick(&mut self, collector: &Collector) {
        let now = collector.now_secs();
        if now < self.sla.abort_grace.0.as_secs_f64() || self.stop.stopping().is_some() {
            return;
        }
        if let Some(rule) = self.failing(collector) {
            let reason = format!(
                "{} failed at {now:.1} s (observed {})",
                rule.rule, rule.observed
            );
            self.stop.halt("abort_on_fail", reason, now);
        }
    }
}
