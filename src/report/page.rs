//! A load test's page: one self-contained `index.html` rendered from the `Summary` (minijinja
//! template, plotters SVG charts inline, no scripts, no CDN), beside Goose's own report.

use super::charts::{self as chart, line_chart, Series, BLUE, GREEN, ORANGE, PURPLE, RED};
use super::error::ReportError;
use super::{capacity, server, sessions};
use crate::model::summary::Summary;
use minijinja::{context, Environment};
use serde::Serialize;

const TEMPLATE: &str = include_str!("index.html.j2");

/// A row of the per-event latency table.
#[derive(Serialize)]
struct EventRow {
    event: String,
    count: u64,
    from_start: Option<crate::model::metrics::LatencyStats>,
    gap_before: Option<crate::model::metrics::LatencyStats>,
}

/// Renders the report to a string.
pub fn render(summary: &Summary) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("index.html", TEMPLATE)
        .map_err(|e| ReportError::Render(e.to_string()))?;
    let template = env
        .get_template("index.html")
        .map_err(|e| ReportError::Render(e.to_string()))?;
    template
        .render(context! {
            s => summary,
            events => event_rows(summary),
            funnel_total => summary.runs.started,
            charts => charts(summary),
            sessions => summary.sessions.as_ref().map(sessions::charts),
            breakdown_headline => summary.breakdown.as_ref().and_then(|b| b.headline()),
            human_bytes => minijinja::Value::from_function(|b: f64| crate::model::sla::human_bytes(b)),
            interval_text => minijinja::Value::from_function(interval_text),
        })
        .map_err(|e| ReportError::Render(format!("{e:#}")))
}

/// A step's interval (as the template holds it) for people: `820–950 ms`.
fn interval_text(i: minijinja::Value) -> String {
    let ms = |name: &str| {
        i.get_attr(name)
            .ok()
            .filter(|v| !v.is_none() && !v.is_undefined())
            .and_then(|v| f64::try_from(v).ok())
    };
    crate::model::capacity::Interval {
        point_ms: ms("point_ms").unwrap_or(0.0),
        low_ms: ms("low_ms").unwrap_or(0.0),
        high_ms: ms("high_ms"),
        effective_runs: 0.0,
    }
    .text()
}

/// Events in the order of the agent sequence, then any others.
fn event_rows(s: &Summary) -> Vec<EventRow> {
    // The funnel lists the five required events in their order.
    let order = |name: &str| {
        s.funnel
            .iter()
            .position(|(event, _)| event == name)
            .unwrap_or(99)
    };
    let mut names: Vec<&String> = s.latency.from_start.keys().collect();
    names.sort_by_key(|n| (order(n), (*n).clone()));
    names
        .into_iter()
        .map(|name| EventRow {
            event: name.clone(),
            count: s.events.get(name).copied().unwrap_or(0),
            from_start: s.latency.from_start.get(name).map(|l| l.stats.clone()),
            gap_before: s.latency.gap_before.get(name).map(|l| l.stats.clone()),
        })
        .collect()
}

#[derive(Serialize)]
struct Charts {
    throughput: String,
    latency: String,
    gaps: String,
    memory: String,
    cpu: String,
    capacity_latency: String,
    capacity_throughput: String,
    /// The deployment's polled series, one chart each.
    server: Vec<String>,
}

