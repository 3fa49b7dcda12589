//! The capacity search's controller of one live load. It moves the load's level (the arrival
//! rate, or the seats) from step to step, so a step starts warm from the one before; it looks
//! at the load through each step (runs begun and ended, sessions open), judges the hold on the
//! collector's windows (steady, or held longer, or not sustainable; then the SLA), and keeps
//! what the steps measured (the deployment's ceiling, the last level that held).

mod cold;
mod record;
mod window;

pub use record::runs_started;
pub(super) use window::{mean, quantile};

use super::ceiling;
use super::interval::HoldRuns;
use super::judge::{judge, Judged};
use super::steady::{self, Approach, Decision, Expect, Look};
use crate::load::level::{Attached, Knob, Live};
use crate::model::capacity::StepResult;
use crate::plan::{Plan, Shard};
use cold::held_again;
use record::{decided, level_text, Record};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use window::Sample;

/// How often the controller samples the load.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// How a step is held.
#[derive(Debug, Clone, Copy)]
pub enum Holding {
    /// Held until a look decides (one node); a step far under the SLA may pass on its
    /// figures before its runs show it (`Decision::Provisional`).
    Extend,
    /// Held until a look decides, shown within the SLA to pass (the answer, held again).
    Answer,
    /// Ramped until `ramp_end`, held until `hold_end`, as judged later (a shard's slot).
    Until {
        ramp_end: Instant,
        hold_end: Instant,
    },
}

pub struct Controller<'a> {
    plan: &'a Plan,
    live: Arc<Live>,
    on: Attached,
    shard: Shard,
    /// Say on stderr what each step is doing (not under `--quiet`).
    talk: bool,
    looks: Vec<Sample>,
    /// What the steps so far showed.
    record: Record,
    /// Each step run, in order: its level and the runs begun when it began.
    spans: Vec<(f64, u64)>,
}

impl<'a> Controller<'a> {
    /// Waits for the live load to start; `None` when it ended first (a setup error).
    pub async fn attach(plan: &'a Plan, live: Arc<Live>, shard: Shard, talk: bool) -> Option<Self> {
        let on = live.attached().await?;
        Some(Controller {
            plan,
            live,
            on,
            shard,
            talk,
            looks: Vec::new(),
            record: Record::default(),
            spans: Vec::new(),
        })
    }

    /// Steps the load to `level` (test-wide users, or sessions per second), holds and judges
    /// it. `None` when the test was stopped (Ctrl-C, SIGTERM): the search ends.
    pub async fn step(&mut self, level: f64, holding: Holding) -> Option<StepResult> {
        let rate_step = self.live.level.knob() == Knob::Rate;
        let text = level_text(level, rate_step);
        let offered = rate_step.then(|| level * self.turns().mean());
        let node = !matches!(holding, Holding::Until { .. });
        if let (Some(offered), true) = (offered, node) {
            let ceiling = ceiling::ceiling(&self.record.seen);
            let why = ceiling::beyond(offered, ceiling.as_ref())
                .or_else(|| ceiling::unsettled(offered, ceiling.as_ref(), self.max_hold()));
            if let Some(why) = why {
                self.say(format!("{text}: not run: {why}"));
                return Some(self.record.not_run(level, self.local(level), offered, why));
            }
        }
        if self.record.failed_last && node {
            self.cool_down(self.local(level)).await?;
        }
        let measured = self.on.collector.mean_session_secs();
        let (ramp, ramp_end) = match holding {
            Holding::Extend | Holding::Answer => {
                let ramp = self
                    .plan
                    .capacity_ramp(measured.map(Duration::from_secs_f64));
                (ramp, Instant::now() + ramp)
            }
            Holding::Until { ramp_end, .. } => (ramp_end - Instant::now(), ramp_end),
        };
        let began = self.now();
        let approach = match self.local(level) + 1e-9 >= self.live.level.now() {
            true => Approach::Rising,
            false => Approach::Falling,
        };
        self.spans
            .push((level, self.on.collector.runs_begun_ended().0));
        // Seats move over the ramp's first quarter: the rest lets sessions fill. A rate moves
        // at once, its sessions with it (`move_level`): its ramp is only a wait.
        let over = match rate_step {
            true => Duration::ZERO,
            false => ramp / 4,
        };
        self.move_level(self.local(level), over);
        if !ramp.is_zero() {
            self.say(format!("{text}: ramping {:.0} s", ramp.as_secs_f64()));
        }
        self.wait_until(ramp_end).await?;
        let expect = Expect::of(self.plan, rate_step.then_some(level), measured);
        let (mut step, mut decision) = self
            .hold(&text, began, &expect, measured, holding, approach)
            .await?;
        self.settle(&mut step, &decision, level, ramp, offered);
        // A first step that fails is held again, warm (`cold`).
        if node && self.record.seen.is_empty() && !step.passed {
            let why = step.failed_rule.clone().unwrap_or_default();
            self.say(format!(
                "{text}: from a cold start, {why}: held again, warm"
            ));
            (step, decision) = self
                .hold(&text, began, &expect, measured, holding, Approach::Rising)
                .await?;
            self.settle(&mut step, &decision, level, ramp, offered);
            held_again(&mut step, &why);
        }
        if decision.is_some() {
            // Saturated among the steps so far: it stays so, whatever later steps show.
            step.saturated = self.record.saturated(&step);
            let local = self.local(level);
            self.record.remember(&step, local);
        }
        Some(step)
    }

