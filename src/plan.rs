//! The load plan: one TOML file, parsed and validated once into typed config.
//!
//! Every error names the file, the line and the key, so a performance engineer can fix a plan
//! without reading the source. Nothing downstream reads TOML again.

mod capacity;
pub mod checks;
mod env;
mod locate;
pub mod metrics;
pub mod mix;
mod preflight;
mod protocol;
pub mod requests;
mod sections;
mod shard;
mod sla;
pub mod think;
mod values;
pub mod workload;

use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use capacity::{
    CapacityBy, CapacityPlan, Enterprise, Resource, ResourceKind, Scaling, RUN_GUESS_SECS,
};
pub use preflight::{EnvRule, PreflightPlan};
pub use protocol::{Carrier, HandshakePlan, Protocol, PROFILES};
pub use sections::*;
pub use shard::Shard;
pub use sla::Sla;
pub use think::{Think, Turns};
pub use values::{parse_duration, Bytes, Dur, Percent};
pub use workload::{Arrival, Distribution, Model, Rate, SessionPlan, Workload};

/// A load plan that failed to read, parse or validate.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: cannot read the load plan: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {key}: {message}")]
    Invalid {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
}

/// A whole load plan, as written in `loadplans/*.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Used in report folder names; defaults to the file name without `.toml`.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(deserialize_with = "values::target_or_embedded")]
    pub target: Target,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default)]
    pub scenario: Scenario,
    /// A workload mix: kinds of users with weights (empty: every user is `[scenario]`'s).
    #[serde(default)]
    pub scenarios: Vec<mix::MixEntry>,
    /// Closed model: the ramp of users (Goose's test plan).
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Closed or open model, and the open model's pool and arrival distribution.
    #[serde(default)]
    pub workload: Workload,
    /// A user's conversation: turns in one thread, then it leaves (unset: users never leave).
    #[serde(default)]
    pub session: Option<SessionPlan>,
    /// Open model: sessions arriving at a rate, phase after phase.
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
    /// Result checks on each completed run's `agent_completed` data.
    #[serde(default)]
    pub checks: Vec<crate::plan::checks::ResultCheck>,
    #[serde(default)]
    pub sla: Sla,
    #[serde(default)]
    pub sampler: SamplerPlan,
    #[serde(default)]
    pub security: SecurityPlan,
    #[serde(default)]
    pub preflight: PreflightPlan,
    #[serde(default)]
    pub capacity: CapacityPlan,
    #[serde(default)]
    pub report: Report,
    #[serde(default)]
    pub limits: Limits,
    /// Where the plan was read from (not a TOML key).
    #[serde(skip)]
    pub source: PathBuf,
}

