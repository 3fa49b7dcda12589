//! The open model's arrivals: a feeder beside the attack sleeps until each scheduled arrival
//! and hands it to an idle user of the pool (Goose users waiting for sessions), or drops and
//! counts it. Arrivals never wait for the platform: when it slows, sessions pile up in the
//! pool, then arrivals are dropped, and both show. Once the last arrival is in and every
//! session has ended, the attack ends (Goose's test plan only bounds it).

mod moving_rate;
mod of_plan;
pub mod pool;
pub mod schedule;
pub mod warm;

pub use of_plan::Arrivals;

use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use pool::Pool;
use rand::SeedableRng;
use std::sync::Arc;
use std::time::Duration;

/// How long the feeder waits for the pool's users to be up before the first arrival.
const LAUNCH_LIMIT: Duration = Duration::from_secs(60);

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
    use crate::plan::Turns;
    use schedule::Schedule;

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
