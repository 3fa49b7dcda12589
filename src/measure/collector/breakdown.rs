//! What the collector tells of where the time goes (the figures are `parts::breakdown`'s).

use super::parts::breakdown::{Parts, ToolBuckets};
use std::collections::BTreeMap;

impl super::state::Collector {
    /// Each tool's completed executions so far, counted up to each of `bounds` (seconds):
    /// read under the lock, nothing copied but the counts.
    pub fn tool_buckets(&self, bounds: &[f64]) -> Vec<ToolBuckets> {
        super::record::lock(&self.breakdown)
            .whole
            .tool_buckets(bounds)
    }

    /// Each run is also kept by stage from now on (a run's second record is paid only by
    /// tests whose stages are compared).
    pub fn track_stages(&self) {
        super::record::lock(&self.breakdown).stage = Some(Parts::default());
    }

    /// A stage of the plan ended: its breakdown's figures are kept, the next starts empty.
    pub fn close_stage(&self) {
        let mut b = super::record::lock(&self.breakdown);
        let Some(stage) = b.stage.replace(Parts::default()) else {
            return;
        };
        let figures = stage.summary().map(|s| s.figures()).unwrap_or_default();
        b.stages.push(figures);
    }

    /// A capacity step's hold begins: its runs' breakdown is kept apart from now on.
    pub fn hold_begins(&self) {
        super::record::lock(&self.breakdown).hold = Some(Parts::default());
    }

    /// The breakdown of the hold under way so far.
    pub fn hold_breakdown(&self) -> Option<crate::model::breakdown::Breakdown> {
        super::record::lock(&self.breakdown)
            .hold
            .as_ref()?
            .summary()
    }

    /// Each closed stage's figures (the breakdown's P95s), in order.
    pub fn stage_figures(&self) -> Vec<BTreeMap<String, f64>> {
        super::record::lock(&self.breakdown).stages.clone()
    }
}
