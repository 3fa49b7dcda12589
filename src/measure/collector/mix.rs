//! Per-scenario figures of a workload mix, kept in each collector shard beside the totals.

use super::record::{add_failure, slot};
use super::Collector;
use crate::client::outcome::{Failure, RunOutcome};
use crate::client::protocol::REQUIRED;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::mix::{add_failures, set_shares, EndpointSummary, IdleSummary, ScenarioSummary};
use crate::model::summary::{FailureBucket, RunCounts};
use std::collections::BTreeMap;
use std::time::Duration;

/// A scenario as the collector knows it before any user: name, kind, weight.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioMeta {
    pub name: String,
    pub kind: String,
    pub weight: u64,
}

#[derive(Default, Clone)]
pub(super) struct ScenarioPart {
    users: u64,
    runs: RunCounts,
    failures: BTreeMap<String, FailureBucket>,
    funnel: [u64; 5],
    agent_run: Option<Latency>,
    endpoints: BTreeMap<String, EndpointPart>,
    idle: Option<IdleSummary>,
}

#[derive(Default, Clone)]
struct EndpointPart {
    requests: u64,
    failed: u64,
    failures: BTreeMap<String, FailureBucket>,
    latency: Option<Latency>,
}

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

/// Scenario `index`'s part, made on first use.
fn part_of(mix: &mut Vec<ScenarioPart>, index: usize) -> &mut ScenarioPart {
    if mix.len() <= index {
        mix.resize(index + 1, ScenarioPart::default());
    }
    &mut mix[index]
}

/// The run's share of its scenario's figures, under the shard's lock `run_finished` holds.
pub(super) fn scenario_run(mix: &mut Vec<ScenarioPart>, outcome: &RunOutcome) {
    let p = part_of(mix, outcome.scenario);
    p.runs.started += 1;
    match &outcome.failure {
        None => {
            p.runs.completed += 1;
            p.agent_run
                .get_or_insert_with(Latency::default)
                .record(outcome.elapsed);
        }
        Some(f) => {
            p.runs.failed += 1;
            add_failure(&mut p.failures, f);
        }
    }
    for (kind, count) in REQUIRED.iter().zip(p.funnel.iter_mut()) {
        *count += u64::from(outcome.reached.contains(kind));
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

impl ScenarioPart {
    fn add(&mut self, o: &ScenarioPart) {
        self.users += o.users;
        self.runs.started += o.runs.started;
        self.runs.completed += o.runs.completed;
        self.runs.failed += o.runs.failed;
        add_failures(&mut self.failures, &o.failures);
        for (a, b) in self.funnel.iter_mut().zip(o.funnel) {
            *a += b;
        }
        add_latency(&mut self.agent_run, &o.agent_run);
        for (name, e) in &o.endpoints {
            let t = slot(&mut self.endpoints, name);
            t.requests += e.requests;
            t.failed += e.failed;
            add_failures(&mut t.failures, &e.failures);
            add_latency(&mut t.latency, &e.latency);
        }
        if let Some(i) = &o.idle {
            self.idle.get_or_insert_with(IdleSummary::default).add(i);
        }
    }
}

fn add_latency(into: &mut Option<Latency>, from: &Option<Latency>) {
    if let Some(l) = from {
        into.get_or_insert_with(Latency::default).add(l);
    }
}

fn summary_of(p: &ScenarioPart) -> ScenarioSummary {
    ScenarioSummary {
        users: p.users,
        runs: p.runs.clone(),
        failures: p.failures.clone(),
        funnel: REQUIRED
            .iter()
            .zip(p.funnel)
            .map(|(k, n)| (k.name().to_string(), n))
            .collect(),
        agent_run: p.agent_run.as_ref().map(SerializedLatency::from),
        endpoints: p
            .endpoints
            .iter()
            .map(|(name, e)| EndpointSummary {
                name: name.clone(),
                requests: e.requests,
                failed: e.failed,
                failures: e.failures.clone(),
                latency: e.latency.as_ref().map(SerializedLatency::from),
            })
            .collect(),
        idle: p.idle.clone(),
        ..ScenarioSummary::default()
    }
}
