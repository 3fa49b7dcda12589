//! The open model's arrivals: a feeder beside the attack sleeps until each scheduled arrival
//! and hands it to an idle user of the pool (Goose users waiting for sessions), or drops and
//! counts it. Arrivals never wait for the platform: when it slows, sessions pile up in the
//! pool, then arrivals are dropped, and both show. Once the last arrival is in and every
//! session has ended, the attack ends (Goose's test plan only bounds it).

mod moving_rate;
pub mod pool;
pub mod schedule;
pub mod warm;

use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use crate::plan::{Plan, Shard, Turns};
use pool::{Pool, Ticket};
use rand::{Rng, SeedableRng};
use schedule::Schedule;
use std::sync::Arc;
use std::time::Duration;

/// How long the feeder waits for the pool's users to be up before the first arrival.
const LAUNCH_LIMIT: Duration = Duration::from_secs(60);

/// What the feeder needs of the plan, for this shard.
pub struct Arrivals {
    pub schedule: Schedule,
    pub distribution: crate::plan::Distribution,
    /// Constant arrivals sit at Λ = k + offset: shards interleave.
    pub offset: f64,
    pub seed: u64,
    pub turns: Turns,
    /// How sessions go (turns, pauses): what a session started part-way is drawn from.
    pub warm: warm::Warm,
    /// The mix's weights: each arrival's scenario is drawn by them.
    pub weights: Vec<u64>,
    pub drain: Duration,
    /// A live load: arrivals follow this level (test-wide sessions per second, `share` of it
    /// here) instead of the schedule, until the load is stopped.
    pub live: Option<(Arc<crate::load::level::Level>, f64)>,
}

impl Arrivals {
    /// The plan's arrivals as `shard` runs them: its share of every rate.
    pub fn of(plan: &Plan, shard: Shard) -> Arrivals {
        let share = 1.0 / shard.count as f64;
        // A given seed gives each shard its own (still repeatable) arrivals.
        let seed = plan.workload.seed.map_or_else(rand::random, |s| {
            s ^ (shard.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        Arrivals {
            schedule: Schedule::new(&plan.arrivals, share),
            distribution: plan.workload.distribution,
            offset: (shard.index as f64 + 0.5) / shard.count as f64,
            seed,
            turns: plan.session.unwrap_or_default().turns,
            warm: warm::Warm {
                turns: plan.session.unwrap_or_default().turns,
                think: plan.scenario.think_time,
            },
            weights: plan.mix().iter().map(|e| e.weight.max(1) as u64).collect(),
            drain: plan.workload.drain.0,
            live: None,
        }
    }

    /// The next arrival's ticket, drawn with `draws`.
    fn ticket(&self, number: usize, due: tokio::time::Instant, draws: &mut impl Rng) -> Ticket {
        Ticket {
            number,
            scenario: self.scenario_at(draws.random()),
            turns: self.turns.draw_with(draws.random()),
            scheduled: due,
            resume: None,
        }
    }

    /// The index of a weight picked at `u` in `[0, 1)`.
    fn scenario_at(&self, u: f64) -> usize {
        let total: u64 = self.weights.iter().sum();
        let mut at = (u * total as f64) as u64;
        for (i, w) in self.weights.iter().enumerate() {
            if at < *w {
                return i;
            }
            at -= w;
        }
        self.weights.len().saturating_sub(1)
    }
}

/// The feeder task.
pub struct Feeder {
    task: tokio::task::JoinHandle<()>,
}

impl Feeder {
    pub fn start(
        arrivals: Arrivals,
        pool: Arc<Pool>,
        collector: Arc<Collector>,
        stop: Arc<Stop>,
    ) -> Feeder {
        let task = tokio::spawn(feed(arrivals, pool, collector, stop));
        Feeder { task }
    }

    /// Stops feeding (the attack is over).
    pub async fn finish(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

async fn feed(arrivals: Arrivals, pool: Arc<Pool>, collector: Arc<Collector>, stop: Arc<Stop>) {
    let up = pool.all_up(LAUNCH_LIMIT).await;
    if up < pool.size() {
        eprintln!(
            "agentload: warning: {up} of the pool's {} users are up after {LAUNCH_LIMIT:?}: \
             arrivals start anyway",
            pool.size()
        );
    }
    if let Some((level, share)) = &arrivals.live {
        return moving_rate::feed(&arrivals, level, *share, &pool, &collector, &stop).await;
    }
    let origin = tokio::time::Instant::now();
    let origin_secs = collector.now_secs();
    let schedule = &arrivals.schedule;
    stop.begin(Duration::from_secs_f64(schedule.duration()) + arrivals.drain);
    collector.arrivals_began(origin_secs, schedule.duration(), schedule.planned());
    let mut draws = rand::rngs::StdRng::seed_from_u64(arrivals.seed);
    let mut times_rng = rand::rngs::StdRng::seed_from_u64(arrivals.seed.rotate_left(17));
    let times = schedule.times(arrivals.distribution, arrivals.offset, &mut times_rng);
    for (number, at) in times.enumerate() {
        let due = origin + Duration::from_secs_f64(at);
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            () = stop.asked() => break,
        }
        let taken = pool.offer(arrivals.ticket(number, due, &mut draws));
        collector.session_arrived(origin_secs + at, !taken);
    }
    pool.close();
    // Every arrival is in: the load is over once every session has ended (the drain cuts
    // their pauses short at its end).
    while pool.busy() > 0 {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
            () = stop.asked() => return,
        }
    }
    stop.end_now("every session of the open plan has ended");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_are_drawn_by_weight() {
        let a = Arrivals {
            schedule: Schedule::new(&[], 1.0),
            distribution: crate::plan::Distribution::Constant,
            offset: 0.5,
            seed: 0,
            turns: Turns::default(),
            warm: warm::Warm {
                turns: Turns::default(),
                think: crate::plan::Think::parse("1s").unwrap(),
            },
            weights: vec![7, 2, 1],
            drain: Duration::ZERO,
            live: None,
        };
        let picks: Vec<usize> = (0..10).map(|i| a.scenario_at(i as f64 / 10.0)).collect();
        assert_eq!(picks, vec![0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    }
}
