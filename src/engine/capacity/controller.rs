//! The capacity search's controller of one live load. It moves the load's level (the arrival
//! rate, or the seats) from step to step, so a step starts warm from the one before; it looks
//! at the load through each step (runs begun and ended, sessions open), judges the hold on the
//! collector's windows (steady, or held longer, or not sustainable; then the SLA), and keeps
//! what the steps measured (the deployment's ceiling, the last level that held).

mod window;

use super::ceiling::{self, Held};
use super::steady::{self, Decision, Expect};
use super::{judge, StepResult};
use crate::engine::live::{Attached, Knob, Live};
use crate::plan::{Plan, Shard};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use window::Sample;

/// How often the controller samples the load.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// One look at a hold: its figures, the SLA rule they break, whether one is near its limit.
struct Look {
    step: StepResult,
    broken: Option<String>,
    near: bool,
}

/// How a step is held.
#[derive(Debug, Clone, Copy)]
pub enum Holding {
    /// Held `step_hold`, then longer while it is not steady (one node).
    Extend,
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
    /// Every step held, as the ceiling reads it.
    seen: Vec<Held>,
    /// The steps that held and no step at or below failed since: each one's level (this
    /// shard's), and its hold's means of runs in flight and sessions open (what a cool-down
    /// returns to).
    passes: Vec<(f64, f64, f64)>,
    failed_last: bool,
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
            seen: Vec::new(),
            passes: Vec::new(),
            failed_last: false,
            spans: Vec::new(),
        })
    }

    /// Steps the load to `level` (test-wide users, or sessions per second), holds and judges
    /// it. `None` when the test was stopped (Ctrl-C, SIGTERM): the search ends.
    pub async fn step(&mut self, level: f64, holding: Holding) -> Option<StepResult> {
        let rate_step = self.live.level.knob() == Knob::Rate;
        let text = level_text(level, rate_step);
        let offered = rate_step.then(|| level * self.turns().mean());
        if let (Some(offered), Holding::Extend) = (offered, holding) {
            let ceiling = ceiling::ceiling(&self.seen);
            if let Some(why) = ceiling::beyond(offered, ceiling.as_ref()) {
                self.say(format!("{text}: not run: {why}"));
                return Some(self.not_run(level, offered, why));
            }
        }
        if self.failed_last && matches!(holding, Holding::Extend) {
            self.cool_down(self.local(level)).await?;
        }
        let measured = self.on.collector.mean_session_secs();
        let (ramp, ramp_end) = match holding {
            Holding::Extend => {
                let ramp = self
                    .plan
                    .capacity_ramp(measured.map(Duration::from_secs_f64));
                (ramp, Instant::now() + ramp)
            }
            Holding::Until { ramp_end, .. } => (ramp_end - Instant::now(), ramp_end),
        };
        let began = self.now();
        self.spans
            .push((level, self.on.collector.runs_begun_ended().0));
        // The level moves over the ramp's first quarter: the rest lets sessions fill.
        self.live.level.move_to(self.local(level), ramp / 4);
        self.say(format!("{text}: ramping {:.0} s", ramp.as_secs_f64()));
        self.wait_until(ramp_end).await?;
        let expect = self.expect(level, offered, measured);
        let (mut step, decision) = self.hold(&text, began, &expect, measured, holding).await?;
        step.ramp_secs = ramp.as_secs_f64();
        step.offered_runs_per_sec = offered;
        step.interrupted = self.on.stop.interrupted().is_some();
        match level_of(level, rate_step) {
            (Some(rate), _) => step.rate = Some(rate),
            (None, users) => {
                step.users = users;
                step.shard_users = (!self.shard.is_whole()).then(|| self.shard.share(users));
            }
        }
        if let Some(Decision::NotSustainable(why)) = &decision {
            step.not_sustainable = true;
            step.failed_rule = Some(format!("not sustainable: {why}"));
        }
        if decision.is_some() {
            judge(&self.plan.sla, &mut step);
            self.remember(&step, level);
        }
        Some(step)
    }

    /// Holds the step from now: a first look halfway through the hold (only a queue growing
    /// past the SLA fails it then), then every quarter of a hold from its end until a look
    /// decides. A shard's step is held until its slot ends and kept as measured (`None`).
    async fn hold(
        &mut self,
        text: &str,
        began: f64,
        expect: &Expect,
        session: Option<f64>,
        holding: Holding,
    ) -> Option<(StepResult, Option<Decision>)> {
        let start = self.now();
        self.on.collector.hold_begins();
        // Near the measured ceiling a steady look counts only once a queue could settle.
        let settle = ceiling::settle(
            expect.offered_runs_per_sec,
            ceiling::ceiling(&self.seen).as_ref(),
        );
        let settle = settle.as_ref().map(|(secs, why)| (*secs, why.as_str()));
        let hold = self.plan.capacity.step_hold.0.as_secs_f64();
        let max_hold = self
            .plan
            .capacity_max_hold(session.map(Duration::from_secs_f64))
            .as_secs_f64();
        let tick = (hold / 4.0).max(1.0);
        let mut look_at = match holding {
            Holding::Extend => start + hold / 2.0,
            Holding::Until { hold_end, .. } => start + (hold_end - Instant::now()).as_secs_f64(),
        };
        loop {
            let due = Instant::now() + Duration::from_secs_f64((look_at - self.now()).max(0.0));
            self.wait_until(due).await?;
            let (now, held) = (self.now(), self.now() - start);
            let look = self.look_back(began, start, now, expect);
            let mut step = look.step;
            step.held_secs = held;
            if let Holding::Until { .. } = holding {
                return Some((step, None));
            }
            let st = step.steadiness.clone().unwrap_or_default();
            if held + 1e-6 < hold {
                // A partial hold only ever fails a step whose queue grows well past the SLA.
                if let (false, true, false, Some(rule)) =
                    (st.steady, st.worsening, look.near, &look.broken)
                {
                    let why = format!("{} over the hold, and {rule}", st.moved.join(", "));
                    return Some((step, Some(Decision::NotSustainable(why))));
                }
                look_at = start + hold;
                continue;
            }
            let broken = look.broken.as_deref();
            match steady::decide(&st, broken, look.near, held, tick, max_hold, settle) {
                Decision::Extend(why) => {
                    self.say(format!("{text}: after {held:.0} s, {why}: held longer"));
                    look_at = now + tick;
                }
                decision => return Some((step, Some(decision))),
            }
        }
    }

    /// The figures a look judges: the whole hold so far when it was steady throughout (the
    /// most runs, the surest figures), else its last `step_hold` seconds; with the SLA rule
    /// they break, and whether a run-time figure is near its limit.
    fn look_back(&self, began: f64, start: f64, now: f64, expect: &Expect) -> Look {
        let hold = self.plan.capacity.step_hold.0.as_secs_f64();
        let window = |from: f64| {
            let mut step = window::figures(&self.on, self.plan, &self.looks, began, from, now);
            let hold = step.hold.as_ref().expect("a window has its hold");
            step.steadiness = Some(steady::steadiness(hold, expect));
            step
        };
        let whole = window(start);
        let steady_whole = whole.steadiness.as_ref().is_some_and(|s| s.steady);
        let step = match steady_whole || now - start <= hold + 1e-6 {
            true => whole,
            false => window(now - hold),
        };
        let mut judged = step.clone();
        judge(&self.plan.sla, &mut judged);
        Look {
            broken: (!judged.passed).then(|| judged.failed_rule.clone().unwrap_or_default()),
            near: steady::near_limit(&self.plan.sla, &step),
            step,
        }
    }

    /// The load ends: the search has its answer (runs in flight get the grace). The runs each
    /// step began, from its start to the next step's (the last's to the load's end), are
    /// filled in once the load has ended, by `runs_started`.
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
        let c = &self.on.collector;
        let (begun, ended) = c.runs_begun_ended();
        let look = Sample {
            at: c.now_secs(),
            begun,
            ended,
            sessions_open: c.sessions_now().1,
        };
        // What a step needs goes back at most its longest hold: older looks are dropped.
        let keep = 4.0 * self.plan.capacity_max_hold(None).as_secs_f64() + 60.0;
        if self.looks.first().is_some_and(|l| l.at < look.at - keep) {
            self.looks.retain(|l| l.at >= look.at - keep / 2.0);
        }
        self.looks.push(look);
    }

    /// After a failed step, back to the highest level below `next` that held (or none) until
    /// runs in flight and sessions open are back near where they were: the next, lower step
    /// starts from a state it could hold, not from the failed step's queue.
    async fn cool_down(&mut self, next: f64) -> Option<()> {
        let (level, in_flight, sessions) = self
            .passes
            .iter()
            .copied()
            .filter(|p| p.0 < next)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or_default();
        self.live.level.move_to(level, Duration::ZERO);
        let limit = Instant::now() + self.plan.capacity_max_hold(None);
        self.say("back to the last level that held until its queue drains".into());
        loop {
            self.wait_until((Instant::now() + LOOK_EVERY).min(limit))
                .await?;
            let last = self.looks.last().copied().unwrap_or_default();
            let flight = last.begun.saturating_sub(last.ended) as f64;
            let drained = flight <= (1.5 * in_flight).max(2.0)
                && last.sessions_open as f64 <= 1.2 * sessions + 3.0;
            if drained || Instant::now() >= limit {
                self.failed_last = false;
                return Some(());
            }
        }
    }

    fn remember(&mut self, step: &StepResult, level: f64) {
        self.seen.extend(Held::of(step));
        self.failed_last = !step.passed;
        let local = self.local(level);
        // A level that failed (held again, say) takes the passes at or above it with it.
        self.passes.retain(|p| p.0 < local);
        if step.passed {
            let st = step.steadiness.clone().unwrap_or_default();
            let mean = |h: [f64; 2]| (h[0] + h[1]) / 2.0;
            self.passes
                .push((local, mean(st.in_flight), mean(st.sessions_open)));
        }
    }

    /// A rate step not run: what it offers is beyond the measured ceiling.
    fn not_run(&mut self, level: f64, offered: f64, why: String) -> StepResult {
        self.failed_last = true;
        let local = self.local(level);
        self.passes.retain(|p| p.0 < local);
        StepResult {
            rate: Some(level),
            offered_runs_per_sec: Some(offered),
            skipped: true,
            not_sustainable: true,
            failed_rule: Some(format!("not sustainable: {why}")),
            ..Default::default()
        }
    }

    fn expect(&self, level: f64, offered: Option<f64>, session: Option<f64>) -> Expect {
        let ms = |d: Option<crate::plan::Dur>| d.map(|d| d.0.as_secs_f64() * 1000.0);
        Expect {
            offered_runs_per_sec: offered,
            rate: offered.map(|_| level),
            turns_dispersion: self.turns().dispersion(),
            session_secs: session.or(self.plan.session_estimate().map(|d| d.as_secs_f64())),
            run_p95_limit_ms: ms(self.plan.sla.agent_run_p95),
            first_turn_p95_limit_ms: ms(self.plan.sla.first_turn_p95),
        }
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

/// Each step's runs started: from its start to the next step's, the last one's to `total`
/// (the runs begun by the load's end). `spans` are `finish`'s, in the order the steps ran.
/// A level held twice (the answer held again) counts both spans.
pub fn runs_started(steps: &mut [StepResult], spans: &[(f64, u64)], total: u64) {
    steps.iter_mut().for_each(|s| s.runs_started = 0);
    for (i, (level, begun)) in spans.iter().enumerate() {
        let next = spans.get(i + 1).map_or(total, |s| s.1);
        if let Some(step) = steps.iter_mut().find(|s| s.level() == *level) {
            step.runs_started += next.saturating_sub(*begun);
        }
    }
}

fn level_text(level: f64, rate: bool) -> String {
    match rate {
        true => format!("{}/s", crate::model::capacity::round3(level)),
        false => format!("{} users", level.round()),
    }
}

/// A level as a rate step's rate, or a user step's users.
fn level_of(level: f64, rate: bool) -> (Option<f64>, usize) {
    match rate {
        true => (Some(level), 0),
        false => (None, level.round() as usize),
    }
}
