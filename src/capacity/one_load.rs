//! The one live load of a capacity search: the plan it runs (the pool of sessions, or the most
//! users the search may seat, held until the search ends), and the search beside it, which
//! moves it through the controller.

use super::controller::Controller;
use crate::load::drive::{load, Loaded, Resolved, RunOptions, SetupError};
use crate::load::level::{Knob, Live};
use crate::plan::{Arrival, Dur, Plan, Rate, Sla, Stage};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long the live load is planned to last: the search ends it long before.
const LIVE_BOUND: Duration = Duration::from_secs(24 * 3600);
/// Goose launches this many users a second at most (the closed model's seats are all up
/// before the first step; a seat not admitted holds nothing).
const LAUNCH_PER_SEC: f64 = 500.0;

/// What a search beside the live load hands back: its answer, and each step's level with the
/// runs begun when it began (`Controller::finish`).
pub(crate) type Searched<T> = (T, Vec<(f64, u64)>);

/// Runs `plan`'s live load (this shard's part of it, seats up to `top` users for a closed
/// plan) against `resolved`, and `search` beside it once the load is up. The load's result
/// (or its setup error), and the search's (`None` when the load never started).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<'p, T>(
    plan: &'p Plan,
    top: usize,
    resolved: &Resolved,
    credential: &str,
    dir: &Path,
    options: &RunOptions,
    search: impl AsyncFnOnce(Controller<'p>) -> Searched<T>,
) -> (Result<Loaded, SetupError>, Option<Searched<T>>) {
    let knob = match plan.is_open() {
        true => Knob::Rate,
        false => Knob::Seats,
    };
    let live = Arc::new(Live::new(knob));
    let load_plan = live_plan(plan, top, options);
    let load_options = RunOptions {
        verbose: options.verbose,
        metrics_addr: options.metrics_addr,
        shard: options.shard,
        run_id: options.run_id.clone(),
        start_at: options.start_at,
        live: Some(live.clone()),
        ..RunOptions::default()
    };
    let loading = async {
        let loaded = load(
            &load_plan,
            resolved,
            credential.to_string(),
            dir,
            chrono::Utc::now(),
            &load_options,
        )
        .await;
        live.detach();
        loaded
    };
    let talk = options.progress.is_some();
    let searching = async {
        let controller = Controller::attach(plan, live.clone(), options.shard, talk).await?;
        Some(search(controller).await)
    };
    tokio::join!(loading, searching)
}

/// The plan the live load runs: the open model's pool fed at the live rate, or the closed
/// model's seats (`top` users test-wide) launched at once and admitted by the live level;
/// its rules judged per step by the search (none by Goose), no checkpoints, no limits.
fn live_plan(plan: &Plan, top: usize, options: &RunOptions) -> Plan {
    let mut live = plan.for_shard(options.shard);
    match plan.is_open() {
        true => {
            live.arrivals = vec![Arrival {
                rate: Rate(plan.capacity.max_rate.0),
                duration: Dur(LIVE_BOUND),
                ramp_to: None,
            }];
            live.workload.drain = Dur::from_secs(0);
        }
        false => {
            let users = options.shard.share(top);
            let launch = (users as f64 / LAUNCH_PER_SEC).ceil().max(1.0);
            live.stages = vec![
                Stage {
                    users,
                    duration: Dur(Duration::from_secs_f64(launch)),
                },
                Stage {
                    users,
                    duration: Dur(LIVE_BOUND),
                },
            ];
        }
    }
    live.sla = Sla::default();
    live.report.checkpoint = Dur::from_secs(0);
    live.limits.max_duration = None;
    live.limits.max_runs = None;
    live
}

/// How long a closed plan's seats take to launch, or an open plan's pool: the first step may
/// begin once they are up.
pub(crate) fn launch_time(plan: &Plan, top: usize) -> Duration {
    match plan.is_open() {
        true => crate::plan::POOL_LAUNCH + Duration::from_secs(2),
        false => Duration::from_secs_f64((top as f64 / LAUNCH_PER_SEC).ceil().max(1.0) + 1.0),
    }
}
