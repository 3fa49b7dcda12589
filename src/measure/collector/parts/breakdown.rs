//! Where the time goes, as the collector keeps it: per tool, per agent (at most `MAX_NAMES`
//! each, the rest as `other`), per phase, and delivery lag. One lock, taken once per run.

use crate::client::outcome::{RunOutcome, PHASES};
use crate::model::breakdown::{AgentFigures, Breakdown, PhaseFigures, ToolFigures, MAX_NAMES};
use crate::model::metrics::{Latency, SerializedLatency};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Parts {
    tools: BTreeMap<String, ToolPart>,
    agents: BTreeMap<String, AgentPart>,
    phases: Option<[Latency; 4]>,
    lag: Option<Latency>,
}

#[derive(Default)]
struct ToolPart {
    executed: u64,
    failed: u64,
    time: Option<Latency>,
    server: Option<Latency>,
    outside: Option<Latency>,
}

#[derive(Default)]
struct AgentPart {
    runs: u64,
    completed: u64,
    failures: BTreeMap<String, u64>,
    time: Option<Latency>,
}

fn record(h: &mut Option<Latency>, d: Duration) {
    h.get_or_insert_with(Latency::default).record(d);
}

/// The entry for `name`, or `other` once `MAX_NAMES` are kept.
fn named<'m, V: Default>(map: &'m mut BTreeMap<String, V>, name: &str) -> &'m mut V {
    let key = match map.contains_key(name) || map.len() < MAX_NAMES {
        true => name,
        false => "other",
    };
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Parts {
    /// One run that ended (completed or failed).
    pub(crate) fn run(&mut self, outcome: &RunOutcome) {
        let trace = &outcome.trace;
        for span in &trace.tools {
            let t = named(&mut self.tools, &span.name);
            t.executed += 1;
            match span.elapsed {
                Some(elapsed) => {
                    record(&mut t.time, elapsed);
                    if let Some(server) = span.server {
                        record(&mut t.server, server);
                        record(&mut t.outside, elapsed.saturating_sub(server));
                    }
                }
                None => t.failed += 1,
            }
        }
        let agent = named(
            &mut self.agents,
            trace.agent.as_deref().unwrap_or("unnamed"),
        );
        agent.runs += 1;
        match &outcome.failure {
            None => {
                agent.completed += 1;
                record(&mut agent.time, outcome.elapsed);
            }
            Some(f) => *agent.failures.entry(f.kind.clone()).or_default() += 1,
        }
        if let (None, Some(phases)) = (&outcome.failure, &trace.phases) {
            let all = self.phases.get_or_insert_with(Default::default);
            for (h, d) in all.iter_mut().zip(phases) {
                h.record(*d);
            }
        }
        for lag in &trace.lags {
            record(&mut self.lag, *lag);
        }
    }

    /// The breakdown as the summary carries it; `None` before any run.
    pub(crate) fn summary(&self) -> Option<Breakdown> {
        if self.agents.is_empty() {
            return None;
        }
        let ser = |h: &Option<Latency>| h.as_ref().map(SerializedLatency::from);
        let mut b = Breakdown {
            tools: self
                .tools
                .iter()
                .map(|(name, t)| ToolFigures {
                    name: name.clone(),
                    executed: t.executed,
                    failed: t.failed,
                    time: ser(&t.time),
                    server: ser(&t.server),
                    outside: ser(&t.outside),
                })
                .collect(),
            agents: self
                .agents
                .iter()
                .map(|(name, a)| AgentFigures {
                    name: name.clone(),
                    runs: a.runs,
                    completed: a.completed,
                    failures: a.failures.clone(),
                    time: ser(&a.time),
                })
                .collect(),
            phases: self
                .phases
                .iter()
                .flat_map(|all| all.iter().zip(PHASES))
                .map(|(h, name)| PhaseFigures {
                    name: name.to_string(),
                    time: (h.count() > 0).then(|| SerializedLatency::from(h)),
                    share_percent: 0.0,
                })
                .collect(),
            delivery_lag: ser(&self.lag),
        };
        b.settle();
        Some(b)
    }

    pub(crate) fn tool_buckets(&self, bounds: &[f64]) -> Vec<ToolBuckets> {
        self.tools
            .iter()
            .filter_map(|(name, t)| {
                let time = t.time.as_ref()?;
                Some(ToolBuckets {
                    name: name.clone(),
                    cumulative: bounds.iter().map(|le| time.count_up_to_secs(*le)).collect(),
                    count: time.count(),
                    sum_secs: time.sum_secs(),
                })
            })
            .collect()
    }
}

