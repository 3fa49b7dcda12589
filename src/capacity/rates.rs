//! A capacity search in arrival rates (the open model): its conclusion, and an enterprise's
//! seats sized in deployments from the rate one deployment holds.

use crate::model::capacity::{round3, CapacityReport, EnterpriseSizing};
use crate::model::metrics::thousands;
use crate::plan::Enterprise;

/// Deployments for `enterprise`'s peak when one holds `max_rate` with `headroom` percent kept
/// free; `None` when the limit is 0.
pub fn size(
    enterprise: &Enterprise,
    max_rate: f64,
    headroom: f64,
    at_most: bool,
) -> Option<EnterpriseSizing> {
    let usable = max_rate * (1.0 - headroom / 100.0);
    if usable <= 0.0 {
        return None;
    }
    let peak = enterprise.peak_rate();
    let deployments = ((peak / usable).ceil() as u64).max(1);
    Some(EnterpriseSizing {
        seats: enterprise.seats,
        active_share_percent: enterprise.active_share.0,
        sessions_per_active_hour: enterprise.sessions_per_active_hour,
        peak_rate: peak,
        deployment_rate: max_rate,
        deployments,
        at_most,
        spare_percent: 100.0 * (1.0 - peak / (deployments as f64 * max_rate)),
    })
}

/// One paragraph for people: the rate held, what broke, where shedding began, the seats.
pub fn conclusion(r: &CapacityReport) -> String {
    let rate = |x: f64| format!("{}/s", round3(x));
    let mut text = match (r.max_rate, &r.limiting_rule) {
        _ if r.interrupted => format!(
            "Interrupted after {} step(s): at least {} sessions held, no limit established.",
            r.steps.len(),
            rate(r.max_rate.unwrap_or(0.0))
        ),
        _ if r.no_limit_up_to_ceiling => format!(
            "No limit found up to {} sessions: every SLA rule held at every step.",
            rate(r.max_rate_tried.unwrap_or(0.0))
        ),
        (Some(max), Some(rule)) => format!(
            "This deployment holds {} arriving sessions within the SLA; at {} {}.",
            rate(max),
            rate(r.first_failing_rate.unwrap_or(max)),
            super::margin::broke(first_failing(r), rule)
        ),
        (None, Some(rule)) => format!("Even the first step failed: {rule}."),
        (Some(max), None) => format!("Every step held up to {} sessions.", rate(max)),
        _ => "No step ran.".to_string(),
    };
    text.push_str(&super::margin::sentence(r));
    text.push_str(&super::ceiling::sentence(r));
    if let Some(what) = &r.degraded_first {
        text.push_str(&format!(" What degraded first: {what}."));
    }
    let shed = r.steps.iter().find(|s| s.throttled > 0);
    if let (Some(step), Some(at)) = (shed, r.shedding_at_users) {
        let why = r.shedding_reason.as_deref().unwrap_or("unnamed");
        text.push_str(&format!(
            " The platform began shedding load at {} ({why}, {at} users' sockets open).",
            rate(step.level())
        ));
    }
    if let Some(e) = &r.enterprise {
        let bound = if e.at_most { "at most " } else { "" };
        let plural = if e.deployments == 1 { "" } else { "s" };
        text.push_str(&format!(
            " {} seats at {}% active, {} conversations an hour: {} sessions/s at the peak; one \
             deployment holds {} within the SLA: {bound}{} deployment{plural}, {:.0}% headroom.",
            thousands(e.seats),
            round3(e.active_share_percent),
            round3(e.sessions_per_active_hour),
            round3(e.peak_rate),
            rate(e.deployment_rate),
            e.deployments,
            e.spare_percent
        ));
    }
    let busy: Vec<String> = r
        .steps
        .iter()
        .filter(|s| s.generator_saturated)
        .map(|s| rate(s.level()))
        .collect();
    if !busy.is_empty() {
        text.push_str(&format!(
            " Warning: the generator's CPU passed 80% at {}; those steps may measure the \
             generator, not the target.",
            busy.join(", ")
        ));
    }
    text
}

/// The first step not shown to hold (the bracket's upper end).
fn first_failing(r: &CapacityReport) -> Option<&crate::model::capacity::StepResult> {
    let level = r.first_failing_rate?;
    r.steps
        .iter()
        .find(|s| !s.passed && (s.level() - level).abs() < 1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Percent;

    #[test]
    fn the_enterprise_sentence_sizes_the_seats() {
        let e = Enterprise {
            seats: 2000,
            active_share: Percent(15.0),
            sessions_per_active_hour: 4.0,
        };
        let sizing = size(&e, 1.4, 20.0, false).unwrap();
        // 2,000 × 15% × 4 / 3600 = 0.333/s; 1.4/s × 80% usable holds it: 1 deployment, 76%.
        assert!((sizing.peak_rate - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(sizing.deployments, 1);
        assert!((sizing.spare_percent - 76.19).abs() < 0.01, "{sizing:?}");
        let report = CapacityReport {
            max_rate: Some(1.4),
            first_failing_rate: Some(1.6),
            limiting_rule: Some("agent run p95: 2100.0 > 2000.0".into()),
            enterprise: Some(sizing),
            ..Default::default()
        };
        assert_eq!(
            conclusion(&report),
            "This deployment holds 1.4/s arriving sessions within the SLA; at 1.6/s agent run \
             p95: 2100.0 > 2000.0 broke first. 2,000 seats at 15% active, 4 conversations an \
             hour: 0.333 sessions/s at the peak; one deployment holds 1.4/s within the SLA: 1 \
             deployment, 76% headroom."
        );
        // Twenty times the seats need more deployments than one.
        let big = Enterprise { seats: 40_000, ..e };
        assert_eq!(size(&big, 1.4, 20.0, false).unwrap().deployments, 6);
    }
}