    /// A step held at `level`: its level, ramp and offer, its look's decision, its verdict.
    fn settle(
        &self,
        step: &mut StepResult,
        decision: &Option<Decision>,
        level: f64,
        ramp: Duration,
        offered: Option<f64>,
    ) {
        record::at_level(step, level, offered, ramp, self.shard);
        step.interrupted = self.on.stop.interrupted().is_some();
        decided(step, decision);
        if decision.is_some() {
            judge(&self.plan.sla, step);
        }
    }

    /// Holds the step from now, looking every `tick`, until a look decides (`steady::decide`: a
    /// verdict as soon as it is sure); a shard's step is held to its slot's end (`None`).
    async fn hold(
        &mut self,
        text: &str,
        began: f64,
        expect: &Expect,
        session: Option<f64>,
        holding: Holding,
        approach: Approach,
    ) -> Option<(StepResult, Option<Decision>)> {
        let start = self.now();
        self.on.collector.hold_begins();
        // Near the measured ceiling a steady look counts only once a queue could settle.
        let settle = ceiling::settle(
            expect.offered_runs_per_sec,
            ceiling::ceiling(&self.record.seen).as_ref(),
        );
        let settle = settle.as_ref().map(|(secs, why)| (*secs, why.as_str()));
        let hold = self.plan.capacity.step_hold.0.as_secs_f64();
        let max_hold = self
            .plan
            .capacity_max_hold(session.map(Duration::from_secs_f64))
            .as_secs_f64();
        let tick = steady::tick(hold);
        let knee = self.record.knee(expect.rate, &self.plan.capacity);
        let mut look_at = match holding {
            Holding::Extend | Holding::Answer => start + steady::first_look(hold),
            Holding::Until { hold_end, .. } => start + (hold_end - Instant::now()).as_secs_f64(),
        };
        loop {
            let due = Instant::now() + Duration::from_secs_f64((look_at - self.now()).max(0.0));
            self.wait_until(due).await?;
            let (now, held) = (self.now(), self.now() - start);
            let (mut step, runs, judged, near) = self.look_back(began, start, now, expect);
            step.held_secs = held;
            if let Holding::Until { .. } = holding {
                step.hold_end = Some(format!("held its slot, {held:.0} s"));
                window::keep(&mut step, &runs);
                return Some((step, None));
            }
            let st = step.steadiness.clone().unwrap_or_default();
            let look = Look {
                steadiness: &st,
                shown: &judged.shown,
                broken: judged.broken.as_deref(),
                near,
                approach,
                held,
                next: tick,
                max_hold,
                settle,
                min_pass: steady::PASS_AFTER_HOLD * hold,
                futile: held + 1e-6 >= hold
                    && steady::futile(&self.plan.sla, &step, held, max_hold),
                provisional: judged.provisional && matches!(holding, Holding::Extend),
                carried: step
                    .carried_rate
                    .zip(expect.rate)
                    .map(|(carried, rate)| carried / rate.max(1e-12)),
                knee_resolution: knee,
            };
            let decision = steady::decide(&look);
            match decision {
                Decision::Extend(why) => {
                    self.say(format!("{text}: after {held:.0} s, {why}: held longer"));
                    look_at = now + tick;
                }
                decision => {
                    step.hold_end = Some(steady::hold_end(&decision, &look));
                    window::keep(&mut step, &runs);
                    return Some((step, Some(decision)));
                }
            }
        }
    }

    /// The figures a look judges: the whole hold so far when it was steady throughout (the
    /// most runs, the surest figures), else its last `step_hold` seconds; what the SLA's
    /// intervals show of them, and whether a run-time figure is near its limit.
    fn look_back(
        &self,
        began: f64,
        start: f64,
        now: f64,
        expect: &Expect,
    ) -> (StepResult, HoldRuns, Judged, bool) {
        let hold = self.plan.capacity.step_hold.0.as_secs_f64();
        let window = |from: f64| {
            let (mut step, runs) =
                window::figures(&self.on, self.plan, &self.looks, began, from, now);
            let hold = step.hold.as_ref().expect("a window has its hold");
            step.steadiness = Some(steady::steadiness(hold, &runs, expect));
            if let Some(rate) = expect.rate {
                let (begun, _) = hold.runs();
                let turns = expect.offered_runs_per_sec.unwrap_or(rate) / rate.max(1e-12);
                step.carried_rate = Some(begun as f64 / hold.secs.max(1e-9) / turns);
            }
            (step, runs)
        };
        let whole = window(start);
        let steady_whole = whole.0.steadiness.as_ref().is_some_and(|s| s.steady);
        let (step, runs) = match steady_whole || now - start <= hold + 1e-6 {
            true => whole,
            false => window(now - hold),
        };
        let mut judged_step = step.clone();
        let judged = judge(&self.plan.sla, &mut judged_step);
        let near = steady::near_limit(&self.plan.sla, &step);
        (step, runs, judged, near)
    }

