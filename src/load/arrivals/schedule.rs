//! When sessions arrive: the plan's rate phases as a cumulative curve Λ(t) (the sessions due by
//! t), and arrival times drawn on it. Poisson arrivals are unit exponential steps along Λ (a
//! non-homogeneous Poisson process by time rescaling); constant ones are evenly spaced along
//! it. Pure: the feeder sleeps until each time.

use crate::plan::{Arrival, Distribution};
use rand::Rng;

/// One rate phase: from `start` seconds, `duration` long, rate going `from` → `to`.
#[derive(Debug, Clone, Copy)]
struct Phase {
    start: f64,
    duration: f64,
    from: f64,
    to: f64,
    /// Λ at the phase's start.
    before: f64,
}

impl Phase {
    fn arrivals(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.duration
    }

    /// Seconds into the phase at which `l` of its arrivals are due.
    fn time_of(&self, l: f64) -> f64 {
        let slope = (self.to - self.from) / (2.0 * self.duration);
        // The root of slope·τ² + from·τ = l, written to stay exact when the slope is ~0.
        let root = (self.from * self.from + 4.0 * slope * l).max(0.0).sqrt();
        match self.from + root {
            d if d > 0.0 => 2.0 * l / d,
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Schedule {
    phases: Vec<Phase>,
}

impl Schedule {
    /// The plan's phases, every rate scaled by `share` (a shard's part of the test).
    pub fn new(arrivals: &[Arrival], share: f64) -> Schedule {
        let (mut start, mut before) = (0.0, 0.0);
        let phases = arrivals
            .iter()
            .map(|a| {
                let phase = Phase {
                    start,
                    duration: a.duration.0.as_secs_f64(),
                    from: a.rate.0 * share,
                    to: a.end_rate() * share,
                    before,
                };
                start += phase.duration;
                before += phase.arrivals();
                phase
            })
            .collect();
        Schedule { phases }
    }

    /// The arrivals the schedule plans (Λ at its end).
    pub fn planned(&self) -> f64 {
        self.phases.last().map_or(0.0, |p| p.before + p.arrivals())
    }

    pub fn duration(&self) -> f64 {
        self.phases.last().map_or(0.0, |p| p.start + p.duration)
    }

    /// The planned rate at `t` seconds.
    pub fn rate_at(&self, t: f64) -> f64 {
        self.phases
            .iter()
            .find(|p| t >= p.start && t < p.start + p.duration)
            .map_or(0.0, |p| {
                p.from + (p.to - p.from) * (t - p.start) / p.duration
            })
    }

    /// When `l` arrivals are due; `None` past the schedule's end.
    pub fn time_of(&self, l: f64) -> Option<f64> {
        let phase = self
            .phases
            .iter()
            .find(|p| l >= p.before && l < p.before + p.arrivals())?;
        Some(phase.start + phase.time_of(l - phase.before).min(phase.duration))
    }

    /// The arrival times, seconds from the schedule's start, in order. Constant arrivals sit
    /// at Λ = k + `offset` (a shard's offset interleaves its arrivals with the others').
    pub fn times<'a, R: Rng>(
        &'a self,
        distribution: Distribution,
        offset: f64,
        rng: &'a mut R,
    ) -> impl Iterator<Item = f64> + 'a {
        let mut l = match distribution {
            Distribution::Poisson => 0.0,
            Distribution::Constant => offset - 1.0,
        };
        std::iter::from_fn(move || {
            l += match distribution {
                // A unit exponential step: -ln(1 - u), u in [0, 1).
                Distribution::Poisson => -(1.0 - rng.random::<f64>()).ln(),
                Distribution::Constant => 1.0,
            };
            self.time_of(l)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Dur, Rate};
    use rand::SeedableRng;

    fn phase(rate: f64, secs: u64, ramp_to: Option<f64>) -> Arrival {
        Arrival {
            rate: Rate(rate),
            duration: Dur::from_secs(secs),
            ramp_to: ramp_to.map(Rate),
        }
    }

    #[test]
    fn constant_arrivals_are_even_and_exact() {
        let s = Schedule::new(&[phase(2.0, 10, None)], 1.0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let times: Vec<f64> = s.times(Distribution::Constant, 0.5, &mut rng).collect();
        assert_eq!(times.len(), 20);
        assert!((times[0] - 0.25).abs() < 1e-9 && (times[1] - 0.75).abs() < 1e-9);
        // Three shards at a third of the rate each interleave into the whole's arrivals.
        let mut all: Vec<f64> = (0..3)
            .flat_map(|i| {
                let s = Schedule::new(&[phase(2.0, 10, None)], 1.0 / 3.0);
                let mut rng = rand::rngs::StdRng::seed_from_u64(1);
                let offset = (i as f64 + 0.5) / 3.0;
                s.times(Distribution::Constant, offset, &mut rng)
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(all.len(), 20);
        for (a, b) in all.iter().zip(&times) {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
    }

    #[test]
    fn a_ramp_puts_its_arrivals_where_its_rate_is() {
        // 0 → 4/s over 10 s: 20 arrivals, Λ(t) = t²/5, so half are due at √50 ≈ 7.07 s.
        let s = Schedule::new(&[phase(0.0, 10, Some(4.0)), phase(1.0, 5, None)], 1.0);
        assert_eq!(s.planned(), 25.0);
        assert!((s.time_of(10.0).unwrap() - 50f64.sqrt()).abs() < 1e-9);
        assert!((s.time_of(22.0).unwrap() - 12.0).abs() < 1e-9);
        assert_eq!(s.time_of(25.0), None);
        assert_eq!(s.rate_at(5.0), 2.0);
        assert_eq!(s.duration(), 15.0);
    }

    #[test]
    fn poisson_arrivals_have_the_planned_count_and_spread() {
        let s = Schedule::new(&[phase(50.0, 100, None)], 1.0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let times: Vec<f64> = s.times(Distribution::Poisson, 0.0, &mut rng).collect();
        // 5,000 planned: within 4 standard deviations (√5000 ≈ 71).
        assert!(
            (times.len() as f64 - 5000.0).abs() < 4.0 * 71.0,
            "{}",
            times.len()
        );
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        // Exponential gaps: the standard deviation equals the mean (1/50 s).
        assert!((mean - 0.02).abs() < 0.001, "{mean}");
        assert!(
            (var.sqrt() / mean - 1.0).abs() < 0.05,
            "{}",
            var.sqrt() / mean
        );
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
}
