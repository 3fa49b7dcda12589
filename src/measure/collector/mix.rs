//! What the collector tells of a mix of scenarios (their parts are `parts::mix`'s).

use super::parts::mix::*;
use super::record::{add_failure, slot};
use super::state::Collector;
use crate::client::outcome::Failure;
use crate::model::metrics::Latency;
use crate::model::mix::{set_shares, IdleSummary, ScenarioSummary};
use crate::model::summary::FailureBucket;
use std::collections::BTreeMap;
use std::time::Duration;

impl Collector {
    /// `f` on `scenario`'s part of `user`'s shard, and the shard's failures by kind.
    fn part(
        &self,
        user: usize,
        scenario: usize,
        f: impl FnOnce(&mut ScenarioPart, &mut BTreeMap<String, FailureBucket>),
    ) {
        // A single `[scenario]` keeps no per-scenario figures (api and idle users only come in
        // a mix).
        if self.mix.is_empty() {
            return;
        }
        let mut shard = self.shard(user);
        let sh = &mut *shard;
        f(part_of(&mut sh.mix, scenario), &mut sh.counts.failures);
    }

    /// Goose started `user` in `scenario`.
    pub fn user_started(&self, user: usize, scenario: usize) {
        self.part(user, scenario, |p, _| p.users += 1);
    }

    /// An api user's request: its name, time and failure.
    pub fn endpoint_called(
        &self,
        user: usize,
        scenario: usize,
        name: &str,
        elapsed: Duration,
        failure: Option<&Failure>,
    ) {
        self.part(user, scenario, |p, failures| {
            let e = slot(&mut p.endpoints, name);
            e.requests += 1;
            match failure {
                None => e
                    .latency
                    .get_or_insert_with(Latency::default)
                    .record(elapsed),
                Some(f) => {
                    e.failed += 1;
                    add_failure(&mut e.failures, f);
                    add_failure(failures, f);
                }
            }
        });
    }

    /// What an idle user's socket saw since the last call.
    pub fn idle_seen(&self, user: usize, scenario: usize, frames: u64, pongs: u64, cut: bool) {
        self.part(user, scenario, |p, _| {
            let i = p.idle.get_or_insert_with(IdleSummary::default);
            i.frames += frames;
            i.pings_answered += pongs;
            i.cuts += u64::from(cut);
        });
    }
}

impl Collector {
    /// Every scenario's figures, added over the shards (histograms added as they are, each
    /// serialized once).
    pub(super) fn scenarios(&self) -> Vec<ScenarioSummary> {
        let mut totals = vec![ScenarioPart::default(); self.mix.len()];
        for shard in &self.shards {
            let sh = shard.lock().unwrap_or_else(|p| p.into_inner());
            for (total, part) in totals.iter_mut().zip(&sh.mix) {
                total.add(part);
            }
        }
        let mut all: Vec<ScenarioSummary> = self
            .mix
            .iter()
            .zip(&totals)
            .map(|(m, part)| ScenarioSummary {
                name: m.name.clone(),
                kind: m.kind.clone(),
                weight: m.weight,
                ..summary_of(part)
            })
            .collect();
        set_shares(&mut all);
        all
    }
}
