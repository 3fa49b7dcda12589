//! The search's course: the ladder (users or rates) walked, then what the steps came to (the
//! answer, what broke first, the projection with headroom, the conclusion in words).

use super::walk::walk;
use super::{ceiling, held, margin, rates};
use crate::model::capacity::{CapacityReport, Projection, StepResult};
use crate::plan::{CapacityPlan, Plan, Sla};

/// Runs steps up the ladder of users until one fails or the ceiling, then bisects to the
/// resolution. `run_step` returns `None` to stop the search (Ctrl-C): the report keeps what
/// was measured.
pub async fn search<E>(
    plan: &CapacityPlan,
    sla: &Sla,
    max_hold: f64,
    mut run_step: impl AsyncFnMut(usize, bool) -> Result<Option<StepResult>, E>,
) -> Result<CapacityReport, E> {
    let ladder = plan.ladder().into_iter().map(|u| u as f64).collect();
    let resolution = plan.resolution.max(1) as f64;
    let mut report = walk(
        ladder,
        resolution,
        true,
        sla,
        max_hold,
        async |level: f64, answer: bool| run_step(level as usize, answer).await,
    )
    .await?;
    report.ceiling = plan.ceiling;
    report.headroom_percent = plan.headroom.0;
    report.max_users = report.max_rate.take().map(|l| l as usize);
    report.first_failing_users = report.first_failing_rate.take().map(|l| l as usize);
    conclude(&mut report, plan, sla);
    Ok(report)
}

/// The search over arrival rates (the open model): up the plan's rate ladder until a step
/// fails, then bisects to `rate_resolution`.
pub async fn search_rates<E>(
    plan: &CapacityPlan,
    sla: &Sla,
    max_hold: f64,
    run_step: impl AsyncFnMut(f64, bool) -> Result<Option<StepResult>, E>,
) -> Result<CapacityReport, E> {
    let (ladder, resolution) = (plan.rate_ladder(), plan.rate_step());
    let mut report = walk(ladder, resolution, false, sla, max_hold, run_step).await?;
    report.headroom_percent = plan.headroom.0;
    report.max_rate_tried = Some(plan.max_rate.0);
    conclude(&mut report, plan, sla);
    Ok(report)
}

/// A ladder walked whole (the shards of a distributed search, merged and judged): each step's
/// merged hold judged for steadiness (a shard's hold is never extended: not steady, the step
/// was not sustainable), then its SLA; the limit is the last step that held below the first
/// that failed.
pub fn ladder_report(mut steps: Vec<StepResult>, plan: &Plan, sla: &Sla) -> CapacityReport {
    steps.sort_by(|a, b| a.level().total_cmp(&b.level()));
    held::judge_merged(&mut steps, plan, sla);
    let plan = &plan.capacity;
    let first_fail = steps.iter().find(|s| !s.passed).cloned();
    let last_pass = steps.iter().take_while(|s| s.passed).last().cloned();
    let by_rate = steps.iter().any(|s| s.rate.is_some());
    let top = |s: &StepResult| match by_rate {
        true => s.level() >= plan.max_rate.0 * (1.0 - 1e-9),
        false => s.users >= plan.ceiling,
    };
    let mut report = CapacityReport {
        ceiling: plan.ceiling,
        headroom_percent: plan.headroom.0,
        limiting_rule: first_fail.as_ref().and_then(|s| s.failed_rule.clone()),
        no_limit_up_to_ceiling: first_fail.is_none() && steps.last().is_some_and(top),
        ..Default::default()
    };
    match by_rate {
        true => {
            report.max_rate = last_pass.map(|s| s.level());
            report.first_failing_rate = first_fail.map(|s| s.level());
            report.max_rate_tried = Some(plan.max_rate.0);
        }
        false => {
            report.max_users = last_pass.map(|s| s.users);
            report.first_failing_users = first_fail.map(|s| s.users);
        }
    }
    report.steps = steps;
    conclude(&mut report, plan, sla);
    report
}

