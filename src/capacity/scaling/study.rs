//! A study built from the sizes' capacity searches: each size's answer and ceiling, each
//! resource's demand per run at each size (the utilization law over the size's steps) and the
//! bound it sets (servers / demand), how that demand grows with size and where it starts to
//! bind, the curve fitted through the answers, and what an enterprise needs. Pure: from
//! capacity reports to the study, unit-tested.
//!
//! What the study expects of a size is the fitted curve (or division, with one size), never
//! above the tightest resource bound: a smooth fit through sizes that scaled linearly sees no
//! wall that has not been hit yet, and a resource whose demand grows with size shows it first.

use super::fit::{self, crossing, growth, usl, MAX_SIZE};
use crate::capacity::resources::demand;
use crate::model::capacity::{round3, CapacityReport};
use crate::model::scaling::{
    Fit, Prediction, ResourceAtSize, ResourceTrend, ScaledEnterprise, ScalingStudy, SizeResult,
};
use crate::plan::Enterprise;

/// What the study needs of the plan.
pub struct Setup {
    pub plan: String,
    /// Rate searches (an open plan): answers in sessions/s; else users.
    pub by_rate: bool,
    pub enterprise: Option<Enterprise>,
    pub headroom_percent: f64,
    /// The plan's resources (their servers).
    pub resources: Vec<crate::plan::Resource>,
}

impl Setup {
    /// Resource `name`'s servers at `size` (one when the plan does not name it).
    fn servers(&self, name: &str, size: u32) -> f64 {
        self.resources
            .iter()
            .find(|r| r.name == name)
            .map_or(1.0, |r| r.servers_at(size))
    }
}

/// One size's search: its size, its report, its folder.
pub struct Measured {
    pub size: u32,
    pub report: CapacityReport,
    pub folder: String,
}

/// The study of `measured` (any order).
pub fn study(setup: &Setup, mut measured: Vec<Measured>) -> ScalingStudy {
    measured.sort_by_key(|m| m.size);
    let sizes: Vec<SizeResult> = measured.iter().map(|m| size_result(setup, m)).collect();
    let answers: Vec<(f64, f64)> = sizes
        .iter()
        .filter_map(|s| Some((f64::from(s.size), s.answer?)))
        .collect();
    let fit = fit::fit(&answers);
    let resources = trends(setup, &sizes);
    let largest = sizes.last().map_or(1, |s| s.size);
    let mut at: Vec<u32> = sizes.iter().map(|s| s.size).collect();
    at.push((largest * 2).min(MAX_SIZE).max(largest + 1));
    let predictions: Vec<Prediction> = at
        .iter()
        .map(|n| predict(setup, &sizes, &fit, &resources, *n))
        .collect();
    let enterprise = setup
        .enterprise
        .filter(|_| setup.by_rate)
        .map(|e| enterprise(setup, &e, &sizes, &fit, &resources));
    let mut s = ScalingStudy {
        plan: setup.plan.clone(),
        unit: if setup.by_rate { "sessions/s" } else { "users" }.into(),
        sizes,
        fit,
        resources,
        predictions,
        enterprise,
        ..ScalingStudy::default()
    };
    s.conclusion = super::words::conclusion(&s);
    s
}

