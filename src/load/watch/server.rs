//! `[[target.metrics]]`: polls what the deployment publishes (Prometheus text, one URL per
//! instance, or a JSON monitoring endpoint) every source's `interval`, beside the load at that
//! moment (sockets open, runs started) read from the collector. A source that fails is a note
//! and a count, never a failed test.

use crate::measure::collector::Collector;
use crate::model::server::{PollPoint, ServerMetrics, ServerSeries};
use crate::plan::metrics::{MetricsSource, SeriesKind, SourceFormat};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long one poll of one instance may take.
const POLL_TIMEOUT: Duration = Duration::from_secs(2);

/// One source's poller.
pub struct Poller {
    source: MetricsSource,
    name: String,
    token: Option<String>,
    http: reqwest::Client,
    out: Arc<Mutex<ServerMetrics>>,
}

impl Poller {
    /// A poller writing into `out` (shared by every source's poller). A token env var that is
    /// not set is said once; the source is polled without it.
    pub fn new(
        source: MetricsSource,
        http: reqwest::Client,
        out: Arc<Mutex<ServerMetrics>>,
    ) -> Poller {
        let token = source.token_env.as_ref().and_then(|var| {
            let value = std::env::var(var).ok();
            if value.is_none() {
                eprintln!(
                    "agentload: warning: {var} is not set: metrics source polled without a token"
                );
            }
            value
        });
        Poller {
            name: source.name(),
            source,
            token,
            http,
            out,
        }
    }

    async fn fetch(&self, url: &str) -> Result<String, String> {
        let mut request = self.http.get(url).timeout(POLL_TIMEOUT);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let reply = request.send().await.map_err(|e| crate::errors::chain(&e))?;
        let status = reply.status();
        if !status.is_success() {
            return Err(format!("HTTP {}", status.as_u16()));
        }
        reply.text().await.map_err(|e| e.to_string())
    }

    /// The numbers one instance's reply holds: `(series name, kind, value)`.
    fn read(&self, text: &str) -> Result<Vec<(String, &'static str, f64)>, String> {
        match self.source.format {
            SourceFormat::Prometheus => read_prometheus(text, &self.source),
            SourceFormat::Json => read_json(text, &self.source),
        }
    }

    async fn poll(&mut self, collector: &Collector) {
        let at = collector.now_secs();
        let load = PollPoint {
            at_s: at,
            open_connections: collector.open_sockets() as f64,
            runs_started: collector.runs_started() as f64,
        };
        let mut readings = Vec::new();
        for url in self.source.all_urls() {
            let result = match self.fetch(&url).await {
                Ok(text) => self.read(&text),
                Err(e) => Err(e),
            };
            readings.push((url, result));
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.load.entry(self.name.clone()).or_default().push(load);
        for (url, result) in readings {
            out.polls += 1;
            match result {
                Ok(values) => {
                    for (name, kind, value) in values {
                        record(&mut out, &self.name, &url, &name, kind, at, value);
                    }
                }
                Err(e) => {
                    out.failed_polls += 1;
                    let note = format!("{} at {url}: {e}", self.name);
                    let seen = out
                        .notes
                        .iter()
                        .any(|n| n.starts_with(&format!("{} at {url}:", self.name)));
                    if !seen {
                        out.notes.push(note);
                    }
                }
            }
        }
    }
}

fn record(
    out: &mut ServerMetrics,
    source: &str,
    url: &str,
    name: &str,
    kind: &str,
    at: f64,
    value: f64,
) {
    let found = out
        .series
        .iter_mut()
        .find(|s| s.name == name && s.source == source && s.instance == url);
    match found {
        Some(series) => series.samples.push((at, value)),
        None => out.series.push(ServerSeries {
            name: name.to_string(),
            source: source.to_string(),
            instance: url.to_string(),
            kind: kind.to_string(),
            samples: vec![(at, value)],
        }),
    }
}

/// The plan's series in a Prometheus exposition: the samples of each name whose labels match,
/// added up (a series split by labels the plan does not name is read whole).
fn read_prometheus(
    text: &str,
    source: &MetricsSource,
) -> Result<Vec<(String, &'static str, f64)>, String> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for spec in source.series() {
        let values: Vec<f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == spec.name)
            .filter(|s| {
                spec.labels
                    .iter()
                    .all(|(k, v)| s.labels.get(k) == Some(v.as_str()))
            })
            .filter_map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                _ => None,
            })
            .collect();
        if values.is_empty() {
            missing.push(spec.name.clone());
            continue;
        }
        let kind = match spec.kind() {
            SeriesKind::Gauge => "gauge",
            SeriesKind::Counter => "counter",
        };
        out.push((spec.name.clone(), kind, values.iter().sum()));
    }
    match (out.is_empty(), missing.is_empty()) {
        (true, _) => Err(format!("no series {} in the reply", missing.join(", "))),
        _ => Ok(out),
    }
}

/// The plan's paths in a JSON document (each a gauge).
fn read_json(
    text: &str,
    source: &MetricsSource,
) -> Result<Vec<(String, &'static str, f64)>, String> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let mut out = Vec::new();
    for (name, path) in &source.paths {
        let pointer = format!("/{}", path.replace('.', "/"));
        match doc.pointer(&pointer).and_then(serde_json::Value::as_f64) {
            Some(v) => out.push((name.clone(), "gauge", v)),
            None => return Err(format!("no number at {path}")),
        }
    }
    Ok(out)
}

impl super::watcher::Watcher for Poller {
    fn every(&self) -> Duration {
        self.source.interval.0
    }

    fn tick(&mut self, _: &Collector) {}

    fn look<'a>(&'a mut self, collector: &'a Collector) -> super::watcher::Look<'a> {
        Box::pin(self.poll(collector))
    }

    fn finish(&mut self, _: &Collector) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(toml: &str) -> MetricsSource {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn prometheus_series_are_read_by_name_and_labels() {
        let text =
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 1.5e6\n\
                    # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5\n\
                    # TYPE ws_open gauge\nws_open{pod=\"a\"} 3\nws_open{pod=\"b\"} 4\n";
        let s = source("url = \"http://x/metrics\"");
        let values = read_prometheus(text, &s).unwrap();
        assert_eq!(
            values,
            [
                ("process_resident_memory_bytes".to_string(), "gauge", 1.5e6),
                ("process_cpu_seconds_total".to_string(), "counter", 12.5)
            ]
        );
        let s =
            source("url = \"http://x\"\n[[series]]\nname = \"ws_open\"\nlabels = { pod = \"b\" }");
        assert_eq!(read_prometheus(text, &s).unwrap()[0].2, 4.0);
        let s = source("url = \"http://x\"\n[[series]]\nname = \"ws_open\"");
        assert_eq!(read_prometheus(text, &s).unwrap()[0].2, 7.0);
        assert!(
            read_prometheus("{\"not\": \"prometheus\"}", &source("url = \"http://x\"")).is_err()
        );
    }

    #[test]
    fn json_paths_are_numbers_or_the_poll_fails() {
        let s = source(
            "format = \"json\"\nurl = \"http://x\"\npaths = { open = \"websocket.active\" }",
        );
        let values = read_json("{\"websocket\": {\"active\": 12}}", &s).unwrap();
        assert_eq!(values, [("open".to_string(), "gauge", 12.0)]);
        assert!(read_json("{\"websocket\": {}}", &s).is_err());
        assert!(read_json("<html>", &s).is_err());
    }
}
