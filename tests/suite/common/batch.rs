//! The ground truth of a capacity search against a backend that batches (the reference
//! target's `--shared-capacity N`), beside a queue of N slots for comparison: a
//! discrete-event simulation, event by event. A run is `events` delays of `delay` seconds;
//! on the shared backend each delay, when it starts with k runs in flight (the run itself
//! included), lasts `delay × max(k, N) / N`, and nobody waits; on the queue a run waits for
//! one of N slots, then goes at full speed. Fed by an open plan's sessions (Poisson arrivals,
//! turns drawn uniformly, log-normal think times), or by a closed plan's users (each runs,
//! thinks a fixed time, runs again). A run's time adds the client's own overhead (what an
//! unloaded run takes beyond its delays). Run long enough, the P95 is the steady state's.

use super::queue::{self, Next, Plan, Sessions};
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// The backend: N, a run's events and the delay before each, the client's overhead (s).
#[derive(Debug, Clone, Copy)]
pub struct Backend {
    pub capacity: usize,
    pub shared: bool,
    pub events: u32,
    pub delay: f64,
    pub overhead: f64,
}

/// Who offers the runs.
#[derive(Debug, Clone, Copy)]
pub enum Load {
    /// Sessions arriving at `rate` per second.
    Open { rate: f64, sessions: Sessions },
    /// `users` that each think `think` seconds between runs.
    Closed { users: usize, think: f64 },
}

#[derive(Clone, Copy)]
enum Event {
    Arrival,
    /// A session's (or user's) next run; `left` turns after it (closed: unbounded).
    Turn {
        left: u32,
    },
    /// One of a run's delays ended; `done` delays so far.
    Step {
        left: u32,
        started: f64,
        done: u32,
    },
}

struct Sim {
    b: Backend,
    plan: Plan<Event>,
    in_flight: usize,
    waiting: VecDeque<(f64, u32)>,
}

impl Sim {
    fn push(&mut self, at: f64, event: Event) {
        self.plan.push(at, event);
    }

    /// A run's next delay begins now.
    fn delay(&mut self, now: f64, left: u32, started: f64, done: u32) {
        let n = self.b.capacity as f64;
        let stretch = match self.b.shared {
            true => (self.in_flight as f64).max(n) / n,
            false => 1.0,
        };
        let at = now + self.b.delay * stretch;
        self.push(
            at,
            Event::Step {
                left,
                started,
                done,
            },
        );
    }

    /// A run is asked for now: it begins, or (queue) waits for a slot.
    fn ask(&mut self, now: f64, left: u32) {
        if !self.b.shared && self.in_flight >= self.b.capacity {
            self.waiting.push_back((now, left));
            return;
        }
        self.in_flight += 1;
        self.delay(now, left, now, 0);
    }
}

/// The steady state's run-time P95 (seconds) under `load`: `secs` of simulated time after
/// `warm` seconds, with `seed`.
pub fn run_p95(b: Backend, load: Load, secs: f64, warm: f64, seed: u64) -> f64 {
    queue::p95_of(&run_times(b, load, secs, warm, seed))
}

/// The run times (seconds, sorted) of `secs` of simulated time after `warm` seconds.
fn run_times(b: Backend, load: Load, secs: f64, warm: f64, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut sim = Sim {
        b,
        plan: Plan::default(),
        in_flight: 0,
        waiting: VecDeque::new(),
    };
    match load {
        Load::Open { rate, .. } => {
            let gap = -(1.0 - rng.random::<f64>()).ln() / rate;
            sim.push(gap, Event::Arrival);
        }
        Load::Closed { users, think } => {
            // Users start spread over one think time, as a ramp would.
            for _ in 0..users {
                let at = rng.random::<f64>() * think.max(b.delay);
                sim.push(at, Event::Turn { left: u32::MAX });
            }
        }
    }
    let mut times = Vec::new();
    let end = warm + secs;
    while let Some(Next { at: now, event, .. }) = sim.plan.heap.pop() {
        if now > end {
            break;
        }
        match event {
            Event::Arrival => {
                let Load::Open { rate, sessions } = load else {
                    unreachable!("arrivals only in the open model")
                };
                let turns = rng.random_range(sessions.turns.0..=sessions.turns.1);
                sim.ask(now, turns - 1);
                let gap = -(1.0 - rng.random::<f64>()).ln() / rate;
                sim.push(now + gap, Event::Arrival);
            }
            Event::Turn { left } => sim.ask(now, left.saturating_sub(1)),
            Event::Step {
                left,
                started,
                done,
            } if done + 1 < b.events => sim.delay(now, left, started, done + 1),
            Event::Step { left, started, .. } => {
                if now >= warm {
                    times.push(now - started + b.overhead);
                }
                sim.in_flight -= 1;
                if let Some((asked, left)) = sim.waiting.pop_front() {
                    sim.in_flight += 1;
                    sim.delay(now, left, asked, 0);
                }
                let think = match load {
                    Load::Open { sessions: s, .. } if left > 0 => {
                        let sigma = (s.think_p95 / s.think_median).ln() / 1.644_853_6;
                        // Box–Muller: a standard normal, for the log-normal think time.
                        let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                        let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                        Some(s.think_median * (sigma * z).exp())
                    }
                    Load::Closed { think, .. } => Some(think),
                    Load::Open { .. } => None,
                };
                if let Some(think) = think {
                    sim.push(now + think, Event::Turn { left });
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    times
}

/// The open plan's rate (sessions per second) at which the steady state's run P95 reaches
/// `sla` seconds, by bisection between 0 and twice the rate that offers N runs per delay
/// chain (the shared backend has no hard ceiling; past it every run slows).
pub fn rate_limit(b: Backend, sessions: Sessions, sla: f64, secs: f64) -> f64 {
    let mean_turns = f64::from(sessions.turns.0 + sessions.turns.1) / 2.0;
    let full = b.capacity as f64 / (b.delay * f64::from(b.events)) / mean_turns;
    queue::crossing(2.0 * full, full, |rate| {
        let load = Load::Open { rate, sessions };
        run_p95(b, load, secs, secs / 4.0, 7) <= sla
    })
}

/// The most users of a closed plan whose steady run P95 stays within `sla` seconds.
pub fn users_limit(b: Backend, think: f64, sla: f64, secs: f64) -> usize {
    let within = |users| run_p95(b, Load::Closed { users, think }, secs, secs / 4.0, 7) <= sla;
    let (mut low, mut high) = (1usize, 2usize);
    while within(high) {
        (low, high) = (high, high * 2);
    }
    while high - low > 1 {
        let mid = (low + high) / 2;
        match within(mid) {
            true => low = mid,
            false => high = mid,
        }
    }
    low
}
