//! Figures per scenario of a workload mix: the users each kind actually got beside the weight
//! asked for, its runs, failures, funnel and run times, its endpoints (api users) and its held
//! sockets (idle users).

pub use super::counts::add_failures;
use super::counts::{FailureBucket, RunCounts};
use super::metrics::{Latency, SerializedLatency};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScenarioSummary {
    pub name: String,
    /// `agent`, `api` or `idle`.
    pub kind: String,
    pub weight: u64,
    /// The weight's share of all weights: the mix asked for.
    pub weight_percent: f64,
    /// Users Goose started in this scenario, and their share: the mix achieved.
    pub users: u64,
    pub users_percent: f64,
    pub runs: RunCounts,
    pub failures: BTreeMap<String, FailureBucket>,
    /// How many runs reached each of the five required events, in order.
    pub funnel: Vec<(String, u64)>,
    /// Start to `agent_completed`, completed runs.
    pub agent_run: Option<SerializedLatency>,
    pub endpoints: Vec<EndpointSummary>,
    pub idle: Option<IdleSummary>,
}

/// One endpoint of an api scenario (its Goose request name, e.g. `GET /api/threads [api]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointSummary {
    pub name: String,
    pub requests: u64,
    pub failed: u64,
    pub failures: BTreeMap<String, FailureBucket>,
    /// Request sent to the body read, successful requests.
    pub latency: Option<SerializedLatency>,
}

/// What idle users' sockets saw.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IdleSummary {
    /// Frames the server sent on its own (pings, notices).
    pub frames: u64,
    /// Server pings answered with a pong.
    pub pings_answered: u64,
    /// Sockets the server closed under an idle user (each reconnects).
    pub cuts: u64,
}

impl ScenarioSummary {
    /// Adds `other` (the same scenario, from another collector shard or load shard).
    pub fn add(&mut self, other: &ScenarioSummary) -> Result<(), String> {
        self.users += other.users;
        self.runs.started += other.runs.started;
        self.runs.completed += other.runs.completed;
        self.runs.failed += other.runs.failed;
        self.runs.resumed += other.runs.resumed;
        add_failures(&mut self.failures, &other.failures);
        if self.funnel.is_empty() {
            self.funnel = other.funnel.clone();
        } else {
            for ((_, a), (_, b)) in self.funnel.iter_mut().zip(&other.funnel) {
                *a += b;
            }
        }
        self.agent_run = add_latency(self.agent_run.take(), other.agent_run.as_ref())?;
        for e in &other.endpoints {
            match self.endpoints.iter_mut().find(|m| m.name == e.name) {
                Some(m) => {
                    m.requests += e.requests;
                    m.failed += e.failed;
                    add_failures(&mut m.failures, &e.failures);
                    m.latency = add_latency(m.latency.take(), e.latency.as_ref())?;
                }
                None => self.endpoints.push(e.clone()),
            }
        }
        if let Some(o) = &other.idle {
            self.idle.get_or_insert_with(IdleSummary::default).add(o);
        }
        Ok(())
    }
}

impl IdleSummary {
    pub fn add(&mut self, o: &IdleSummary) {
        self.frames += o.frames;
        self.pings_answered += o.pings_answered;
        self.cuts += o.cuts;
    }
}

/// Every scenario's users as a share of all users.
pub fn set_shares(scenarios: &mut [ScenarioSummary]) {
    let users: u64 = scenarios.iter().map(|s| s.users).sum();
    let weights: u64 = scenarios.iter().map(|s| s.weight).sum();
    for s in scenarios {
        s.users_percent = share(s.users, users);
        s.weight_percent = share(s.weight, weights);
    }
}

fn share(n: u64, all: u64) -> f64 {
    match all {
        0 => 0.0,
        all => 100.0 * n as f64 / all as f64,
    }
}

fn add_latency(
    a: Option<SerializedLatency>,
    b: Option<&SerializedLatency>,
) -> Result<Option<SerializedLatency>, String> {
    Ok(match (a, b) {
        (a, None) => a,
        (None, Some(b)) => Some(b.clone()),
        (Some(a), Some(b)) => {
            let mut l: Latency = a.latency()?;
            l.add(&b.latency()?);
            Some((&l).into())
        }
    })
}
