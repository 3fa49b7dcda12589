//! What the feeder needs of the plan, for this shard: the schedule, the distribution, the
//! seed, how sessions go, the mix's weights, a live level to follow.

use super::pool::Ticket;
use super::schedule::Schedule;
use super::warm;
use crate::plan::{Plan, Shard, Turns};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;

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
    pub(super) fn ticket(
        &self,
        number: usize,
        due: tokio::time::Instant,
        draws: &mut impl Rng,
    ) -> Ticket {
        Ticket {
            number,
            scenario: self.scenario_at(draws.random()),
            turns: self.turns.draw_with(draws.random()),
            scheduled: due,
            resume: None,
        }
    }

    /// The index of a weight picked at `u` in `[0, 1)`.
    pub(super) fn scenario_at(&self, u: f64) -> usize {
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
