//! The ground truth of a scaling study: a discrete-event simulation of the reference target's
//! replicas (`--replicas R --max-concurrent-runs N --contention-ms D --coherency-ms C`), event
//! by event. Sessions arrive at a rate (Poisson), each pinned when it arrives to the replica
//! with the fewest sessions open (ties: the lowest); each turn's run waits for one of its
//! replica's N slots (first come, first served), holds it for its events' delays, then, just
//! before its last event, waits for the one lock every replica shares (first come, first
//! served) and holds it D + C × (R − 1), its slot still held; then it ends and the session
//! thinks (log-normal) before its next turn. A run's time adds the client's overhead.

use super::queue::{self, Next, Plan, Sessions};
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// The deployment: replicas, slots each, a run's service (its events' delays), the lock's
/// hold (none: no lock), the client's overhead (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Deployment {
    pub replicas: usize,
    pub slots: usize,
    pub service: f64,
    pub lock: Option<f64>,
    pub overhead: f64,
}

#[derive(Clone, Copy)]
enum Event {
    Arrival,
    /// A session's next turn on its replica; `left` turns after it.
    Turn {
        session: usize,
        left: u32,
    },
    /// A run's service is over: it asks for the lock.
    Served {
        session: usize,
        left: u32,
        started: f64,
    },
    /// A run's lock hold is over: it ends.
    Done {
        session: usize,
        left: u32,
        started: f64,
    },
}

struct Sim {
    d: Deployment,
    plan: Plan<Event>,
    /// Each session's replica (`None`: ended).
    sessions: Vec<Option<usize>>,
    open: Vec<usize>,
    busy: Vec<usize>,
    waiting: Vec<VecDeque<(usize, u32, f64)>>,
    lock_busy: bool,
    lock_queue: VecDeque<(usize, u32, f64)>,
}

impl Sim {
    /// A run of `session` asks for a slot of its replica at `now`.
    fn ask(&mut self, now: f64, session: usize, left: u32) {
        let r = self.sessions[session].expect("an open session");
        if self.busy[r] < self.d.slots {
            self.busy[r] += 1;
            let started = now;
            self.plan.push(
                now + self.d.service,
                Event::Served {
                    session,
                    left,
                    started,
                },
            );
        } else {
            self.waiting[r].push_back((session, left, now));
        }
    }

    /// A run served at `now` takes the lock (or waits for it).
    fn lock(&mut self, now: f64, session: usize, left: u32, started: f64) {
        match self.d.lock {
            None => self.plan.push(
                now,
                Event::Done {
                    session,
                    left,
                    started,
                },
            ),
            Some(_) if self.lock_busy => self.lock_queue.push_back((session, left, started)),
            Some(hold) => {
                self.lock_busy = true;
                self.plan.push(
                    now + hold,
                    Event::Done {
                        session,
                        left,
                        started,
                    },
                );
            }
        }
    }
}

/// What a steady load of `rate` sessions/s does: the run-time P95 (s) and runs completed per
/// second, over `secs` of simulated time after `warm`.
pub fn run(d: Deployment, s: Sessions, rate: f64, secs: f64, warm: f64, seed: u64) -> (f64, f64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let sigma = (s.think_p95 / s.think_median).ln() / 1.644_853_6;
    let mut sim = Sim {
        d,
        plan: Plan::default(),
        sessions: Vec::new(),
        open: vec![0; d.replicas],
        busy: vec![0; d.replicas],
        waiting: vec![VecDeque::new(); d.replicas],
        lock_busy: false,
        lock_queue: VecDeque::new(),
    };
    let gap = |rng: &mut rand::rngs::StdRng| -(1.0 - rng.random::<f64>()).ln() / rate;
    let first = gap(&mut rng);
    sim.plan.push(first, Event::Arrival);
    let mut times = Vec::new();
    let end = warm + secs;
    while let Some(Next { at: now, event, .. }) = sim.plan.heap.pop() {
        if now > end {
            break;
        }
        match event {
            Event::Arrival => {
                let r = (0..d.replicas)
                    .min_by_key(|i| (sim.open[*i], *i))
                    .unwrap_or(0);
                sim.open[r] += 1;
                sim.sessions.push(Some(r));
                let turns = rng.random_range(s.turns.0..=s.turns.1);
                sim.ask(now, sim.sessions.len() - 1, turns - 1);
                let next = now + gap(&mut rng);
                sim.plan.push(next, Event::Arrival);
            }
            Event::Turn { session, left } => sim.ask(now, session, left),
            Event::Served {
                session,
                left,
                started,
            } => sim.lock(now, session, left, started),
            Event::Done {
                session,
                left,
                started,
            } => {
                if now >= warm {
                    times.push(now - started + d.overhead);
                }
                if d.lock.is_some() {
                    sim.lock_busy = false;
                    if let Some((s2, l2, t2)) = sim.lock_queue.pop_front() {
                        sim.lock(now, s2, l2, t2);
                    }
                }
                let r = sim.sessions[session].expect("an open session");
                match sim.waiting[r].pop_front() {
                    Some((s2, l2, asked)) => {
                        sim.plan.push(
                            now + d.service,
                            Event::Served {
                                session: s2,
                                left: l2,
                                started: asked,
                            },
                        );
                    }
                    None => sim.busy[r] -= 1,
                }
                if left > 0 {
                    let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                    let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                    let think = s.think_median * (sigma * z).exp();
                    sim.plan.push(
                        now + think,
                        Event::Turn {
                            session,
                            left: left - 1,
                        },
                    );
                } else {
                    sim.open[r] -= 1;
                    sim.sessions[session] = None;
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    (queue::p95_of(&times), times.len() as f64 / secs)
}

/// The rate (sessions/s) at which the steady state's run P95 reaches `sla` s, by bisection up
/// to what the slots complete at most.
pub fn limit(d: Deployment, s: Sessions, sla: f64, secs: f64) -> f64 {
    let mean_turns = f64::from(s.turns.0 + s.turns.1) / 2.0;
    let full = (d.replicas * d.slots) as f64 / d.service / mean_turns;
    queue::crossing(full, full, |rate| {
        run(d, s, rate, secs, secs / 4.0, 7).0 <= sla
    })
}