fn size_result(setup: &Setup, m: &Measured) -> SizeResult {
    let r = &m.report;
    let answer = match setup.by_rate {
        true => r.max_rate,
        false => r.max_users.map(|u| u as f64),
    };
    let step = crate::capacity::margin::answer_step(r);
    let runs_per_unit = step.and_then(|s| {
        let per_sec = s.completed as f64 / s.window_secs.max(1e-9);
        (s.level() > 0.0 && per_sec > 0.0).then(|| per_sec / s.level())
    });
    // Each resource over the size's held steps: busy servers against runs completed a second.
    let mut names: Vec<String> = r
        .steps
        .iter()
        .flat_map(|s| s.resources.iter().map(|u| u.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    let resources = names
        .into_iter()
        .filter_map(|name| {
            let uses: Vec<(f64, f64, f64)> = r
                .steps
                .iter()
                .filter(|s| !s.skipped && s.window_secs > 0.0)
                .filter_map(|s| {
                    let u = s.resources.iter().find(|u| u.name == name)?;
                    let x = s.completed as f64 / s.window_secs;
                    Some((x, u.utilization * u.servers, u.utilization))
                })
                .collect();
            let points: Vec<(f64, f64)> = uses.iter().map(|u| (u.0, u.1)).collect();
            let d = demand(&points).filter(|d| *d > 0.0)?;
            let servers = setup.servers(&name, m.size);
            Some(ResourceAtSize {
                name,
                servers,
                demand_secs: d,
                bound_runs_per_sec: servers / d,
                utilization_at_most: uses.iter().map(|u| u.2).fold(0.0, f64::max),
            })
        })
        .collect();
    SizeResult {
        size: m.size,
        answer,
        at_least: r.no_limit_up_to_ceiling,
        ceiling: r.max_throughput,
        ceiling_measured: r.max_throughput_measured,
        runs_per_unit,
        resources,
        folder: m.folder.clone(),
    }
}

/// Each resource's demand against size, and the size from which it binds.
fn trends(setup: &Setup, sizes: &[SizeResult]) -> Vec<ResourceTrend> {
    let per_replica = per_replica(sizes);
    let mut names: Vec<&str> = sizes
        .iter()
        .flat_map(|s| s.resources.iter().map(|r| r.name.as_str()))
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| {
            let points: Vec<(f64, f64)> = sizes
                .iter()
                .filter_map(|s| {
                    let r = s.resources.iter().find(|r| r.name == name)?;
                    Some((f64::from(s.size), r.demand_secs))
                })
                .collect();
            let (d0, d1) = growth(&points)?;
            let bound = |n: f64| bound_at(setup, name, d0, d1, n);
            let binds_at = per_replica.and_then(|x| crossing(1, MAX_SIZE, bound, |n| x * n));
            let servers = setup.servers(name, 1);
            Some(ResourceTrend {
                name: name.to_string(),
                servers,
                per_replica: setup.servers(name, 2) > servers,
                demand_secs: d0,
                growth_secs: d1,
                binds_at,
            })
        })
        .collect()
}

/// Runs/s a resource allows at size `n`: its servers there over its demand there.
fn bound_at(setup: &Setup, name: &str, d0: f64, d1: f64, n: f64) -> f64 {
    let demand = (d0 + d1 * (n - 1.0)).max(1e-9);
    setup.servers(name, n.round() as u32) / demand
}

/// What one replica completes at most, from the sizes measured (their ceilings, else what
/// their answers completed), per replica.
fn per_replica(sizes: &[SizeResult]) -> Option<f64> {
    sizes
        .iter()
        .filter_map(|s| {
            let most = s.ceiling.or_else(|| Some(s.answer? * s.runs_per_unit?))?;
            Some(most / f64::from(s.size))
        })
        .reduce(f64::max)
}

/// What the study says of size `n`.
fn predict(
    setup: &Setup,
    sizes: &[SizeResult],
    fit: &Fit,
    resources: &[ResourceTrend],
    n: u32,
) -> Prediction {
    let nf = f64::from(n);
    let first = sizes.iter().find(|s| s.answer.is_some());
    let division = first.and_then(|s| Some(s.answer? * nf / f64::from(s.size)));
    let fitted = (fit.kind != "none").then(|| usl(fit, nf));
    let runs_per_unit = sizes.iter().rev().find_map(|s| s.runs_per_unit);
    let tightest = resources
        .iter()
        .map(|r| {
            let b = bound_at(setup, &r.name, r.demand_secs, r.growth_secs, nf);
            (b, r.name.clone())
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let bound = tightest
        .as_ref()
        .and_then(|(b, _)| Some(b / runs_per_unit?));
    let unbounded = fitted.or(division);
    Prediction {
        size: n,
        measured: sizes.iter().find(|s| s.size == n).and_then(|s| s.answer),
        division,
        fitted,
        bound_runs_per_sec: tightest.as_ref().map(|t| t.0),
        bound,
        bound_by: tightest.map(|t| t.1),
        expected: match (unbounded, bound) {
            (Some(u), Some(b)) => Some(u.min(b)),
            (u, b) => u.or(b),
        },
    }
}

/// The enterprise's peak across sizes: the smallest measured size that holds it with the
/// headroom; past them, an extrapolation (the fitted curve under the bounds) beside division.
fn enterprise(
    setup: &Setup,
    e: &Enterprise,
    sizes: &[SizeResult],
    fit: &Fit,
    resources: &[ResourceTrend],
) -> ScaledEnterprise {
    let usable = 1.0 - setup.headroom_percent / 100.0;
    let peak = e.peak_rate();
    let holds = |x: f64| x * usable >= peak;
    let measured_size = sizes
        .iter()
        .find(|s| s.answer.is_some_and(holds))
        .map(|s| s.size);
    let largest = sizes.last().map_or(0, |s| s.size);
    let extrapolated_size = measured_size.is_none().then(|| {
        ((largest + 1)..=MAX_SIZE).find(|n| {
            predict(setup, sizes, fit, resources, *n)
                .expected
                .is_some_and(holds)
        })
    });
    let per = sizes
        .iter()
        .find_map(|s| Some(s.answer? / f64::from(s.size)))
        .filter(|p| *p > 0.0);
    ScaledEnterprise {
        seats: e.seats,
        peak_rate: round3(peak),
        headroom_percent: setup.headroom_percent,
        measured_size,
        extrapolated_size: extrapolated_size.flatten(),
        division_size: per.map(|p| (peak / (p * usable)).ceil().max(1.0) as u32),
    }
}

#[cfg(test)]
mod tests;
