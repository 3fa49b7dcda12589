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
mod whole;
pub mod workload;

use serde::Deserialize;
use std::path::Path;

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
pub use whole::{Plan, POOL_LAUNCH, POOL_MARGIN};
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
}

#[cfg(test)]
mod tests;
