use super::*;
use rand::{Rng, SeedableRng};
use std::collections::BinaryHeap;

/// A queue of `slots` servers, each run holding one for `service` seconds, first come first
/// served, runs arriving as a Poisson process of `rate`: the run times (s) of the runs that
/// end in `[warm, warm + secs)`, with their end (s from `warm`), in the order they end.
fn queue(
    rate: f64,
    slots: usize,
    service: f64,
    warm: f64,
    secs: f64,
    seed: u64,
) -> Vec<(f64, f64)> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    // Servers' free times, earliest first (a max-heap of negated times).
    let mut free: BinaryHeap<std::cmp::Reverse<u64>> =
        (0..slots).map(|_| std::cmp::Reverse(0)).collect();
    let mut at = 0.0;
    let mut runs = Vec::new();
    let micros = |s: f64| (s * 1e6) as u64;
    while at < warm + secs {
        at += -(1.0 - rng.random::<f64>()).ln() / rate;
        let std::cmp::Reverse(f) = free.pop().expect("slots");
        let start = at.max(f as f64 / 1e6);
        let end = start + service;
        free.push(std::cmp::Reverse(micros(end)));
        if (warm..warm + secs).contains(&end) {
            runs.push((end - warm, end - at));
        }
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs
}

/// The runs in slices of half a second of `secs`: the finest a hold is cut into.
fn slices(runs: &[(f64, f64)], secs: f64) -> Vec<Vec<f64>> {
    sliced(runs, secs, 0.5)
}

/// The runs' times (ms) in slices of `width` seconds.
fn sliced(runs: &[(f64, f64)], secs: f64, width: f64) -> Vec<Vec<f64>> {
    let mut slices = vec![Vec::new(); (secs / width) as usize];
    for (end, time) in runs {
        let i = ((*end / width) as usize).min(slices.len() - 1);
        slices[i].push(time * 1000.0);
    }
    slices
}

fn true_p95(rate: f64) -> f64 {
    let mut times: Vec<f64> = queue(rate, 8, 0.31, 300.0, 20_000.0, 99)
        .into_iter()
        .map(|r| r.1)
        .collect();
    times.sort_by(f64::total_cmp);
    times[(times.len() as f64 * 0.95) as usize] * 1000.0
}

/// How many of 100 holds of `secs` at `rate` have a 90% interval that contains the true P95.
fn coverage(rate: f64, secs: f64) -> (usize, f64) {
    let truth = true_p95(rate);
    let covered = (0..100)
        .filter(|seed| {
            let runs = queue(rate, 8, 0.31, 300.0, secs, *seed);
            let q = quantile(&slices(&runs, secs), 0.95).expect("runs");
            // The histogram's precision (3 significant figures) on either side.
            q.low_ms <= truth * 1.001 && q.high_ms.is_none_or(|h| h >= truth * 0.999)
        })
        .count();
    (covered, truth)
}

#[test]
fn a_90_percent_interval_covers_the_true_p95_of_a_correlated_queue() {
    // 8 slots of 0.31 s at 78% (a minute held) and 89% utilization (two minutes), in slices
    // of half a second: runs that end together waited together, and the queue remembers for
    // seconds.
    for (rate, secs) in [(20.0, 60.0), (23.0, 120.0)] {
        let (covered, truth) = coverage(rate, secs);
        assert!(
            covered >= 85,
            "{rate}/s over {secs} s: {covered} of 100 cover {truth:.0} ms"
        );
    }
}

#[test]
fn runs_taken_as_independent_would_not_cover_it() {
    // The same holds with D = 1 (each run counted as independent) miss the truth far more
    // often: what the design effect is for.
    let (rate, secs) = (23.0, 120.0);
    let truth = true_p95(rate);
    let covered = (0..100)
        .filter(|seed| {
            let runs = queue(rate, 8, 0.31, 300.0, secs, *seed);
            // One slice: no correlation can be read, every run counts.
            let one = [pool(&slices(&runs, secs))];
            let q = quantile(&one, 0.95).unwrap();
            q.low_ms <= truth && q.high_ms.is_none_or(|h| h >= truth)
        })
        .count();
    assert!(covered < 70, "{covered} of 100");
}

