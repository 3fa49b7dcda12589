//! What the deployment itself published while the load ran (`[[target.metrics]]`): each polled
//! series per instance, and the figures drawn from them: memory per connection (the
//! least-squares slope of the instances' summed resident memory against the open connections)
//! and CPU seconds per run. A source that did not answer is a note and a count, never a failure.

use super::resources::slope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::plan::metrics::{CPU, RSS};

/// One series of one instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServerSeries {
    pub name: String,
    pub source: String,
    /// The instance's URL.
    pub instance: String,
    /// `gauge` or `counter` (a counter is charted as a rate).
    pub kind: String,
    /// `(seconds from the test's start, value)`, one per poll.
    pub samples: Vec<(f64, f64)>,
}

/// The load at each poll: sockets open and runs started so far.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PollPoint {
    pub at_s: f64,
    pub open_connections: f64,
    pub runs_started: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServerMetrics {
    pub series: Vec<ServerSeries>,
    /// The load at each poll of each source, by source name.
    pub load: BTreeMap<String, Vec<PollPoint>>,
    pub polls: u64,
    pub failed_polls: u64,
    /// The first failure of each source and instance, for people.
    pub notes: Vec<String>,
    pub memory_per_connection_bytes: Option<f64>,
    pub cpu_seconds_per_run: Option<f64>,
}

impl ServerMetrics {
    /// `name` summed over instances at each poll of its source (gauges as they are, counters as
    /// running totals).
    pub fn summed(&self, name: &str) -> Vec<(f64, f64)> {
        let mut by_time: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
        for s in self.series.iter().filter(|s| s.name == name) {
            for (at, v) in &s.samples {
                let slot = by_time.entry(at.to_bits()).or_insert((*at, 0.0));
                slot.1 += v;
            }
        }
        let mut points: Vec<(f64, f64)> = by_time.into_values().collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }

    /// A counter per second between polls, summed over instances.
    pub fn rate(&self, name: &str) -> Vec<(f64, f64)> {
        let mut out: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
        for s in self.series.iter().filter(|s| s.name == name) {
            for pair in s.samples.windows(2) {
                let ((t0, v0), (t1, v1)) = (pair[0], pair[1]);
                if t1 > t0 && v1 >= v0 {
                    let slot = out.entry(t1.to_bits()).or_insert((t1, 0.0));
                    slot.1 += (v1 - v0) / (t1 - t0);
                }
            }
        }
        let mut points: Vec<(f64, f64)> = out.into_values().collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }

    /// The largest value of `name` summed over instances (what `server.NAME <= X` judges).
    pub fn peak(&self, name: &str) -> Option<f64> {
        self.summed(name)
            .into_iter()
            .map(|(_, v)| v)
            .reduce(f64::max)
    }

    /// The instances' CPU together, in percent of one core, over the polled window.
    pub fn mean_cpu_percent(&self) -> Option<f64> {
        let rates = self.rate(CPU);
        (!rates.is_empty())
            .then(|| 100.0 * rates.iter().map(|(_, r)| r).sum::<f64>() / rates.len() as f64)
    }

    /// The polls taken in `[from, to]` seconds (a capacity step's hold).
    pub fn within(&self, from: f64, to: f64) -> ServerMetrics {
        let inside = |at: f64| (from..=to).contains(&at);
        ServerMetrics {
            series: self
                .series
                .iter()
                .map(|s| ServerSeries {
                    samples: s.samples.iter().copied().filter(|p| inside(p.0)).collect(),
                    ..s.clone()
                })
                .collect(),
            load: self
                .load
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.iter().filter(|p| inside(p.at_s)).cloned().collect(),
                    )
                })
                .collect(),
            ..ServerMetrics::default()
        }
    }

    /// Fills in memory per connection and CPU per run from the polled series.
    pub fn derive(&mut self) {
        let load: BTreeMap<u64, &PollPoint> = self
            .load
            .values()
            .flatten()
            .map(|p| (p.at_s.to_bits(), p))
            .collect();
        let memory: Vec<(f64, f64)> = self
            .summed(RSS)
            .into_iter()
            .filter_map(|(at, rss)| load.get(&at.to_bits()).map(|p| (p.open_connections, rss)))
            .collect();
        // Fitted up to the first peak of open connections, as for a local target: allocators
        // rarely give memory back, so a ramp down says little about what a connection costs.
        let peak = memory.iter().map(|(c, _)| *c).fold(f64::MIN, f64::max);
        let ramp_up = memory
            .iter()
            .position(|(c, _)| *c >= peak)
            .map_or(0, |i| i + 1);
        self.memory_per_connection_bytes = slope(&memory[..ramp_up]);
        // CPU spent by every instance over the polled window, over the runs started in it.
        let cpu: f64 = self
            .series
            .iter()
            .filter(|s| s.name == CPU)
            .filter_map(|s| Some(s.samples.last()?.1 - s.samples.first()?.1))
            .sum();
        let polled = self.summed(CPU);
        let window = polled.first().zip(polled.last()).map(|(a, b)| (a.0, b.0));
        self.cpu_seconds_per_run = window.and_then(|(from, to)| {
            let runs_at = |t: f64| load.get(&t.to_bits()).map(|p| p.runs_started);
            let runs = runs_at(to)? - runs_at(from)?;
            (runs > 0.0).then(|| cpu / runs)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, instance: &str, samples: &[(f64, f64)]) -> ServerSeries {
        ServerSeries {
            name: name.into(),
            source: "p".into(),
            instance: instance.into(),
            kind: "gauge".into(),
            samples: samples.to_vec(),
        }
    }

    #[test]
    fn instances_add_up_and_memory_per_connection_is_the_slope() {
        let mut m = ServerMetrics {
            series: vec![
                series(RSS, "a", &[(1.0, 1000.0), (2.0, 1500.0), (3.0, 2000.0)]),
                series(RSS, "b", &[(1.0, 1000.0), (2.0, 1500.0), (3.0, 2000.0)]),
                series(CPU, "a", &[(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]),
                series(CPU, "b", &[(1.0, 0.0), (2.0, 1.0), (3.0, 2.0)]),
            ],
            ..Default::default()
        };
        m.load.insert(
            "p".into(),
            (1..=3)
                .map(|i| PollPoint {
                    at_s: i as f64,
                    open_connections: 10.0 * i as f64,
                    runs_started: 100.0 * i as f64,
                })
                .collect(),
        );
        m.derive();
        assert_eq!(m.summed(RSS)[2], (3.0, 4000.0));
        assert_eq!(m.peak(RSS), Some(4000.0));
        // 1000 B more for each 10 connections, summed: 100 B per connection.
        assert!((m.memory_per_connection_bytes.unwrap() - 100.0).abs() < 1e-9);
        // 4 CPU seconds over 200 runs.
        assert!((m.cpu_seconds_per_run.unwrap() - 0.02).abs() < 1e-12);
        assert_eq!(m.rate(CPU), vec![(2.0, 2.0), (3.0, 2.0)]);
    }
}
