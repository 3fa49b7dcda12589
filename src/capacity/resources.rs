//! A deployment's resources over a step's hold, from its polled metrics: how busy each was,
//! and its demand per run by the utilization law (U = X·D: a resource busy U of its servers'
//! time while the deployment completes X runs a second spends D = U·servers / X seconds on
//! each run). A resource of D seconds a run bounds the deployment at servers / D runs a second,
//! whatever else is added (Lazowska et al., Quantitative System Performance, ch. 5). Pure.

use crate::model::capacity::ResourceUse;
use crate::model::server::ServerMetrics;
use crate::plan::{Resource, ResourceKind};

/// Each resource of `resources` over a hold polled into `server` (already cut to the hold),
/// at deployment size `size`, when the deployment completed `completed_per_sec` runs/s.
pub fn uses(
    resources: &[Resource],
    server: &ServerMetrics,
    size: u32,
    completed_per_sec: f64,
) -> Vec<ResourceUse> {
    resources
        .iter()
        .filter_map(|r| {
            let servers = r.servers_at(size);
            let busy = busy(r, server, servers)?;
            Some(ResourceUse {
                name: r.name.clone(),
                servers,
                utilization: busy / servers,
                demand_secs: (completed_per_sec > 0.0).then(|| busy / completed_per_sec),
            })
        })
        .collect()
}

/// Servers busy on average over the hold (`None`: fewer than two polls of a counter, or none
/// of a gauge).
fn busy(r: &Resource, server: &ServerMetrics, servers: f64) -> Option<f64> {
    match r.kind {
        // Seconds busy, summed over instances: its increase over the hold per second.
        ResourceKind::BusySeconds => {
            let points = server.summed(&r.series);
            let (first, last) = (points.first()?, points.last()?);
            let secs = last.0 - first.0;
            (secs > 0.0).then(|| ((last.1 - first.1) / secs).max(0.0))
        }
        // A share busy (0–1, or a percentage above 1), averaged over instances and polls.
        ResourceKind::Utilization => {
            let values: Vec<f64> = server
                .series
                .iter()
                .filter(|s| s.name == r.series)
                .flat_map(|s| s.samples.iter().map(|p| p.1))
                .collect();
            let mean =
                values.iter().sum::<f64>() / (!values.is_empty()).then_some(values.len())? as f64;
            let share = if mean > 1.0 { mean / 100.0 } else { mean };
            Some(share * servers)
        }
    }
}

/// A resource's demand per run at one deployment size from its steps: the least-squares
/// slope, through the origin, of servers busy against runs completed per second (each step a
/// point: U·servers = X·D). `None` without a step that completed runs.
pub fn demand(points: &[(f64, f64)]) -> Option<f64> {
    let xx: f64 = points.iter().map(|(x, _)| x * x).sum();
    let xy: f64 = points.iter().map(|(x, busy)| x * busy).sum();
    (xx > 0.0).then(|| xy / xx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::server::ServerSeries;

    fn series(name: &str, kind: &str, samples: &[(f64, f64)]) -> ServerSeries {
        ServerSeries {
            name: name.into(),
            source: "prometheus".into(),
            instance: "http://a/metrics".into(),
            kind: kind.into(),
            samples: samples.to_vec(),
        }
    }

    fn resource(kind: ResourceKind, servers: f64, per_replica: bool) -> Resource {
        Resource {
            name: "lock".into(),
            series: "busy".into(),
            kind,
            servers,
            per_replica,
        }
    }

    #[test]
    fn a_busy_seconds_counter_gives_utilization_and_the_demand_per_run() {
        // The lock busy 6.5 s over 10 s while the deployment completed 50 runs/s: 65% busy,
        // 13 ms a run, bounding it at 1 / 0.013 = 77 runs/s.
        let server = ServerMetrics {
            series: vec![series("busy", "counter", &[(0.0, 100.0), (10.0, 106.5)])],
            ..Default::default()
        };
        let u = uses(
            &[resource(ResourceKind::BusySeconds, 1.0, false)],
            &server,
            4,
            50.0,
        );
        assert_eq!(u.len(), 1);
        assert!((u[0].utilization - 0.65).abs() < 1e-9);
        assert!((u[0].demand_secs.unwrap() - 0.013).abs() < 1e-9);
    }

    #[test]
    fn a_utilization_gauge_counts_its_servers_and_reads_percentages() {
        // Four cores a replica, 2 replicas: 8 servers, 40% busy = 3.2 busy, at 64 runs/s
        // 50 ms of CPU a run. The same figure as a percentage reads the same.
        let gauge = |v: f64| ServerMetrics {
            series: vec![series("busy", "gauge", &[(0.0, v), (5.0, v)])],
            ..Default::default()
        };
        let r = resource(ResourceKind::Utilization, 4.0, true);
        for v in [0.4, 40.0] {
            let u = uses(std::slice::from_ref(&r), &gauge(v), 2, 64.0);
            assert!((u[0].utilization - 0.4).abs() < 1e-9);
            assert!((u[0].demand_secs.unwrap() - 0.05).abs() < 1e-9, "{u:?}");
        }
        // Not polled in the hold: no figure.
        assert!(uses(&[r], &ServerMetrics::default(), 2, 64.0).is_empty());
    }

    #[test]
    fn a_demand_is_the_slope_of_busy_against_throughput() {
        // 13 ms a run at three loads, with noise: the slope through the origin.
        let points = [(10.0, 0.131), (30.0, 0.388), (50.0, 0.652)];
        assert!((demand(&points).unwrap() - 0.013).abs() < 2e-4);
        assert_eq!(demand(&[]), None);
    }
}
