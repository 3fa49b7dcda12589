//! Sessions started part-way: when a live rate rises from r₀ to r₁, the sessions open at r₁
//! in steady state are (r₁ − r₀) × a session's mean length more than at r₀, and they are
//! not new: each is somewhere in its conversation. Started from their first turn, arrivals
//! take a session's whole length to fill the load (with people's think times, 99% of it
//! after ~4 minutes), and a step held before then measures less load than its rate offers.
//! So the feeder starts that many sessions as a steady load would hold them: each drawn in
//! proportion to its length (a longer session is open more often), cut at a uniform point
//! of it, and started from there: after what is left of its pause, with the turns left.

use crate::plan::{Think, Turns};
use rand::Rng;
use std::time::Duration;

/// Candidate sessions a warm one is resampled from, in proportion to their lengths.
const CANDIDATES: usize = 32;

/// How the plan's sessions go: their turns and the pauses between them.
#[derive(Debug, Clone, Copy)]
pub struct Warm {
    pub turns: Turns,
    pub think: Think,
}

/// Where a session started part-way picks up: after `wait`, its `turns` left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resume {
    pub wait: Duration,
    pub turns: u32,
}

/// One drawn session: its runs and pauses in order (run, pause, run, …, run), seconds.
fn session(w: &Warm, run_secs: f64, rng: &mut impl Rng) -> Vec<f64> {
    let turns = w.turns.draw_with(rng.random());
    let mut parts = Vec::with_capacity(2 * turns as usize);
    for turn in 1..=turns {
        parts.push(run_secs);
        if turn < turns {
            parts.push(w.think.draw(rng).as_secs_f64());
        }
    }
    parts
}

impl Warm {
    /// A session's mean length, with runs of `run_secs`.
    pub fn mean_secs(&self, run_secs: f64) -> f64 {
        let turns = self.turns.mean();
        turns * run_secs + (turns - 1.0) * self.think.mean().as_secs_f64()
    }

    /// A session open at a random moment of a steady load, and where it picks up; `None`
    /// when that moment is in its last run (nothing is left to start).
    pub fn draw(&self, run_secs: f64, rng: &mut impl Rng) -> Option<Resume> {
        let candidates: Vec<Vec<f64>> = (0..CANDIDATES)
            .map(|_| session(self, run_secs, rng))
            .collect();
        let lengths: Vec<f64> = candidates.iter().map(|c| c.iter().sum()).collect();
        let total: f64 = lengths.iter().sum();
        let mut pick = rng.random::<f64>() * total;
        let chosen = lengths
            .iter()
            .position(|l| {
                pick -= l;
                pick < 0.0
            })
            .unwrap_or(CANDIDATES - 1);
        let parts = &candidates[chosen];
        let at = rng.random::<f64>() * lengths[chosen];
        resume(parts, at)
    }
}

/// Where a session of `parts` (run, pause, run, …) picks up when cut `at` seconds in.
fn resume(parts: &[f64], at: f64) -> Option<Resume> {
    let runs = parts.len().div_ceil(2) as u32;
    let mut start = 0.0;
    for (i, len) in parts.iter().enumerate() {
        let end = start + len;
        if at < end || i + 1 == parts.len() {
            // Part i: run k = i / 2 + 1 (even i), or the pause after run k (odd i).
            let done = (i / 2 + 1) as u32;
            if done == runs {
                return None;
            }
            // Mid-run, it picks up after the run and its pause; mid-pause, after the pause.
            let next = match i % 2 {
                0 => end + parts[i + 1],
                _ => end,
            };
            return Some(Resume {
                wait: Duration::from_secs_f64((next - at).max(0.0)),
                turns: runs - done,
            });
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_session_cut_part_way_picks_up_at_its_next_turn() {
        // Three runs of 1 s, pauses of 10 s and 20 s: 0–1 run, 1–11 pause, 11–12 run,
        // 12–32 pause, 32–33 run.
        let parts = [1.0, 10.0, 1.0, 20.0, 1.0];
        assert_eq!(
            resume(&parts, 5.0),
            Some(Resume {
                wait: Duration::from_secs(6),
                turns: 2
            })
        );
        // Mid-run: after the run and its pause.
        let r = resume(&parts, 11.5).unwrap();
        assert_eq!(r.turns, 1);
        assert!((r.wait.as_secs_f64() - 20.5).abs() < 1e-9);
        // In the last run: nothing left to start.
        assert_eq!(resume(&parts, 32.5), None);
    }

    /// Run starts per second in `[from, to)` of a load of 1 session/s from time 0, with
    /// (`warm`) or without the sessions a steady load would hold at time 0; 100 loads.
    fn runs_per_sec(w: &Warm, warm: bool, from: f64, to: f64) -> f64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let run = 0.35;
        let mut starts = 0usize;
        // A session's turns from `at`: each run, then a pause.
        let mut follow = |mut at: f64, turns: u32, rng: &mut rand::rngs::StdRng| {
            for turn in 0..turns {
                if (from..to).contains(&at) {
                    starts += 1;
                }
                at += run;
                if turn + 1 < turns {
                    at += w.think.draw(rng).as_secs_f64();
                }
            }
        };
        for _ in 0..100 {
            if warm {
                for _ in 0..w.mean_secs(run).round() as usize {
                    if let Some(r) = w.draw(run, &mut rng) {
                        follow(r.wait.as_secs_f64(), r.turns, &mut rng);
                    }
                }
            }
            let mut at = 0.0;
            while at < to {
                at += -(1.0 - rng.random::<f64>()).ln();
                let turns = w.turns.draw_with(rng.random());
                follow(at, turns, &mut rng);
            }
        }
        starts as f64 / 100.0 / (to - from)
    }

    #[test]
    fn warm_sessions_offer_a_steady_loads_runs_from_the_first_second() {
        // Turns 3..8, pauses lognormal(15 s, p95 60 s): a steady load of 1 session/s holds
        // ~98 sessions open and begins 5.5 runs/s.
        let w = Warm {
            turns: Turns::parse("3..8").unwrap(),
            think: Think::parse("lognormal(15s, p95=60s)").unwrap(),
        };
        assert!(
            (w.mean_secs(0.35) - 98.0).abs() < 3.0,
            "{}",
            w.mean_secs(0.35)
        );
        for (from, to) in [(0.0, 30.0), (30.0, 90.0), (90.0, 240.0)] {
            let warm = runs_per_sec(&w, true, from, to);
            assert!(
                (warm / 5.5 - 1.0).abs() < 0.05,
                "{from}–{to} s: {warm:.2} runs/s"
            );
        }
        // Cold, the same load begins a third of that in its first half-minute, and is still
        // short after a minute and a half.
        let cold = runs_per_sec(&w, false, 0.0, 30.0);
        assert!(cold < 2.5, "{cold:.2}");
        assert!(runs_per_sec(&w, false, 30.0, 90.0) < 5.0);
    }
}