/// One tool's completed executions as a Prometheus histogram reads them.
pub struct ToolBuckets {
    pub name: String,
    /// Executions at most each bound (seconds) long.
    pub cumulative: Vec<u64>,
    pub count: u64,
    pub sum_secs: f64,
}

/// The whole test's breakdown, and, when stages are tracked, the stage under way's (closed
/// stage by stage into the figures what-degraded-first compares).
#[derive(Default)]
pub(crate) struct Breakdowns {
    pub(crate) whole: Parts,
    pub(crate) stage: Option<Parts>,
    pub(crate) stages: Vec<BTreeMap<String, f64>>,
    /// A capacity step's hold under way (its runs kept apart too).
    pub(crate) hold: Option<Parts>,
}

impl Breakdowns {
    pub(crate) fn run(&mut self, outcome: &RunOutcome) {
        self.whole.run(outcome);
        if let Some(stage) = &mut self.stage {
            stage.run(outcome);
        }
        if let Some(hold) = &mut self.hold {
            hold.run(outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::outcome::{RunTrace, ToolSpan};

    pub(crate) fn outcome(tools: Vec<ToolSpan>, ok: bool) -> RunOutcome {
        RunOutcome {
            failure: (!ok).then(|| crate::client::outcome::Failure::new("transport.timeout", "x")),
            reached: Default::default(),
            timeline: Vec::new(),
            elapsed: Duration::from_millis(900),
            final_data: None,
            scenario: 0,
            turn: None,
            trace: RunTrace {
                agent: Some("triage".into()),
                tools,
                lags: vec![Duration::from_millis(3)],
                phases: ok.then_some([Duration::from_millis(100); 4]),
            },
        }
    }

    #[test]
    pub(crate) fn tools_agents_phases_and_lag_are_counted() {
        let mut parts = Parts::default();
        let ms = Duration::from_millis;
        let span = |name: &str, elapsed, server| ToolSpan {
            name: name.into(),
            elapsed,
            server,
        };
        parts.run(&outcome(
            vec![span("a", Some(ms(500)), Some(ms(400)))],
            true,
        ));
        parts.run(&outcome(vec![span("a", None, None)], false));
        let b = parts.summary().unwrap();
        let a = &b.tools[0];
        assert_eq!((a.executed, a.failed), (2, 1));
        let outside = a.outside.as_ref().unwrap().stats.p50_ms;
        assert!((outside - 100.0).abs() < 0.2, "{outside}");
        let agent = &b.agents[0];
        assert_eq!((agent.runs, agent.completed), (2, 1));
        assert_eq!(agent.failures["transport.timeout"], 1);
        assert_eq!(b.phases.len(), 4);
        assert!((b.phases[0].share_percent - 25.0).abs() < 1e-9);
        assert_eq!(b.delivery_lag.as_ref().unwrap().stats.count, 2);
    }

    #[test]
    pub(crate) fn past_the_cap_names_count_as_other() {
        let mut parts = Parts::default();
        for i in 0..MAX_NAMES + 5 {
            let span = ToolSpan {
                name: format!("tool{i}"),
                elapsed: Some(Duration::from_millis(10)),
                server: None,
            };
            parts.run(&outcome(vec![span], true));
        }
        let b = parts.summary().unwrap();
        assert_eq!(b.tools.len(), MAX_NAMES + 1);
        let other = b.tools.iter().find(|t| t.name == "other").unwrap();
        assert_eq!(other.executed, 5);
    }
}
