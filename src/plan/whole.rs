//! The whole plan, as its sections make it up, and what is read from more than one of them:
//! the users the load holds over time, how long it lasts, how a capacity search times its
//! steps, a shard's part of it. Reading and checking a plan file is `super`'s.

use super::capacity::{CapacityPlan, DEFAULT_RAMP, RUN_GUESS_SECS};
use super::checks::ResultCheck;
use super::mix::MixEntry;
use super::preflight::PreflightPlan;
use super::protocol::Protocol;
use super::sections::{Auth, Limits, Report, SamplerPlan, Scenario, SecurityPlan, Stage, Target};
use super::shard::Shard;
use super::sla::Sla;
use super::values::Dur;
use super::workload::{self, Arrival, Model, SessionPlan, Workload};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// A whole load plan, as written in `loadplans/*.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Used in report folder names; defaults to the file name without `.toml`.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(deserialize_with = "super::sections::target_or_embedded")]
    pub target: Target,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default)]
    pub scenario: Scenario,
    /// A workload mix: kinds of users with weights (empty: every user is `[scenario]`'s).
    #[serde(default)]
    pub scenarios: Vec<MixEntry>,
    /// Closed model: the ramp of users (Goose's test plan).
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Closed or open model, and the open model's pool and arrival distribution.
    #[serde(default)]
    pub workload: Workload,
    /// A user's conversation: turns in one thread, then it leaves (unset: users never leave).
    #[serde(default)]
    pub session: Option<SessionPlan>,
    /// Open model: sessions arriving at a rate, phase after phase.
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
    /// Result checks on each completed run's `agent_completed` data.
    #[serde(default)]
    pub checks: Vec<ResultCheck>,
    #[serde(default)]
    pub sla: Sla,
    #[serde(default)]
    pub sampler: SamplerPlan,
    #[serde(default)]
    pub security: SecurityPlan,
    #[serde(default)]
    pub preflight: PreflightPlan,
    #[serde(default)]
    pub capacity: CapacityPlan,
    #[serde(default)]
    pub report: Report,
    #[serde(default)]
    pub limits: Limits,
    /// Where the plan was read from (not a TOML key).
    #[serde(skip)]
    pub source: PathBuf,
}

impl Plan {
    /// The user kinds this plan runs: its `[[scenarios]]`, or `[scenario]` as the only one.
    pub fn mix(&self) -> Vec<MixEntry> {
        match self.scenarios.is_empty() {
            true => vec![MixEntry::from_scenario(&self.scenario)],
            false => self.scenarios.clone(),
        }
    }

    /// Whether request names carry the scenario (`WS agent_run [name]`): a `[[scenarios]]` mix.
    pub fn is_mix(&self) -> bool {
        !self.scenarios.is_empty()
    }

