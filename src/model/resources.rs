//! Resources: RSS and CPU readings of the generator and the target over time, and what the
//! report and the SLA draw from them. Memory per connection is the least-squares slope of
//! RSS against open connections, so a ramp up measures it without a baseline run.

use serde::{Deserialize, Serialize};

/// One process's reading.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct ProcessReading {
    pub rss_bytes: u64,
    /// CPU as a share of the whole machine (all cores = 100 %).
    pub cpu_percent: f64,
}

/// One sample of every watched process.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    /// Seconds since the sampler started.
    pub at_secs: f64,
    pub open_connections: i64,
    pub generator: Option<ProcessReading>,
    pub target: Option<ProcessReading>,
}

/// What the report and the SLA need from the samples of one process.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResourceStats {
    pub peak_rss_bytes: u64,
    pub mean_cpu_percent: f64,
    pub peak_cpu_percent: f64,
    /// Slope of RSS against open connections (bytes per connection); `None` when the
    /// connection count never changed.
    pub bytes_per_connection: Option<f64>,
}

/// What the sampler saw.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    pub interval_secs: f64,
    pub target_pid: Option<u32>,
    pub generator: Option<ResourceStats>,
    pub target: Option<ResourceStats>,
    /// Target CPU time per started run, in milliseconds of one core.
    pub target_cpu_ms_per_run: Option<f64>,
    pub samples: Vec<Sample>,
}

/// Peak/mean figures and memory per connection for one process's readings. Memory per
/// connection is fitted on the samples up to the first peak of open connections: allocators
/// rarely give freed memory back to the OS, so a ramp down says little about what a
/// connection costs.
pub fn resource_stats(
    samples: &[Sample],
    pick: impl Fn(&Sample) -> Option<ProcessReading>,
) -> Option<ResourceStats> {
    let points: Vec<(f64, ProcessReading)> = samples
        .iter()
        .filter_map(|s| pick(s).map(|r| (s.open_connections as f64, r)))
        .collect();
    if points.is_empty() {
        return None;
    }
    let n = points.len() as f64;
    let peak = points.iter().map(|(c, _)| *c).fold(f64::MIN, f64::max);
    let ramp_up = points.iter().position(|(c, _)| *c >= peak).unwrap_or(0) + 1;
    let xy: Vec<(f64, f64)> = points[..ramp_up]
        .iter()
        .map(|(c, r)| (*c, r.rss_bytes as f64))
        .collect();
    Some(ResourceStats {
        peak_rss_bytes: points.iter().map(|(_, r)| r.rss_bytes).max().unwrap_or(0),
        mean_cpu_percent: points.iter().map(|(_, r)| r.cpu_percent).sum::<f64>() / n,
        peak_cpu_percent: points
            .iter()
            .map(|(_, r)| r.cpu_percent)
            .fold(0.0, f64::max),
        bytes_per_connection: slope(&xy),
    })
}

/// Least-squares slope of y against x; `None` when x never varies.
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_is_least_squares() {
        let points: Vec<(f64, f64)> = (0..10)
            .map(|x| (x as f64, 1000.0 + 250.0 * x as f64))
            .collect();
        assert!((slope(&points).unwrap() - 250.0).abs() < 1e-9);
        assert_eq!(slope(&[(3.0, 1.0), (3.0, 5.0)]), None);
        assert_eq!(slope(&[(3.0, 1.0)]), None);
    }

    #[test]
    fn memory_per_connection_uses_the_ramp_up() {
        let sample = |open: i64, mb: u64| Sample {
            open_connections: open,
            target: Some(ProcessReading {
                rss_bytes: mb * 1_000_000,
                cpu_percent: 10.0,
            }),
            ..Default::default()
        };
        // Up 0→4 at 2 MB each, then down with memory kept (as allocators do).
        let samples: Vec<Sample> = [(0, 10), (1, 12), (4, 18), (2, 18), (0, 18)]
            .iter()
            .map(|&(o, mb)| sample(o, mb))
            .collect();
        let stats = resource_stats(&samples, |s| s.target).unwrap();
        assert!(
            (stats.bytes_per_connection.unwrap() - 2e6).abs() < 1.0,
            "{stats:?}"
        );
        assert_eq!(stats.peak_rss_bytes, 18_000_000);
        assert!((stats.mean_cpu_percent - 10.0).abs() < 1e-9);
    }
}
