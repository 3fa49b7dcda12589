//! The deployment's published metrics as charts: resident memory and CPU per instance and
//! summed, and every other polled series (counters as rates).

use super::charts::{line_chart, Series, BLUE, GREEN, ORANGE, PURPLE, RED};
use crate::model::server::{ServerMetrics, CPU, RSS};

const COLORS: [plotters::style::RGBColor; 4] = [BLUE, GREEN, ORANGE, PURPLE];

/// One chart per series name: each instance, and the instances summed.
pub fn charts(server: &ServerMetrics) -> Vec<String> {
    let mut names: Vec<&str> = server.series.iter().map(|s| s.name.as_str()).collect();
    names.sort_by_key(|n| (*n != RSS, *n != CPU, n.to_string()));
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let counter = server
                .series
                .iter()
                .any(|s| s.name == name && s.kind == "counter");
            let (scale, unit) = match name {
                RSS => (1e-6, "MB"),
                CPU => (100.0, "% of one core"),
                _ if counter => (1.0, "per second"),
                _ => (1.0, "value"),
            };
            let scaled = |points: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
                points.into_iter().map(|(t, v)| (t, v * scale)).collect()
            };
            let mut lines: Vec<Series> = server
                .series
                .iter()
                .filter(|s| s.name == name)
                .enumerate()
                .map(|(i, s)| {
                    let single = ServerMetrics {
                        series: vec![s.clone()],
                        ..ServerMetrics::default()
                    };
                    let points = match counter {
                        true => single.rate(name),
                        false => s.samples.clone(),
                    };
                    Series {
                        name: s.instance.clone(),
                        color: COLORS[i % COLORS.len()],
                        points: scaled(points),
                    }
                })
                .collect();
            if lines.len() > 1 {
                let sum = match counter {
                    true => server.rate(name),
                    false => server.summed(name),
                };
                lines.push(Series {
                    name: "all instances".into(),
                    color: RED,
                    points: scaled(sum),
                });
            }
            let title = match counter {
                true => format!("{name} (rate)"),
                false => name.to_string(),
            };
            line_chart(&title, "seconds", unit, &lines)
        })
        .collect()
}
