//! Arrivals on a live rate (a capacity search's one load): unit steps along the integral of
//! the level, exponential ones for Poisson arrivals, whole ones for constant arrivals. When
//! the level moves, the step under way is re-timed from that moment on the new ramp, so the
//! arrivals follow the level however often it moves. They end when the load is stopped.

use super::of_plan::Arrivals;
use super::pool::{Pool, Ticket};
use crate::load::level::Level;
use crate::load::stop::Stop;
use crate::measure::collector::Collector;
use crate::plan::Distribution;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

/// Feeds `pool` with `share` of the level's arrivals until the load stops.
pub(super) async fn feed(
    arrivals: &Arrivals,
    level: &Level,
    share: f64,
    pool: &Pool,
    collector: &Collector,
    stop: &Stop,
) {
    let mut draws = rand::rngs::StdRng::seed_from_u64(arrivals.seed);
    let mut steps = rand::rngs::StdRng::seed_from_u64(arrivals.seed.rotate_left(17));
    let mut watch = level.watch();
    collector.arrivals_began(collector.now_secs(), 0.0, 0.0);
    // Constant arrivals of a shard sit at its offset along the integral (shards interleave).
    let mut left = match arrivals.distribution {
        Distribution::Poisson => unit_exponential(&mut steps),
        Distribution::Constant => arrivals.offset,
    };
    let mut from = Instant::now();
    let mut number = 0;
    loop {
        let due = loop {
            let ramp = *watch.borrow_and_update();
            let due = ramp.time_of(from, left / share.max(1e-12));
            let wait = async {
                match due {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = wait => break due.unwrap_or(from),
                moved = watch.changed() => {
                    if moved.is_err() {
                        pool.close();
                        return;
                    }
                    // What the old ramp delivered until now counts; the rest is on the new one.
                    let now = Instant::now();
                    left -= share * ramp.integral(from, now);
                    from = now;
                }
                (count, run_secs) = level.population.asked() => {
                    let warm = Warm { count: count * share, run_secs, first: number };
                    number += start_warm(arrivals, warm, pool, collector, &mut steps);
                }
                () = stop.asked() => {
                    pool.close();
                    return;
                }
            }
        };
        let taken = pool.offer(arrivals.ticket(number, due, &mut draws));
        collector.session_arrived(collector.now_secs(), !taken);
        number += 1;
        from = due;
        left = match arrivals.distribution {
            Distribution::Poisson => unit_exponential(&mut steps),
            Distribution::Constant => 1.0,
        };
    }
}

/// Sessions to start part-way: how many (a Poisson count's mean), drawn with runs of
/// `run_secs`, numbered from `first` on (numbers are identities: shared with arrivals).
struct Warm {
    count: f64,
    run_secs: f64,
    first: usize,
}

/// Starts `warm`'s sessions part-way (the live rate rose), each as a steady load holds it,
/// offered to the pool as an arrival now (dropped, and counted, when no pool user is idle):
/// how many numbers it took.
fn start_warm(
    arrivals: &Arrivals,
    warm: Warm,
    pool: &Pool,
    collector: &Collector,
    rng: &mut impl Rng,
) -> usize {
    let now = Instant::now();
    let count = poisson(warm.count, rng);
    for i in 0..count {
        let Some(resume) = arrivals.warm.draw(warm.run_secs, rng) else {
            continue;
        };
        let ticket = Ticket {
            number: warm.first + i,
            scenario: arrivals.scenario_at(rng.random()),
            turns: resume.turns,
            scheduled: now,
            resume: Some(resume),
        };
        let taken = pool.offer(ticket);
        collector.session_arrived(collector.now_secs(), !taken);
    }
    count
}

/// A Poisson count of mean `mean` (by its exponential gaps: means here are hundreds at most).
fn poisson(mean: f64, rng: &mut impl Rng) -> usize {
    let (mut n, mut at) = (0, unit_exponential(rng));
    while at < mean {
        n += 1;
        at += unit_exponential(rng);
    }
    n
}

/// `-ln(1 - u)`, u in `[0, 1)`.
fn unit_exponential(rng: &mut impl Rng) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::level::Knob;
    use crate::plan::Turns;
    use std::sync::Arc;
    use std::time::Duration;

    fn arrivals(distribution: Distribution) -> Arrivals {
        Arrivals {
            schedule: super::super::schedule::Schedule::new(&[], 1.0),
            distribution,
            offset: 0.5,
            seed: 3,
            turns: Turns::default(),
            warm: super::super::warm::Warm {
                turns: Turns::default(),
                think: crate::plan::Think::parse("1s").unwrap(),
            },
            weights: vec![1],
            drain: Duration::ZERO,
            live: None,
        }
    }

    /// A feeder of `share` of a live level's arrivals into a pool nobody takes from.
    fn feeding(
        distribution: Distribution,
        share: f64,
    ) -> (
        Arc<Level>,
        Arc<Collector>,
        Arc<Stop>,
        tokio::task::JoinHandle<()>,
    ) {
        let level = Arc::new(Level::new(Knob::Rate));
        let pool = Arc::new(Pool::new(1));
        let collector = Arc::new(Collector::default());
        collector.expect_sessions("open");
        let stop = Arc::new(Stop::default());
        let feeder = {
            let (level, collector, stop) = (level.clone(), collector.clone(), stop.clone());
            tokio::spawn(async move {
                let a = arrivals(distribution);
                feed(&a, &level, share, &pool, &collector, &stop).await;
            })
        };
        (level, collector, stop, feeder)
    }

    /// Counts the arrivals due while the level moves: 10/s for 10 s, then 30/s for 10 s.
    #[tokio::test(start_paused = true)]
    async fn arrivals_follow_the_level_as_it_moves() {
        let (level, collector, stop, feeder) = feeding(Distribution::Constant, 1.0);
        level.move_to(10.0, Duration::ZERO);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let first = collector.sessions_now().0;
        level.move_to(30.0, Duration::ZERO);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let both = collector.sessions_now().0;
        stop.request("SIGTERM", 20.0);
        feeder.await.unwrap();
        // Constant arrivals: exactly 10 a second, then 30 (the one under way re-timed).
        assert!((first as i64 - 100).abs() <= 1, "{first}");
        assert!((both as i64 - first as i64 - 300).abs() <= 2, "{both}");
        // Nobody in the pool was idle: every arrival was dropped, and counted.
        let s = collector.snapshot().sessions.unwrap();
        assert_eq!(s.dropped, s.arrived);
    }

    #[tokio::test(start_paused = true)]
    async fn poisson_arrivals_on_a_ramp_have_the_ramps_count() {
        let (level, collector, stop, feeder) = feeding(Distribution::Poisson, 0.5);
        // 0 → 100/s over 100 s: 5,000 due; half of this shard's share.
        level.move_to(100.0, Duration::from_secs(100));
        tokio::time::sleep(Duration::from_secs(100)).await;
        stop.request("SIGTERM", 100.0);
        feeder.await.unwrap();
        let n = collector.sessions_now().0 as f64;
        // 2,500 planned: within 4 standard deviations (√2500 = 50).
        assert!((n - 2500.0).abs() < 200.0, "{n}");
    }
}