/// Throughput, failed runs, open connections and shed attempts over time, with the outages
/// shaded behind them.
fn throughput_chart(s: &Summary, samples: &[crate::model::resources::Sample]) -> String {
    let series = |name: &str, color, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        color,
        points,
    };
    let tl = &s.timeline;
    let open: Vec<(f64, f64)> = samples
        .iter()
        .map(|x| (x.at_secs, x.open_connections as f64))
        .collect();
    let outages: Vec<(f64, f64)> = s
        .outages
        .iter()
        .map(|o| (o.start_s, o.end_s.unwrap_or(s.duration_secs)))
        .collect();
    let throughput = chart::line_chart_with_bands(
        "Throughput and active users",
        "seconds",
        "runs/s · open connections",
        &[
            series(
                "runs/s",
                BLUE,
                tl.iter().map(|p| (p.at_secs, p.runs_per_sec)).collect(),
            ),
            series(
                "failed runs/s",
                RED,
                tl.iter()
                    .map(|p| {
                        (
                            p.at_secs,
                            p.runs_failed as f64 / s.timeline_bucket_secs.max(1.0),
                        )
                    })
                    .collect(),
            ),
            series("open connections", GREEN, open),
            series(
                "shed attempts/s",
                PURPLE,
                s.throttled
                    .as_ref()
                    .map(|t| t.per_second.iter().map(|(x, n)| (*x, *n as f64)).collect())
                    .unwrap_or_default(),
            ),
        ],
        &[chart::Bands {
            name: "target unreachable",
            spans: &outages,
        }],
    );
    throughput
}

fn charts(s: &Summary) -> Charts {
    let series = |name: &str, color, points: Vec<(f64, f64)>| Series {
        name: name.into(),
        color,
        points,
    };
    let tl = &s.timeline;
    let pick = |f: fn(&crate::model::summary::TimelinePoint) -> Option<f64>| -> Vec<(f64, f64)> {
        tl.iter()
            .filter_map(|p| f(p).map(|v| (p.at_secs, v)))
            .collect()
    };
    let samples = s
        .resources
        .as_ref()
        .map(|r| r.samples.as_slice())
        .unwrap_or(&[]);
    let throughput = throughput_chart(s, samples);
    let latency = line_chart(
        "Agent run time percentiles over time",
        "seconds",
        "ms",
        &[
            series("p50", GREEN, pick(|p| p.p50_ms)),
            series("p95", ORANGE, pick(|p| p.p95_ms)),
            series("p99", RED, pick(|p| p.p99_ms)),
        ],
    );
    let rows = event_rows(s);
    let gap_series = |name: &str, color, f: fn(&crate::model::metrics::LatencyStats) -> f64| {
        let points = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.gap_before.as_ref().map(|g| (i as f64 + 1.0, f(g))))
            .collect();
        series(name, color, points)
    };
    let gaps = line_chart(
        "Gap before each event (x: event position in the sequence table)",
        "event #",
        "ms",
        &[
            gap_series("p50", GREEN, |g| g.p50_ms),
            gap_series("p95", ORANGE, |g| g.p95_ms),
            gap_series("max", RED, |g| g.max_ms),
        ],
    );
    type Reading = crate::model::resources::ProcessReading;
    // One process's readings over time, as one figure of each reading.
    let over_time = |process: fn(&crate::model::resources::Sample) -> Option<Reading>,
                     figure: fn(&Reading) -> f64| {
        samples
            .iter()
            .filter_map(|x| process(x).map(|r| (x.at_secs, figure(&r))))
            .collect::<Vec<_>>()
    };
    let rss = |process| over_time(process, |r| r.rss_bytes as f64 / 1e6);
    let cpu = |process| over_time(process, |r| r.cpu_percent);
    let (capacity_latency, capacity_throughput) = capacity::charts(s);
    Charts {
        server: s.server.as_ref().map(server::charts).unwrap_or_default(),
        capacity_latency,
        capacity_throughput,
        throughput,
        latency,
        gaps,
        memory: line_chart(
            "Resident memory",
            "seconds",
            "MB",
            &[
                series("generator", BLUE, rss(|x| x.generator)),
                series("target", PURPLE, rss(|x| x.target)),
            ],
        ),
        cpu: line_chart(
            "CPU (share of the whole machine)",
            "seconds",
            "%",
            &[
                series("generator", BLUE, cpu(|x| x.generator)),
                series("target", PURPLE, cpu(|x| x.target)),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_empty_summary() {
        let html = render(&Summary::default()).unwrap();
        assert!(html.contains("<!doctype html>"));
        assert!(!html.contains("http://") || html.contains("http://www.w3.org/2000/svg"));
        assert!(!html.contains("<script"), "no scripts, no CDN");
    }
}