/// What follows from the steps: saturated steps, the projection, where shedding began, and
/// the conclusion.
fn conclude(report: &mut CapacityReport, plan: &CapacityPlan, sla: &Sla) {
    report.run_p95_limit_ms = sla.agent_run_p95.map(|d| d.0.as_secs_f64() * 1000.0);
    report.generator_saturated_steps = report
        .steps
        .iter()
        .filter(|s| s.generator_saturated)
        .map(|s| s.users)
        .collect();
    report.projection = plan.projection_users.and_then(|users| {
        project(
            users,
            report.max_users?,
            plan.headroom.0,
            report.no_limit_up_to_ceiling,
        )
    });
    report.steps.sort_by(|a, b| a.level().total_cmp(&b.level()));
    if let Some(shed) = report.steps.iter().find(|s| s.throttled > 0) {
        report.shedding_step_users = Some(shed.users);
        report.shedding_at_users = shed.throttled_first_at_users;
        report.shedding_reason = Some(shed.throttle_reasons.join(", "));
    }
    report.degraded_first = degraded_first(report);
    ceiling::conclude(report);
    if report.steps.iter().any(|s| s.rate.is_some()) {
        report.enterprise = plan.enterprise.and_then(|e| {
            rates::size(
                &e,
                report.max_rate?,
                plan.headroom.0,
                report.no_limit_up_to_ceiling,
            )
        });
        report.conclusion = rates::conclusion(report);
    } else {
        report.conclusion = conclusion(report);
    }
}

/// The figure that grew the most from the first step to the first that broke (the breakdown's
/// P95s, the server's peaks).
fn degraded_first(report: &CapacityReport) -> Option<String> {
    let first = report.steps.first()?;
    let broke = report.steps.iter().find(|s| !s.passed)?;
    crate::model::breakdown::degraded_first(&first.figures(), &broke.figures()).map(|what| {
        format!(
            "from {} to {}, {what}",
            first.level_text(),
            broke.level_text()
        )
    })
}

/// Deployments needed for `users` when one holds `max_users` with `headroom` percent kept free.
pub fn project(users: usize, max_users: usize, headroom: f64, at_most: bool) -> Option<Projection> {
    let usable = max_users as f64 * (1.0 - headroom / 100.0);
    (usable > 0.0).then(|| Projection {
        users,
        instances: (users as f64 / usable).ceil() as u64,
        at_most,
    })
}

fn conclusion(r: &CapacityReport) -> String {
    let mut text = match (r.max_users, &r.limiting_rule) {
        _ if r.interrupted => format!(
            "Interrupted after {} step(s): at least {} users held, no limit established.",
            r.steps.len(),
            r.max_users.unwrap_or(0)
        ),
        _ if r.no_limit_up_to_ceiling => format!(
            "No limit found up to the ceiling of {} users: every SLA rule held at every step.",
            r.ceiling
        ),
        (Some(max), Some(rule)) => {
            let at = r.first_failing_users.unwrap_or(max);
            let step = r.steps.iter().find(|s| !s.passed && s.users == at);
            format!(
                "This deployment holds {max} concurrent users within the SLA; at {at} users {}.",
                margin::broke(step, rule)
            )
        }
        (None, Some(rule)) => format!("Even the first step failed: {rule}."),
        (Some(max), None) => format!(
            "Every step held up to {max} users (the ladder stopped below the ceiling of {}).",
            r.ceiling
        ),
        _ => "No step ran.".to_string(),
    };
    text.push_str(&margin::sentence(r));
    text.push_str(&ceiling::sentence(r));
    if let (Some(at), Some(step)) = (r.shedding_at_users, r.shedding_step_users) {
        let what = match r.steps.iter().find(|s| s.users == step) {
            Some(s) if s.throttled_connects > 0 => "refusing connections",
            _ => "shedding runs",
        };
        let why = r.shedding_reason.as_deref().unwrap_or("unnamed");
        let order = match r.first_failing_users {
            Some(broke) if step <= broke => format!(", before the SLA broke at {broke}"),
            Some(broke) => format!(", after the SLA broke at {broke}"),
            None => String::new(),
        };
        text.push_str(&format!(
            " The platform began {what} at {at} users ({why}){order}."
        ));
    }
    if let Some(what) = &r.degraded_first {
        text.push_str(&format!(" What degraded first: {what}."));
    }
    if let Some(p) = &r.projection {
        let bound = if p.at_most { "at most " } else { "" };
        text.push_str(&format!(
            " {} concurrent users need {bound}{} instance(s) of this deployment with {}% headroom.",
            p.users, p.instances, r.headroom_percent
        ));
    }
    if !r.generator_saturated_steps.is_empty() {
        text.push_str(&format!(
            " Warning: the generator's CPU passed 80% at {:?} users; those steps may measure the generator, not the target.",
            r.generator_saturated_steps
        ));
    }
    text
}

#[cfg(test)]
mod tests;
