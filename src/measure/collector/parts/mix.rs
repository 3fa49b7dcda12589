//! Per-scenario figures of a workload mix, kept in each collector shard beside the totals.

use super::super::record::{add_failure, slot};
use crate::client::outcome::RunOutcome;
use crate::client::protocol::REQUIRED;
use crate::model::metrics::{Latency, SerializedLatency};
use crate::model::mix::{add_failures, EndpointSummary, IdleSummary, ScenarioSummary};
use crate::model::summary::{FailureBucket, RunCounts};
use std::collections::BTreeMap;

/// A scenario as the collector knows it before any user: name, kind, weight.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioMeta {
    pub name: String,
    pub kind: String,
    pub weight: u64,
}

#[derive(Default, Clone)]
pub(crate) struct ScenarioPart {
    pub(crate) users: u64,
    pub(crate) runs: RunCounts,
    pub(crate) failures: BTreeMap<String, FailureBucket>,
    pub(crate) funnel: [u64; 5],
    pub(crate) agent_run: Option<Latency>,
    pub(crate) endpoints: BTreeMap<String, EndpointPart>,
    pub(crate) idle: Option<IdleSummary>,
}

#[derive(Default, Clone)]
pub(crate) struct EndpointPart {
    pub(crate) requests: u64,
    pub(crate) failed: u64,
    pub(crate) failures: BTreeMap<String, FailureBucket>,
    pub(crate) latency: Option<Latency>,
}

/// Scenario `index`'s part, made on first use.
pub(crate) fn part_of(mix: &mut Vec<ScenarioPart>, index: usize) -> &mut ScenarioPart {
    if mix.len() <= index {
        mix.resize(index + 1, ScenarioPart::default());
    }
    &mut mix[index]
}

/// The run's share of its scenario's figures, under the shard's lock `run_finished` holds.
pub(crate) fn scenario_run(mix: &mut Vec<ScenarioPart>, outcome: &RunOutcome) {
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

impl ScenarioPart {
    pub(crate) fn add(&mut self, o: &ScenarioPart) {
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

pub(crate) fn add_latency(into: &mut Option<Latency>, from: &Option<Latency>) {
    if let Some(l) = from {
        into.get_or_insert_with(Latency::default).add(l);
    }
}

pub(crate) fn summary_of(p: &ScenarioPart) -> ScenarioSummary {
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
