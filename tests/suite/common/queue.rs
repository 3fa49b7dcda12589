//! The ground truth of a capacity search: a discrete-event simulation of the reference
//! target's queue (`--max-concurrent-runs` slots served first come, first served, each run
//! holding its slot for the same service time) fed by a plan's sessions (Poisson arrivals,
//! turns drawn uniformly, log-normal think times between a run's end and the next turn).
//! A run's time is its wait for a slot, the service, and the client's own overhead (what an
//! unloaded run takes beyond the service). Run long enough, its P95 is the steady state's.

use rand::{Rng, SeedableRng};
use std::collections::{BinaryHeap, VecDeque};

/// The queue: slots, the service time a run holds one, and the client's overhead (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Queue {
    pub slots: usize,
    pub service: f64,
    pub overhead: f64,
}

/// The plan's sessions (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Sessions {
    pub turns: (u32, u32),
    pub think_median: f64,
    pub think_p95: f64,
}

/// What happens next, and when (ordered by time, then by the order it was planned): the
/// simulations' clock (this queue's, and `batch`'s).
pub struct Next<E> {
    pub at: f64,
    order: u64,
    pub event: E,
}

impl<E> PartialEq for Next<E> {
    fn eq(&self, other: &Self) -> bool {
        self.order == other.order
    }
}
impl<E> Eq for Next<E> {}
impl<E> PartialOrd for Next<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Next<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.order)
            .partial_cmp(&(self.at, self.order))
            .expect("finite times")
    }
}

#[derive(Clone, Copy)]
enum Event {
    Arrival,
    /// A run ends; its session has `left` turns after it.
    Done {
        left: u32,
        entered: f64,
    },
    /// A session's next turn, after its think time.
    Turn {
        left: u32,
    },
}

/// The plan of what happens next: events by time, ties in the order they were planned.
pub struct Plan<E> {
    pub heap: BinaryHeap<Next<E>>,
    planned: u64,
}

impl<E> Default for Plan<E> {
    fn default() -> Self {
        Plan {
            heap: BinaryHeap::new(),
            planned: 0,
        }
    }
}

impl<E> Plan<E> {
    pub fn push(&mut self, at: f64, event: E) {
        self.planned += 1;
        self.heap.push(Next {
            at,
            order: self.planned,
            event,
        });
    }
}

/// The steady state's run-time P95 (seconds) at `rate` sessions per second: `secs` of
/// simulated time after `warm` seconds, with `seed` (the same seed at every rate: the curve
/// is smooth in the rate).
pub fn run_p95(q: Queue, s: Sessions, rate: f64, secs: f64, warm: f64, seed: u64) -> f64 {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let sigma = (s.think_p95 / s.think_median).ln() / 1.644_853_6;
    let gap = |rng: &mut rand::rngs::StdRng| -(1.0 - rng.random::<f64>()).ln() / rate;
    let mut plan = Plan::default();
    plan.push(gap(&mut rng), Event::Arrival);
    let mut busy = 0usize;
    let mut waiting: VecDeque<(f64, u32)> = VecDeque::new();
    let mut times = Vec::new();
    let end = warm + secs;
    while let Some(Next { at: now, event, .. }) = plan.heap.pop() {
        if now > end {
            break;
        }
        // A run enters the queue now, its session having `left` turns after it.
        let mut enter = |left: u32, plan: &mut Plan<Event>| {
            if busy < q.slots {
                busy += 1;
                plan.push(now + q.service, Event::Done { left, entered: now });
            } else {
                waiting.push_back((now, left));
            }
        };
        match event {
            Event::Arrival => {
                let turns = rng.random_range(s.turns.0..=s.turns.1);
                enter(turns - 1, &mut plan);
                plan.push(now + gap(&mut rng), Event::Arrival);
            }
            Event::Turn { left } => enter(left - 1, &mut plan),
            Event::Done { left, entered } => {
                if now >= warm {
                    times.push(now - entered + q.overhead);
                }
                if left > 0 {
                    // Box–Muller: a standard normal, for the log-normal think time.
                    let (u, v): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
                    let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                    let think = s.think_median * (sigma * z).exp();
                    plan.push(now + think, Event::Turn { left });
                }
                match waiting.pop_front() {
                    Some((entered, left)) => {
                        plan.push(now + q.service, Event::Done { left, entered })
                    }
                    None => busy -= 1,
                }
            }
        }
    }
    times.sort_by(f64::total_cmp);
    p95_of(&times)
}

/// The P95 of sorted run `times` (nearest rank): what the simulations compare with an SLA; no
/// run at all is within no limit.
pub fn p95_of(sorted: &[f64]) -> f64 {
    let rank = ((sorted.len().max(1) - 1) as f64 * 0.95).round() as usize;
    sorted.get(rank).copied().unwrap_or(f64::INFINITY)
}

/// The rate in `[0, top]` where `within(rate)` stops holding, by bisection to a 500th of
/// `scale` (the 100%-utilization rate).
pub fn crossing(top: f64, scale: f64, within: impl Fn(f64) -> bool) -> f64 {
    let (mut low, mut high) = (0.0, top);
    while high - low > scale * 0.002 {
        let mid = (low + high) / 2.0;
        match within(mid) {
            true => low = mid,
            false => high = mid,
        }
    }
    (low + high) / 2.0
}

/// The rate (sessions per second) at which the steady state's run P95 reaches `sla` seconds,
/// found by bisection between 0 and the 100%-utilization rate.
pub fn limit(q: Queue, s: Sessions, sla: f64, secs: f64) -> f64 {
    let mean_turns = f64::from(s.turns.0 + s.turns.1) / 2.0;
    let full = q.slots as f64 / q.service / mean_turns;
    crossing(full, full, |rate| {
        run_p95(q, s, rate, secs, secs / 4.0, 7) <= sla
    })
}