impl Plan {
    /// Reads and validates a plan file.
    pub fn load(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Read {
            file: path.display().to_string(),
            source,
        })?;
        Plan::parse(&text, path)
    }

    /// Parses plan text; `path` names it in errors. Every string value takes `${VAR}` (and
    /// `${VAR:-default}`), expanded once here, before any section reads it.
    pub fn parse(text: &str, path: &Path) -> Result<Plan, PlanError> {
        let invalid = |offset: usize, message: String| {
            let (line, key) = locate::line_and_key(text, offset);
            PlanError::Invalid {
                file: path.display().to_string(),
                line,
                key,
                message,
            }
        };
        let toml_error = |e: toml::de::Error| match e.span() {
            Some(span) => invalid(span.start, e.message().to_string()),
            None => PlanError::Invalid {
                file: path.display().to_string(),
                line: 1,
                key: "plan".into(),
                message: e.message().to_string(),
            },
        };
        let mut root = toml::de::DeTable::parse(text).map_err(toml_error)?;
        env::expand_strings(root.get_mut()).map_err(|(at, m)| invalid(at, m))?;
        let mut plan = Plan::deserialize(toml::de::Deserializer::from(root)).map_err(toml_error)?;
        plan.source = path.to_path_buf();
        plan.prepare_mix()
            .map_err(|(nth, key, message)| PlanError::Invalid {
                file: path.display().to_string(),
                line: locate::nth_key_line(text, "scenarios", nth, &key),
                key: format!("scenarios[{nth}].{key}"),
                message,
            })?;
        plan.validate()
            .map_err(|(table, key, message)| PlanError::Invalid {
                file: path.display().to_string(),
                line: locate::key_line(text, &table, &key),
                key: if table.is_empty() {
                    key
                } else {
                    format!("{table}.{key}")
                },
                message,
            })?;
        Ok(plan)
    }

    /// Checks every `[[scenarios]]` entry and reads its prompt pool: (entry, key, message) of
    /// the first problem.
    fn prepare_mix(&mut self) -> Result<(), (usize, String, String)> {
        let dir = self
            .source
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        mix::prepare_all(&mut self.scenarios, &self.scenario.user_request, &dir)
    }

    /// The user kinds this plan runs: its `[[scenarios]]`, or `[scenario]` as the only one.
    pub fn mix(&self) -> Vec<mix::MixEntry> {
        match self.scenarios.is_empty() {
            true => vec![mix::MixEntry::from_scenario(&self.scenario)],
            false => self.scenarios.clone(),
        }
    }

    /// Whether request names carry the scenario (`WS agent_run [name]`): a `[[scenarios]]` mix.
    pub fn is_mix(&self) -> bool {
        !self.scenarios.is_empty()
    }

    /// The plan's name, for folders and reports.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.source
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plan".into())
        })
    }

    /// Checks what serde cannot: (table, key, message) of the first problem.
    fn validate(&self) -> Result<(), (String, String, String)> {
        let bad = |table: &str, key: &str, msg: &str| Err((table.into(), key.into(), msg.into()));
        if let Some((key, message)) = self.target.problem() {
            return bad("target", key, &message);
        }
        if !protocol::PROFILES.contains(&self.protocol.profile.as_str()) {
            return bad(
                "protocol",
                "profile",
                &format!(
                    "unknown profile `{}`: use \"reference\" or \"netra\"",
                    self.protocol.profile
                ),
            );
        }
        if self.protocol.token_carriers.is_empty() {
            return bad("protocol", "token_carriers", "name at least one carrier");
        }
        let kinds: Vec<mix::Kind> = self.mix().iter().map(|e| e.kind).collect();
        let workload = workload::Load {
            workload: &self.workload,
            stages: &self.stages,
            arrivals: &self.arrivals,
            kinds: &kinds,
        };
        if let Some((table, key, message)) = workload.problem() {
            return bad(table, key, &message);
        }
        if let Some((key, message)) = self
            .capacity
            .problem()
            .or_else(|| self.capacity.model_problem(self.is_open()))
        {
            return bad("capacity", key, message);
        }
        if !(0.0..=1.0).contains(&self.security.bad_token_share) {
            return bad("security", "bad_token_share", "must be between 0 and 1");
        }
        if self.sampler.interval.0 < std::time::Duration::from_millis(100) {
            return bad("sampler", "interval", "must be at least 100ms");
        }
        if self.auth.refresh && self.auth.refresh_before >= self.auth.lifetime {
            return bad(
                "auth",
                "refresh_before",
                "must be shorter than auth.lifetime, or every token is renewed at once",
            );
        }
        for source in &self.target.metrics {
            if let Some((key, message)) = source.problem() {
                return bad("target.metrics", key, &message);
            }
        }
        let polled = |name: &str| {
            self.target
                .metrics
                .iter()
                .any(|m| m.series().iter().any(|s| s.name == name) || m.paths.contains_key(name))
        };
        if let Some(r) = self.capacity.resources.iter().find(|r| !polled(&r.series)) {
            let message = format!(
                "resource `{}` reads `{}`, which no [[target.metrics]] source polls",
                r.name, r.series
            );
            return bad("capacity.resources", "series", &message);
        }
        if self.limits.max_runs == Some(0) {
            return bad("limits", "max_runs", "must be at least 1");
        }
        if self.limits.max_duration.is_some_and(|d| d.0.is_zero()) {
            return bad("limits", "max_duration", "must be more than 0");
        }
        if self.scenario.run_timeout.0.is_zero() {
            return bad("scenario", "run_timeout", "must be more than 0");
        }
        if self.scenario.max_frame.0 < 1024.0
            || self.scenario.max_frame.0 > 1024.0 * 1024.0 * 1024.0
        {
            return bad("scenario", "max_frame", "must be between 1KiB and 1GiB");
        }
        for rule in self.sla.rules.iter().filter(|r| metrics::is_server_rule(r)) {
            if metrics::parse_server_rule(rule).is_none() {
                return bad(
                    "sla",
                    "rules",
                    &format!("`{rule}`: write a server rule as `server.NAME <= NUMBER`"),
                );
            }
        }
        for rule in self.sla.goose_rules() {
            if !rule.contains(['<', '>']) {
                return bad(
                    "sla",
                    "rules",
                    &format!("`{rule}` has no < or > comparison"),
                );
            }
        }
        Ok(())
    }

    /// The load's stages as Goose's `--test-plan` string, e.g. `5,10;5,30;0,5`. A plan that
    /// does not end at 0 users gets a last `0,0` step: stop every user when the stages are done.
    pub fn goose_test_plan(&self) -> String {
        let stages = self.load_stages();
        let mut steps: Vec<String> = stages
            .iter()
            .map(|s| format!("{},{}", s.users, s.duration.0.as_secs_f64().ceil() as u64))
            .collect();
        if stages.last().is_some_and(|s| s.users > 0) {
            steps.push("0,0".into());
        }
        steps.join(";")
    }

    /// The Goose users the load holds over time: the closed model's `[[stages]]`; the open
    /// model's pool of `max_sessions`, launched over `POOL_LAUNCH` and held while sessions
    /// arrive and drain (and a margin: the arrivals start once the pool is up).
    pub fn load_stages(&self) -> Vec<Stage> {
        match self.workload.model {
            Model::Closed => self.stages.clone(),
            Model::Open => {
                let pool = self.workload.max_sessions;
                let hold = self.arrivals_duration() + self.workload.drain.0 + POOL_MARGIN;
                vec![
                    Stage {
                        users: pool,
                        duration: Dur(POOL_LAUNCH),
                    },
                    Stage {
                        users: pool,
                        duration: Dur(hold),
                    },
                ]
            }
        }
    }

    /// How long the load is planned to last (a wait never outlasts it).
    pub fn planned_duration(&self) -> std::time::Duration {
        match self.workload.model {
            Model::Closed => self.stages.iter().map(|s| s.duration.0).sum(),
            Model::Open => POOL_LAUNCH + self.arrivals_duration() + self.workload.drain.0,
        }
    }

    /// The open model's arrival phases, end to end.
    pub fn arrivals_duration(&self) -> std::time::Duration {
        workload::arrivals_duration(&self.arrivals)
    }

    /// Sessions arrive on a schedule (`[workload] model = "open"`).
    pub fn is_open(&self) -> bool {
        self.workload.model == Model::Open
    }

    /// Users hold sessions of turns: the open model, or a `[session]` in the closed one.
    pub fn has_sessions(&self) -> bool {
        self.is_open() || self.session.is_some()
    }

    /// The largest user count of any stage (the open model: its pool).
    pub fn peak_users(&self) -> usize {
        self.load_stages()
            .iter()
            .map(|s| s.users)
            .max()
            .unwrap_or(0)
    }
}

/// The open model's pool is launched over this long before the first arrival.
pub const POOL_LAUNCH: std::time::Duration = std::time::Duration::from_secs(1);
/// Beyond the arrivals and the drain, the pool is held this much longer: arrivals start once
/// every pool user is up, which may take longer than `POOL_LAUNCH`.
pub const POOL_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(test)]
mod tests;
