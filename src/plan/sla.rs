//! `[sla]`: the service-level rules, and the Goose thresholds among them.

use super::metrics::{is_server_rule, parse_server_rule, Op};
use super::requests;
use super::values::{Bytes, Dur, Percent};
use serde::Deserialize;

/// Service-level thresholds; each becomes a Goose `--threshold` rule.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    pub connect_avg: Option<Dur>,
    pub connect_p95: Option<Dur>,
    pub first_event_p95: Option<Dur>,
    pub agent_run_avg: Option<Dur>,
    pub agent_run_p95: Option<Dur>,
    pub agent_run_p99: Option<Dur>,
    /// Failed requests (connects + runs) as a share of all, e.g. `"5%"`.
    pub error_rate: Option<Percent>,
    /// Extra rules in Goose's own syntax, e.g. `"p99<2s for WS first_event"`.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Stop the test early once a rule fails on the figures so far (error rate, latency
    /// percentiles, isolation), after `abort_grace`; Goose's own thresholds abort too.
    #[serde(default, alias = "abort_on_failure")]
    pub abort_on_fail: bool,
    /// How long the test runs before `abort_on_fail` judges (its first figures are noisy).
    #[serde(default = "default_abort_grace")]
    pub abort_grace: Dur,
    /// Judged by agentload: every result check met by at least this share of completed runs.
    pub checks_met: Option<Percent>,
    /// Judged by agentload: target memory per open connection (RSS slope), e.g. `"10MB"`.
    pub target_memory_per_connection: Option<Bytes>,
    /// Judged by agentload: the target's mean CPU, as a share of the whole machine.
    pub target_cpu: Option<Percent>,
    /// Judged by agentload: attempts the platform shed (429, close 1013, rate-limit errors)
    /// as a share of attempts, e.g. `"0%"`. Unset: shedding is reported, never a failure.
    pub throttled: Option<Percent>,
    /// Judged by agentload: arrivals the open model's pool had no free user for, as a share
    /// of arrivals, e.g. `"0%"`.
    pub dropped: Option<Percent>,
    /// Judged by agentload: P95 of a session's first turn, from when it was due (open) or
    /// began (closed) to the first run's completion: login, connect and the run.
    pub first_turn_p95: Option<Dur>,
}

impl Sla {
    /// Every threshold as a Goose rule: the typed keys, then `rules` (but `server.` rules,
    /// which agentload judges on the deployment's polled metrics).
    pub fn goose_rules(&self) -> Vec<String> {
        let mut rules = self.typed_rules();
        rules.extend(self.raw_goose_rules());
        rules
    }

    /// The plan's own `rules` that Goose judges: every one but the `server.` rules.
    pub fn raw_goose_rules(&self) -> Vec<String> {
        self.rules
            .iter()
            .filter(|r| !is_server_rule(r))
            .cloned()
            .collect()
    }

    /// `server.NAME <= X` rules: (the rule, series name, comparison, limit). A rule that does
    /// not parse is left out here and refused by `Plan::validate`.
    pub fn server_rules(&self) -> Vec<(String, String, Op, f64)> {
        self.rules
            .iter()
            .filter(|r| is_server_rule(r))
            .filter_map(|r| {
                let (name, op, limit) = parse_server_rule(r)?;
                Some((r.clone(), name, op, limit))
            })
            .collect()
    }

    /// The typed latency keys as Goose rules (`p95<=2000ms for WS agent_run`).
    pub fn typed_rules(&self) -> Vec<String> {
        let mut rules = Vec::new();
        let mut time = |metric: &str, value: &Option<Dur>, request: &str| {
            if let Some(d) = value {
                rules.push(format!("{metric}<={}ms for {request}", d.0.as_millis()));
            }
        };
        time("avg", &self.connect_avg, requests::REQ_CONNECT);
        time("p95", &self.connect_p95, requests::REQ_CONNECT);
        time("p95", &self.first_event_p95, requests::REQ_FIRST_EVENT);
        time("avg", &self.agent_run_avg, requests::REQ_AGENT_RUN);
        time("p95", &self.agent_run_p95, requests::REQ_AGENT_RUN);
        time("p99", &self.agent_run_p99, requests::REQ_AGENT_RUN);
        // `error_rate` is judged by agentload on runs and connects (see `sla::judge`): Goose's
        // error-rate counts every request, including ones that can not fail.
        rules
    }
}

fn default_abort_grace() -> Dur {
    Dur::from_secs(10)
}
