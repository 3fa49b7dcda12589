//! `[[target.metrics]]`: where the deployment publishes its own figures, polled while the load
//! runs: Prometheus `/metrics` (one URL per instance) or a JSON monitoring endpoint.

use super::values::Dur;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// The Prometheus text format.
    #[default]
    Prometheus,
    /// A JSON document; `paths` name the numbers in it.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeriesKind {
    /// A level (memory, open connections): shown as it is.
    Gauge,
    /// A running total (CPU seconds, requests): shown as a rate.
    Counter,
}

/// One series of a Prometheus source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesSpec {
    pub name: String,
    /// Only samples with these labels (others are left out).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Default: a counter when the name ends in `_total`, a gauge otherwise.
    pub kind: Option<SeriesKind>,
}

impl SeriesSpec {
    pub fn kind(&self) -> SeriesKind {
        self.kind.unwrap_or(match self.name.ends_with("_total") {
            true => SeriesKind::Counter,
            false => SeriesKind::Gauge,
        })
    }
}

/// The series every official Prometheus client library writes for its process.
pub const RSS: &str = "process_resident_memory_bytes";
pub const CPU: &str = "process_cpu_seconds_total";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSource {
    /// Its name in the report (default: `prometheus` or `json`).
    pub name: Option<String>,
    #[serde(default)]
    pub format: SourceFormat,
    /// One URL per instance behind the load balancer; a path (`/metrics`) is the target's
    /// own (on its `base_url`: an embedded target's).
    #[serde(default)]
    pub urls: Vec<String>,
    /// Shorthand for one URL.
    pub url: Option<String>,
    /// Env var holding a bearer token for the source (never printed).
    pub token_env: Option<String>,
    #[serde(default = "default_interval")]
    pub interval: Dur,
    /// Prometheus: the series to read (default: process memory and CPU).
    #[serde(default)]
    pub series: Vec<SeriesSpec>,
    /// JSON: a name for each number and its dotted path (`websocket.active_connections`).
    #[serde(default)]
    pub paths: BTreeMap<String, String>,
}

impl MetricsSource {
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| match self.format {
            SourceFormat::Prometheus => "prometheus".into(),
            SourceFormat::Json => "json".into(),
        })
    }

    /// Every URL (`url` and `urls`).
    pub fn all_urls(&self) -> Vec<String> {
        self.url.iter().chain(&self.urls).cloned().collect()
    }

    /// The source with a URL that is a path (`/metrics`: the target's own, as an embedded
    /// target's) made whole on the target's `base_url`.
    pub fn resolved(&self, base_url: &str) -> MetricsSource {
        let whole = |u: &String| match u.starts_with('/') {
            true => format!("{}{u}", base_url.trim_end_matches('/')),
            false => u.clone(),
        };
        MetricsSource {
            url: self.url.as_ref().map(whole),
            urls: self.urls.iter().map(whole).collect(),
            ..self.clone()
        }
    }

    /// The Prometheus series to read: the plan's, or process memory and CPU.
    pub fn series(&self) -> Vec<SeriesSpec> {
        if !self.series.is_empty() {
            return self.series.clone();
        }
        [RSS, CPU]
            .iter()
            .map(|name| SeriesSpec {
                name: name.to_string(),
                labels: BTreeMap::new(),
                kind: None,
            })
            .collect()
    }

    /// What is wrong with it: `(key, message)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let urls = self.all_urls();
        if urls.is_empty() {
            return Some((
                "urls",
                "give the source's URL (url, or urls: one per instance)".into(),
            ));
        }
        for u in urls.iter().filter(|u| !u.starts_with('/')) {
            if let Err(m) = super::values::check_url(u, &["http", "https"]) {
                return Some(("urls", m));
            }
        }
        if self.format == SourceFormat::Json && self.paths.is_empty() {
            return Some((
                "paths",
                "a json source needs paths: name = \"dotted.path\"".into(),
            ));
        }
        if self.interval.0 < std::time::Duration::from_millis(100) {
            return Some(("interval", "must be at least 100ms".into()));
        }
        None
    }
}

/// A comparison of a `server.NAME` rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    AtMost,
    Below,
    AtLeast,
    Above,
}

impl Op {
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::AtMost => value <= limit,
            Op::Below => value < limit,
            Op::AtLeast => value >= limit,
            Op::Above => value > limit,
        }
    }
}

pub fn is_server_rule(rule: &str) -> bool {
    rule.trim_start().starts_with("server.")
}

/// `server.NAME <= 250` → (NAME, ≤, 250).
pub fn parse_server_rule(rule: &str) -> Option<(String, Op, f64)> {
    let rest = rule.trim().strip_prefix("server.")?;
    let (at, op, len) = [
        ("<=", Op::AtMost),
        (">=", Op::AtLeast),
        ("<", Op::Below),
        (">", Op::Above),
    ]
    .iter()
    .find_map(|(text, op)| rest.find(text).map(|at| (at, *op, text.len())))?;
    let name = rest[..at].trim();
    let limit: f64 = rest[at + len..].trim().parse().ok()?;
    (!name.is_empty() && limit.is_finite()).then(|| (name.to_string(), op, limit))
}

fn default_interval() -> Dur {
    Dur::from_secs(2)
}
