//! `run --metrics-addr HOST:PORT`: the generator's own figures in the Prometheus format while
//! the test runs, for Grafana next to the server's dashboards (Goose has no such output). Made
//! with the official Rust client (`prometheus-client`): a collector reads agentload's
//! collector at each scrape, so the counts are the ones `summary.json` ends with. Every series
//! carries `run_id` and `shard` when the run is a shard.
//!
//! A scraper that asks for OpenMetrics (Prometheus does) gets it; anything else (curl,
//! `promtool check metrics`) gets the classic text format 0.0.4, in which a counter's family
//! is named with its `_total` (see `exposition`).

mod exposition;

use crate::measure::collector::Collector;
use prometheus_client::collector::Collector as Export;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use exposition::{bucket_bounds, per_bucket};

/// The endpoint as a watcher: served from `start` until `finish`.
pub struct Exporter {
    server: tokio::task::JoinHandle<()>,
}

impl Exporter {
    /// Serves `/metrics` on `addr`; an address that can not be bound is one line of error.
    /// `run_timeout` bounds the run-time histogram's buckets.
    pub fn start(
        addr: SocketAddr,
        collector: Arc<Collector>,
        labels: Vec<(String, String)>,
        run_timeout: Duration,
    ) -> Result<Exporter, String> {
        let listener = std::net::TcpListener::bind(addr)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("--metrics-addr {addr}: {e}"))?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("--metrics-addr {addr}: {e}"))?;
        let labels = labels
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)));
        let mut registry = Registry::with_labels(labels);
        let buckets = bucket_bounds(run_timeout);
        registry.register_collector(Box::new(Figures { collector, buckets }));
        let registry = Arc::new(registry);
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move |headers: axum::http::HeaderMap| {
                let registry = registry.clone();
                async move {
                    let mut text = String::new();
                    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
                    let accept = headers
                        .get(axum::http::header::ACCEPT)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    let (kind, body) = match exposition::wants_openmetrics(accept) {
                        true => (exposition::OPENMETRICS, text),
                        false => (exposition::TEXT_004, exposition::to_text_004(&text)),
                    };
                    ([(axum::http::header::CONTENT_TYPE, kind)], body)
                }
            }),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Exporter { server })
    }
}

impl super::watcher::Watcher for Exporter {
    fn every(&self) -> Duration {
        Duration::from_secs(3600)
    }

    fn tick(&mut self, _: &Collector) {}

    fn finish(&mut self, _: &Collector) {
        self.server.abort();
    }
}

/// What a scrape reads: the collector's figures at that moment.
#[derive(Debug)]
struct Figures {
    collector: Arc<Collector>,
    /// The run-time histogram's upper bounds, seconds (`+Inf` is added).
    buckets: Vec<f64>,
}

impl Export for Figures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // The cheap reading: a scrape encodes nothing of the collector's.
        let s = self.collector.reading();
        let counter = |e: &mut DescriptorEncoder, name, help, rows: Vec<(&str, String, u64)>| {
            let mut m = e.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (key, value, n) in rows {
                let labels = [(key, value.as_str())];
                m.encode_family(&labels)?
                    .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
            }
            Ok::<(), std::fmt::Error>(())
        };
        let r = &s.runs;
        counter(
            &mut encoder,
            "agentload_runs",
            "Agent runs ended, by result.",
            vec![
                ("result", "completed".into(), r.completed),
                ("result", "failed".into(), r.failed),
                ("result", "interrupted".into(), r.interrupted),
            ],
        )?;
        counter(
            &mut encoder,
            "agentload_failures",
            "Failures by kind (runs, connects, api calls, findings).",
            s.failures
                .iter()
                .map(|(kind, b)| ("kind", kind.clone(), b.count))
                .collect(),
        )?;
        if let Some(sessions) = &s.sessions {
            counter(
                &mut encoder,
                "agentload_sessions",
                "Sessions ended, by result (dropped: arrivals with no free user in the pool).",
                vec![
                    ("result", "completed".into(), sessions.completed),
                    ("result", "failed".into(), sessions.failed),
                    ("result", "cut".into(), sessions.cut),
                    ("result", "dropped".into(), sessions.dropped),
                ],
            )?;
            let open = sessions.started.saturating_sub(sessions.ended()) as i64;
            encoder
                .encode_descriptor(
                    "agentload_sessions_open",
                    "Sessions in progress.",
                    None,
                    MetricType::Gauge,
                )?
                .encode_gauge(&open)?;
        }
        let open = self.collector.open_sockets();
        for (name, help) in [
            ("agentload_connections_open", "WebSocket connections open."),
            (
                "agentload_users_active",
                "Simulated users holding a socket.",
            ),
        ] {
            encoder
                .encode_descriptor(name, help, None, MetricType::Gauge)?
                .encode_gauge(&open)?;
        }
        let latency = s.latency.agent_run.as_ref().and_then(|l| l.latency().ok());
        let (rows, sum, count) = match &latency {
            Some(l) => {
                let cumulative: Vec<u64> = self
                    .buckets
                    .iter()
                    .map(|le| l.count_up_to_secs(*le))
                    .collect();
                (
                    per_bucket(&self.buckets, &cumulative, l.count()),
                    l.sum_secs(),
                    l.count(),
                )
            }
            None => (per_bucket(&self.buckets, &[], 0), 0.0, 0),
        };
        // prometheus-client adds each bucket to the ones before it: it takes per-bucket counts.
        encoder
            .encode_descriptor(
                "agentload_agent_run_seconds",
                "Completed agent runs' time, start message to agent_completed.",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(sum, count, &rows, None)?;
        let tools = self.collector.tool_buckets(&self.buckets);
        if tools.is_empty() {
            return Ok(());
        }
        let mut family = encoder.encode_descriptor(
            "agentload_tool_seconds",
            "Tool executions' time, tool_executing to tool_completed, by tool (at most 50 named).",
            None,
            MetricType::Histogram,
        )?;
        for t in tools {
            let rows = per_bucket(&self.buckets, &t.cumulative, t.count);
            family
                .encode_family(&[("tool", t.name.as_str())])?
                .encode_histogram::<NoLabelSet>(t.sum_secs, t.count, &rows, None)?;
        }
        Ok(())
    }
}