#[test]
fn too_few_independent_runs_cannot_bound_a_p95_from_above() {
    // 0.95^59 = 4.8%: the largest of 59 independent runs bounds the P95; of 58 it does not.
    assert_eq!(binomial_ranks(59, 0.95, 0.05).1, Some(59));
    assert_eq!(binomial_ranks(58, 0.95, 0.05).1, None);
    // 200 independent runs: both ends are order statistics around rank 190.
    let (low, high) = binomial_ranks(200, 0.95, 0.05);
    let (low, high) = (low.unwrap(), high.unwrap());
    assert!(low < 190 && high > 190 && high <= 200, "{low} {high}");
    let uniform: Vec<f64> = (1..=40).map(f64::from).collect();
    let q = quantile(&[uniform], 0.95).unwrap();
    assert_eq!(q.high_ms, None);
    assert!(q.point_ms >= 38.0 && q.low_ms <= q.point_ms);
}

#[test]
fn the_binomial_tails_are_exact() {
    // Bin(10, 0.5): P(B ≤ 1) = 11/1024 ≤ 0.025 < P(B ≤ 2) = 56/1024: the lower rank is 2.
    let (low, high) = binomial_ranks(10, 0.5, 0.025);
    assert_eq!(low, Some(2));
    // P(B ≥ 9) = 11/1024 ≤ 0.025 < P(B ≥ 8): the upper rank is 9.
    assert_eq!(high, Some(9));
    let cdf = binomial_cdf(10, 0.5);
    assert!((cdf[1] - 11.0 / 1024.0).abs() < 1e-12);
    assert!((cdf[10] - 1.0).abs() < 1e-12);
    assert!((normal_quantile(0.95) - 1.644_853_6).abs() < 1e-6);
    assert!((normal_quantile(0.025) + 1.959_964).abs() < 1e-5);
}

#[test]
fn a_queue_that_fills_differs_between_halves_and_a_steady_one_does_not() {
    // Steady at 78%: the halves' P95s differ by chance only (at most a few seeds of 50).
    let steady = (0..50)
        .filter(|seed| {
            let runs = queue(20.0, 8, 0.31, 300.0, 60.0, 1000 + seed);
            halves_differ(&slices(&runs, 60.0), 0.95).unwrap().0
        })
        .count();
    assert!(steady <= 3, "{steady} of 50 steady holds read as moving");
    // Filling: the second half's runs take 60% longer.
    let runs = queue(20.0, 8, 0.31, 300.0, 60.0, 7);
    let filling: Vec<(f64, f64)> = runs
        .into_iter()
        .map(|(end, t)| (end, if end >= 30.0 { t * 1.6 } else { t }))
        .collect();
    let (moved, [a, b]) = halves_differ(&slices(&filling, 60.0), 0.95).unwrap();
    assert!(moved && b.point_ms > a.point_ms, "{a:?} → {b:?}");
}

#[test]
fn the_mean_has_an_interval_too() {
    let runs = queue(20.0, 8, 0.31, 300.0, 60.0, 3);
    let (mean, low, high) = mean(&slices(&runs, 60.0)).unwrap();
    assert!(
        low < mean && mean < high && low >= 310.0,
        "{low} {mean} {high}"
    );
}

#[test]
fn runs_far_under_the_limit_with_their_slowest_in_one_burst_are_bounded_by_their_largest() {
    // 30 slices of 8 runs of 311 ms ± 1 ms, a busy machine's hiccup making every run of one
    // slice 313 ms: at the point (312 ms) the slowest runs are one burst, a handful of
    // independent runs; at 313 ms every run is under, which 240 runs show.
    let slices: Vec<Vec<f64>> = (0..30)
        .map(|i| {
            (0..8)
                .map(|j| match i {
                    14 => 313.0,
                    _ => 310.0 + f64::from(j % 3),
                })
                .collect()
        })
        .collect();
    let q = quantile(&slices, 0.95).unwrap();
    assert!(
        q.effective_runs < 59.0,
        "{q:?}: the point's own ranks cannot bound it"
    );
    assert_eq!(q.high_ms, Some(313.0), "{q:?}");
    // Fewer than 59 runs bound no P95, at any run time.
    let s = quantile(&slices[..5], 0.95).unwrap();
    assert!(s.runs < 59 && s.high_ms.is_none(), "{s:?}");
}
