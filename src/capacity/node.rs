//! One node's capacity search: its report folder, the target, the one live load with the
//! search beside it (`walk` through the `controller`), the steps' runs as the target counted
//! them, and the report written.

use super::controller::{runs_started, Holding};
use super::one_load;
use super::output::{capacity_summary, print_steps, step_line, write_capacity};
use super::search::{search, search_rates};
use crate::load::drive::{client_credential, resolve_target, RunOptions, SetupError};
use crate::load::folder::report_folder;
use crate::plan::Plan;
use std::path::PathBuf;

/// Searches what `plan`'s deployment holds (`between`: the users a second pass walks
/// between), prints the steps and the conclusion, and writes the report: its folder.
pub async fn run(
    plan: &Plan,
    between: Option<(usize, usize)>,
    options: &RunOptions,
) -> Result<PathBuf, SetupError> {
    let started_at = chrono::Utc::now();
    let dir = report_folder(plan, "capacity", started_at)?;
    let credential = client_credential(plan)?;
    let resolved = resolve_target(plan, &credential, &dir).await?;
    let top = plan.capacity.ladder().into_iter().max().unwrap_or(1);
    let (loaded, searched) = one_load::run(
        plan,
        top,
        &resolved,
        &credential,
        &dir,
        options,
        async |mut controller| {
            let mut step = async |level: f64, answer: bool| {
                let holding = match answer {
                    true => Holding::Answer,
                    false => Holding::Extend,
                };
                let step = controller.step(level, holding).await;
                // Stdout is Goose's (muted) while the load runs: the table comes at the end.
                if let (Some(step), Some(_)) = (&step, options.progress) {
                    eprintln!("agentload capacity: {}", step_line(step).trim_start());
                }
                Ok::<_, std::convert::Infallible>(step)
            };
            let max_hold = plan.capacity_max_hold(None).as_secs_f64();
            let found = match plan.is_open() {
                true => search_rates(&plan.capacity, &plan.sla, max_hold, &mut step).await,
                false => {
                    let users = async |u: usize, answer: bool| step(u as f64, answer).await;
                    search(&plan.capacity, &plan.sla, max_hold, users).await
                }
            };
            let Ok(found) = found;
            (found, controller.finish())
        },
    )
    .await;
    if let Some(child) = resolved.embedded {
        child.stop().await;
    }
    let loaded = loaded?;
    let Some((mut report, spans)) = searched else {
        return Err(SetupError::Goose(
            "the capacity search's load ended before its first step".into(),
        ));
    };
    let begun = loaded.collector.runs_begun_ended().0;
    runs_started(&mut report.steps, &spans, begun);
    report.between = between;
    report.size = plan
        .capacity
        .size
        .or(plan.target.replicas.map(|r| r as u32));
    print_steps(&report);
    let summary = capacity_summary(plan, started_at, &resolved.ws_url, report);
    write_capacity(&dir, summary, None, options)?;
    Ok(dir.to_path_buf())
}