    /// The load ends: the search has its answer (runs in flight get the grace). The runs each
    /// step began (to the next step's start, or the load's end) are filled in by `runs_started`.
    pub fn finish(&self) -> Vec<(f64, u64)> {
        self.live.level.move_to(0.0, Duration::ZERO);
        let at = self.on.collector.now_secs();
        self.on
            .stop
            .conclude("capacity", "the capacity search has its answer", at);
        self.spans.clone()
    }

    /// Waits until `until`, looking at the load every `LOOK_EVERY`; `None` on a stop.
    async fn wait_until(&mut self, until: Instant) -> Option<()> {
        loop {
            self.look();
            let now = Instant::now();
            if now >= until {
                return Some(());
            }
            let next = (now + LOOK_EVERY).min(until);
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = self.on.stop.asked() => return None,
                () = self.live.ended() => return None,
            }
        }
    }

    fn look(&mut self) {
        // What a step needs goes back at most its longest hold: older looks are dropped.
        let keep = 4.0 * self.plan.capacity_max_hold(None).as_secs_f64() + 60.0;
        window::keep_look(&mut self.looks, Sample::now(&self.on), keep);
    }

    /// After a failed step, the load goes where the next, lower step can start from a state
    /// it could hold, not from the failed step's queue: a rate to none at all (its sessions
    /// let go at once, the queue drains at the deployment's full pace), until no run is in
    /// flight and no session open, the next step then starting warm; seats back to the
    /// highest level below `next` that held, until runs in flight and sessions open are back
    /// near where they were there.
    async fn cool_down(&mut self, next: f64) -> Option<()> {
        let (level, in_flight, sessions) = match self.live.level.knob() {
            Knob::Rate => (0.0, 0.0, 0.0),
            Knob::Seats => self.record.held_below(next),
        };
        self.move_level(level, Duration::ZERO);
        let limit = Instant::now() + self.plan.capacity_max_hold(None);
        self.say(match level > 0.0 {
            true => "back to the last level that held until its queue drains".into(),
            false => "no load until its queue drains".into(),
        });
        loop {
            self.wait_until((Instant::now() + LOOK_EVERY).min(limit))
                .await?;
            let last = self.looks.last().copied().unwrap_or_default();
            let flight = last.begun.saturating_sub(last.ended) as f64;
            let drained = flight <= (1.5 * in_flight).max(2.0)
                && last.sessions_open as f64 <= 1.2 * sessions + 3.0;
            if drained || Instant::now() >= limit {
                self.record.failed_last = false;
                return Some(());
            }
        }
    }

    /// Moves the live level to `to` (this shard's) over `over`. A rate moves its sessions
    /// with it (`load::level::Population`): a rise starts the sessions its
    /// steady state holds more, part-way (`arrivals::warm`); a fall lets the share it holds
    /// less go. Its load is then its rate's from the first second, not after a session's
    /// length of filling or emptying.
    fn move_level(&mut self, to: f64, over: Duration) {
        let level = &self.live.level;
        let from = level.now();
        if level.knob() == Knob::Rate {
            let run_secs = self
                .record
                .run_secs_at(to)
                .unwrap_or(crate::plan::RUN_GUESS_SECS);
            let warm = crate::load::arrivals::warm::Warm {
                turns: self.turns(),
                think: self.plan.scenario.think_time,
            };
            if to > from {
                level
                    .population
                    .ask((to - from) * warm.mean_secs(run_secs), run_secs);
            } else if from > 0.0 {
                level.population.keep(to / from);
            }
        }
        level.move_to(to, over);
    }

    /// The most a step may be held now (its sessions' length as measured so far).
    fn max_hold(&self) -> f64 {
        let measured = self.on.collector.mean_session_secs();
        self.plan
            .capacity_max_hold(measured.map(Duration::from_secs_f64))
            .as_secs_f64()
    }

    fn turns(&self) -> crate::plan::Turns {
        self.plan.session.unwrap_or_default().turns
    }

    /// This shard's part of a test-wide level.
    fn local(&self, level: f64) -> f64 {
        match self.live.level.knob() {
            Knob::Rate => level,
            Knob::Seats => self.shard.share(level.round() as usize) as f64,
        }
    }

    fn now(&self) -> f64 {
        self.on.collector.now_secs()
    }

    fn say(&self, line: String) {
        if self.talk {
            eprintln!("agentload capacity: {line}");
        }
    }
}