    /// The plan's name, for folders and reports.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.source
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plan".into())
        })
    }

    /// The load's stages as Goose's `--test-plan` string, e.g. `5,10;5,30;0,5`. A plan that
    /// does not end at 0 users gets a last `0,0` step: stop every user when the stages are done.
    pub fn goose_test_plan(&self) -> String {
        let stages = self.load_stages();
        let mut steps: Vec<String> = stages
            .iter()
            .map(|s| format!("{},{}", s.users, s.duration.0.as_secs_f64().ceil() as u64))
            .collect();
        if stages.last().is_some_and(|s| s.users > 0) {
            steps.push("0,0".into());
        }
        steps.join(";")
    }

    /// The Goose users the load holds over time: the closed model's `[[stages]]`; the open
    /// model's pool of `max_sessions`, launched over `POOL_LAUNCH` and held while sessions
    /// arrive and drain (and a margin: the arrivals start once the pool is up).
    pub fn load_stages(&self) -> Vec<Stage> {
        match self.workload.model {
            Model::Closed => self.stages.clone(),
            Model::Open => {
                let pool = self.workload.max_sessions;
                let hold = self.arrivals_duration() + self.workload.drain.0 + POOL_MARGIN;
                vec![
                    Stage {
                        users: pool,
                        duration: Dur(POOL_LAUNCH),
                    },
                    Stage {
                        users: pool,
                        duration: Dur(hold),
                    },
                ]
            }
        }
    }

    /// How long the load is planned to last (a wait never outlasts it).
    pub fn planned_duration(&self) -> std::time::Duration {
        match self.workload.model {
            Model::Closed => self.stages.iter().map(|s| s.duration.0).sum(),
            Model::Open => POOL_LAUNCH + self.arrivals_duration() + self.workload.drain.0,
        }
    }

    /// The open model's arrival phases, end to end.
    pub fn arrivals_duration(&self) -> std::time::Duration {
        workload::arrivals_duration(&self.arrivals)
    }

    /// Sessions arrive on a schedule (`[workload] model = "open"`).
    pub fn is_open(&self) -> bool {
        self.workload.model == Model::Open
    }

    /// Users hold sessions of turns: the open model, or a `[session]` in the closed one.
    pub fn has_sessions(&self) -> bool {
        self.is_open() || self.session.is_some()
    }

    /// The largest user count of any stage (the open model: its pool).
    pub fn peak_users(&self) -> usize {
        self.load_stages()
            .iter()
            .map(|s| s.users)
            .max()
            .unwrap_or(0)
    }

    /// The deployment's size a capacity search measures: the study's (or `--size`), else an
    /// embedded target's replicas, else 1.
    pub fn deployment_size(&self) -> u32 {
        self.capacity
            .size
            .or(self.target.replicas.map(|r| r as u32))
            .unwrap_or(1)
    }

    /// A session's mean length as the plan describes it: its think times between turns, and
    /// half a second a run (`None`: users hold no sessions).
    pub fn session_estimate(&self) -> Option<Duration> {
        self.has_sessions().then(|| {
            let turns = self.session.unwrap_or_default().turns.mean();
            let think = self.scenario.think_time.mean().as_secs_f64();
            Duration::from_secs_f64((turns - 1.0).max(0.0) * think + turns * RUN_GUESS_SECS)
        })
    }

    /// The ramp between capacity steps: the plan's `step_ramp`; else none for an open plan
    /// (its rate moves at once, its sessions with it: `load::level::Population`), a
    /// session's mean length for closed seats that hold sessions (`session`: as measured so
    /// far, else the plan's estimate), else `DEFAULT_RAMP`.
    pub fn capacity_ramp(&self, session: Option<Duration>) -> Duration {
        match (self.capacity.step_ramp, session.or(self.session_estimate())) {
            (Some(ramp), _) => ramp.0,
            (None, _) if self.is_open() => Duration::ZERO,
            (None, Some(session)) => session.max(DEFAULT_RAMP),
            (None, None) => DEFAULT_RAMP,
        }
    }

    /// The most a capacity step is held: the plan's `max_hold`, else three holds or a hold
    /// and two sessions' length, whichever is longer.
    pub fn capacity_max_hold(&self, session: Option<Duration>) -> Duration {
        let hold = self.capacity.step_hold.0;
        let sessions = session.or(self.session_estimate()).unwrap_or_default();
        self.capacity
            .max_hold
            .map_or((3 * hold).max(hold + 2 * sessions), |m| m.0)
    }

    /// The plan as shard `shard` runs it: its share of every stage's users, and of the open
    /// model's pool (each shard takes its share of the arrival rate where it schedules them).
    pub fn for_shard(&self, shard: Shard) -> Plan {
        let mut plan = self.clone();
        for stage in &mut plan.stages {
            stage.users = shard.share(stage.users);
        }
        plan.workload.max_sessions = shard.share(plan.workload.max_sessions).max(1);
        plan
    }
}

/// The open model's pool is launched over this long before the first arrival.
pub const POOL_LAUNCH: std::time::Duration = std::time::Duration::from_secs(1);
/// Beyond the arrivals and the drain, the pool is held this much longer: arrivals start once
/// every pool user is up, which may take longer than `POOL_LAUNCH`.
pub const POOL_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);
