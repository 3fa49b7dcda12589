//! A shard's share of the figures (the users whose number falls to it), and how shards add up.

use super::record::RunRecord;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::summary::{CheckSummary, LatencySection, Summary};
use std::collections::BTreeMap;

#[derive(Default, Clone)]
pub(super) struct Shard {
    pub(super) counts: Summary,
    pub(super) connect: Latency,
    pub(super) first_event: Latency,
    pub(super) agent_run: Latency,
    pub(super) span: Latency,
    /// Per event name: how many arrived, when (from the start message), the gap before each.
    pub(super) per_event: BTreeMap<String, EventFigures>,
    pub(super) checks: Vec<(CheckSummary, Vec<f64>)>,
    /// Every run's end: for the timeline and for windows (capacity steps); the oldest are
    /// folded into per-second tallies once there are many.
    pub(super) log: Vec<RunRecord>,
    /// The log's length that folds it next (at least `FOLD_AT`).
    pub(super) fold_at: usize,
    /// Per-scenario figures of a mix, by scenario index.
    pub(super) mix: Vec<super::parts::mix::ScenarioPart>,
    /// Sessions' runs by turn.
    pub(super) by_turn: Vec<super::parts::sessions::TurnPart>,
}

impl Shard {
    /// The histograms as the summary carries them.
    pub(super) fn latency_section(&self) -> LatencySection {
        let ser = |l: &Latency| (l.count() > 0).then(|| SerializedLatency::from(l));
        LatencySection {
            connect: ser(&self.connect),
            time_to_first_event: ser(&self.first_event),
            agent_run: ser(&self.agent_run),
            run_span: ser(&self.span),
            from_start: self
                .per_event
                .iter()
                .map(|(k, f)| (k.clone(), (&f.from_start).into()))
                .collect(),
            gap_before: self
                .per_event
                .iter()
                .map(|(k, f)| (k.clone(), (&f.gap_before).into()))
                .collect(),
        }
    }
}

#[derive(Default, Clone)]
pub(super) struct EventFigures {
    pub(super) count: u64,
    pub(super) from_start: Latency,
    pub(super) gap_before: Latency,
}

pub(super) fn merge(total: &mut Shard, sh: &Shard, first: bool) {
    total.counts.add_counts(&sh.counts);
    total.connect.add(&sh.connect);
    total.first_event.add(&sh.first_event);
    total.agent_run.add(&sh.agent_run);
    total.span.add(&sh.span);
    for (k, f) in &sh.per_event {
        let t = total.per_event.entry(k.clone()).or_default();
        t.count += f.count;
        t.from_start.add(&f.from_start);
        t.gap_before.add(&f.gap_before);
    }
    total.log.extend_from_slice(&sh.log);
    super::parts::sessions::add_turns(&mut total.by_turn, &sh.by_turn);
    if first {
        total.checks = sh.checks.clone();
    } else {
        for ((tc, tv), (sc, sv)) in total.checks.iter_mut().zip(&sh.checks) {
            tc.runs += sc.runs;
            tc.met += sc.met;
            tc.missing += sc.missing;
            tv.extend_from_slice(sv);
        }
    }
}
