//! What a hold's runs can show about a quantile of their run time (the SLA's P95, P99, the
//! first turn's P95), and whether two parts of a hold differ: pure, on the hold's runs sliced
//! by time, unit-tested on a simulated queue.
//!
//! **The interval assumes no distribution.** Its ends are order statistics of the hold's runs:
//! for `n` independent runs the `k`-th smallest lies under the true quantile `q` with the
//! probability that a Binomial(n, q) count reaches `k`, so the ranks whose binomial tails hold
//! `(1 − CONFIDENCE) / 2` each bound the quantile (exact binomial tails, no normal
//! approximation: near the knee a hold has the worth of a few dozen independent runs, where a
//! normal approximation of a 5% tail misses by half). With fewer than ~59 independent runs the
//! upper end is past the largest run: the runs cannot bound a P95 at all, and say so (`None`).
//!
//! **Runs in a queue are not independent.** Runs that end in the same second saw the same
//! queue, and a queue near saturation remembers for its relaxation time (seconds to minutes).
//! So the runs count for `n / D` independent ones, `D` the design effect of the indicator
//! "run time ≤ the point estimate", estimated on the hold's time slices as a spectral
//! variance at frequency zero under a first-order autoregression of the slices' residuals
//! (`c_i − p·n_i`): `D = S·γ₀ / (p(1−p)·n) · (1 + φ) / (1 − φ)`, φ the slices' lag-1
//! correlation. Batch means and Sokal's windowed autocorrelation were tried first (in a
//! simulation of 8 slots of 0.31 s at 78–95% utilization, 200 seeds each): both stopped
//! before the queue's slow memory and covered the true P95 in 66–84% of holds where 90% was
//! meant. The autoregression reads that memory from its first lag; φ is taken bias-corrected
//! (Marriott–Pope, `+(1 + 3φ)/S`) and one standard error high, since an estimate from a
//! few dozen slices errs low and a low φ is a false pass. So estimated, the 90% interval
//! covered 87.5–93.5% in the same simulation at 58–89% utilization over 30–240 s holds, in
//! slices of a second; in slices of half a second 86–93% (a quarter: 79% at 89%, too fine
//! for an autoregression of one lag: the slices a hold is cut into are half a second at
//! least) (`tests`: ≥ 85 of 100 seeds).
//!
//! **Where the point's slowest runs are one burst** (a busy machine's hiccup slows every run
//! of a second), they are a handful of independent runs at the point and the upper end is
//! unbounded, even when every run lies far under the limit. The upper end is then the
//! smallest run time the runs show the quantile under, each run time tested at its own
//! design effect (`upper_end`: the test the upper end stands for, inverted): a hold of 240
//! runs within 3 ms of 311 ms is bounded by its largest run, not unbounded against a limit
//! of a second.
//!
//! **What no interval can see.** A hold shorter than the load's own slow swings (sessions
//! open drift over a session's length) sees one state of them; the search accounts for that
//! by crediting a step's verdict to the load its hold carried, not to the rate it asked for
//! (`controller`), and the hold's steadiness (`steady`) judges whether it is settled.

/// The confidence of every interval the search states and decides on: two-sided, so each
/// end is a one-sided 95% bound (a step shown within the SLA is wrong at most one time in
/// twenty, in the worst case of a true P95 right at the limit).
pub const CONFIDENCE: f64 = 0.90;

/// Two halves differ when the shares of their runs under one run time differ by this many
/// standard errors.
pub const HALVES_Z: f64 = 3.0;

/// The most lag-1 correlation credited to a hold's slices: beyond it one episode spans the
/// hold, and `D` would divide by nearly nothing.
const PHI_MAX: f64 = 0.95;

/// A quantile of a hold's run times: the point estimate and its `CONFIDENCE` interval, ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    pub point_ms: f64,
    pub low_ms: f64,
    /// `None`: too few independent runs to bound it from above.
    pub high_ms: Option<f64>,
    pub runs: u64,
    /// The runs as independent ones (`runs / D`).
    pub effective_runs: f64,
}

/// A hold's run times (ms) by equal, consecutive time slices.
pub type Slices = [Vec<f64>];

/// A hold's runs by time slice: its run times, and its sessions' first turns (ms).
#[derive(Debug, Clone, Default)]
pub struct HoldRuns {
    pub runs: Vec<Vec<f64>>,
    pub first_turns: Vec<Vec<f64>>,
}

/// The `q` quantile of the runs in `slices`, with its interval; `None` when no run ended.
pub fn quantile(slices: &Slices, q: f64) -> Option<Quantile> {
    let pooled = pool(slices);
    let n = pooled.len() as u64;
    let point = at_quantile(&pooled, q)?;
    let d = design_effect(slices, point, n);
    let effective = (n as f64 / d).floor().max(1.0);
    let (k_low, k_high) = binomial_ranks(effective as u64, q, (1.0 - CONFIDENCE) / 2.0);
    // Ranks among the effective runs, as the same shares of the hold's runs.
    let low_rank = k_low.map(|k| ((k as f64 / effective) * n as f64).floor() as u64);
    let high_rank = k_high.map(|k| ((k as f64 / effective) * n as f64).ceil() as u64);
    let at_rank = |r: u64| (r >= 1 && r <= n).then(|| pooled[(r - 1) as usize]);
    let point_rank = pooled.partition_point(|x| *x < point) as u64 + 1;
    Some(Quantile {
        point_ms: point,
        low_ms: low_rank.and_then(|r| at_rank(r.max(1))).unwrap_or(0.0),
        high_ms: high_rank
            .and_then(at_rank)
            .or_else(|| upper_end(slices, &pooled, q, point_rank)),
        runs: n,
        effective_runs: effective,
    })
}

/// Where the runs' correlation at the point leaves the quantile unbounded from above, the
/// smallest run time the runs still show it under, each candidate tested at its own design
/// effect: the runs at or under it, counted as independent ones at that run time, reach the
/// upper rank of a Binomial(n_eff, q). Runs bunched in a burst (a busy machine's hiccup) are
/// few independent ones at the point, where the burst decides which runs are the slowest 5%,
/// and many at a run time over the burst; a hold of runs all within 2 ms of 311 ms is then
/// shown under its largest run, not left unbounded against a limit of a second. The test at
/// each run time is the one the interval's upper end stands for (inverted), so the bound
/// keeps its confidence; the first candidate tested is the point's upper rank's run.
fn upper_end(slices: &Slices, pooled: &[f64], q: f64, from_rank: u64) -> Option<f64> {
    let n = pooled.len() as u64;
    let shown_under = |rank: u64| {
        let v = pooled[(rank - 1) as usize];
        let under = pooled.partition_point(|x| *x <= v) as f64;
        let effective = (n as f64 / design_effect(slices, v, n)).floor().max(1.0);
        let (_, k_high) = binomial_ranks(effective as u64, q, (1.0 - CONFIDENCE) / 2.0);
        k_high.is_some_and(|k| under * effective / n as f64 >= k as f64)
    };
    if n == 0 || !shown_under(n) {
        return None;
    }
    let (mut low, mut high) = (from_rank.clamp(1, n), n);
    while low < high {
        let mid = (low + high) / 2;
        match shown_under(mid) {
            true => high = mid,
            false => low = mid + 1,
        }
    }
    Some(pooled[(low - 1) as usize])
}

/// The `q` quantile of sorted `values`: the smallest with a share `q` of them at or under it.
fn at_quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
    sorted.get(rank - 1).copied()
}

/// How many of `values` are at most `x`.
fn count_up_to(values: &[f64], x: f64) -> u64 {
    values.iter().filter(|v| **v <= x).count() as u64
}

/// Whether the two halves of `slices` differ in their `q` quantile beyond what their runs
/// show by chance: at each half's point estimate (and the whole hold's), the shares of the
/// two halves' runs under it differ by more than `HALVES_Z` standard errors (each half's
/// own design effect at that run time). With the halves' quantiles, which the caller weighs
/// against what matters (a tenth of the SLA's limit, say). Comparing the halves' intervals
/// instead would miss a P95 that triples: half a minute at 78% utilization is ~58
/// independent runs, too few to bound either half's P95 from above.
pub fn halves_differ(slices: &Slices, q: f64) -> Option<(bool, [Quantile; 2])> {
    let (a, b) = slices.split_at(slices.len() / 2);
    let (qa, qb) = (quantile(a, q)?, quantile(b, q)?);
    let whole = at_quantile(&pool(slices), q)?;
    let share = |slices: &Slices, at_ms: f64| {
        let n: u64 = slices.iter().map(|s| s.len() as u64).sum();
        let nf = n as f64;
        let p = slices.iter().map(|s| count_up_to(s, at_ms)).sum::<u64>() as f64 / nf;
        let d = design_effect(slices, at_ms, n);
        // A share of 0 or 1 still varies: at least one run's worth.
        (p, (p * (1.0 - p)).max(1.0 / nf) / nf * d)
    };
    let differ = [qa.point_ms, qb.point_ms, whole].into_iter().any(|at| {
        let ((fa, va), (fb, vb)) = (share(a, at), share(b, at));
        (fa - fb).abs() > HALVES_Z * (va + vb).sqrt()
    });
    Some((differ, [qa, qb]))
}

/// The mean run time of `slices` (ms) and its `CONFIDENCE` interval, under the same
/// autoregression of the slices' sums.
pub fn mean(slices: &Slices) -> Option<(f64, f64, f64)> {
    let n = slices.iter().map(Vec::len).sum::<usize>() as f64;
    if n == 0.0 {
        return None;
    }
    let sum = |s: &Vec<f64>| s.iter().sum::<f64>();
    let mean = slices.iter().map(sum).sum::<f64>() / n;
    let residuals: Vec<f64> = slices
        .iter()
        .map(|s| sum(s) - mean * s.len() as f64)
        .collect();
    let (g0, phi) = autoregression(&residuals);
    let var = residuals.len() as f64 * g0 * (1.0 + phi) / (1.0 - phi) / (n * n);
    let half = normal_quantile(0.5 + CONFIDENCE / 2.0) * var.sqrt();
    Some((mean, (mean - half).max(0.0), mean + half))
}

/// The slices' run times in one sorted list.
pub fn pool(slices: &Slices) -> Vec<f64> {
    let mut pooled: Vec<f64> = slices.iter().flatten().copied().collect();
    pooled.sort_by(f64::total_cmp);
    pooled
}

/// The `q` quantile of all the slices' runs (`None`: no run).
pub fn point(slices: &Slices, q: f64) -> Option<f64> {
    at_quantile(&pool(slices), q)
}

/// How many runs of `slices` (`n` in all) count for one independent run, at the indicator
/// "run time ≤ `point_ms`" (at least 1).
fn design_effect(slices: &Slices, point_ms: f64, n: u64) -> f64 {
    let under: Vec<u64> = slices.iter().map(|s| count_up_to(s, point_ms)).collect();
    let p = under.iter().sum::<u64>() as f64 / n.max(1) as f64;
    if n == 0 || p <= 0.0 || p >= 1.0 || slices.len() < 2 {
        return 1.0;
    }
    let residuals: Vec<f64> = slices
        .iter()
        .zip(&under)
        .map(|(s, c)| *c as f64 - p * s.len() as f64)
        .collect();
    let (g0, phi) = autoregression(&residuals);
    let per_slice = residuals.len() as f64 * g0 / (p * (1.0 - p) * n as f64);
    (per_slice * (1.0 + phi) / (1.0 - phi)).max(1.0)
}

/// The residuals' variance (about 0) and lag-1 correlation, the correlation bias-corrected,
/// one standard error high and held within `[0, PHI_MAX]`.
fn autoregression(residuals: &[f64]) -> (f64, f64) {
    let s = residuals.len() as f64;
    let g0 = residuals.iter().map(|r| r * r).sum::<f64>() / s;
    if g0 <= 0.0 || residuals.len() < 2 {
        return (g0, 0.0);
    }
    let g1 = residuals.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / s;
    let phi = g1 / g0;
    let phi = phi + (1.0 + 3.0 * phi) / s + ((1.0 - phi * phi).max(0.0) / s).sqrt();
    (g0, phi.clamp(0.0, PHI_MAX))
}

/// The order-statistic ranks (from 1) that bound the `q` quantile of `n` independent values,
/// each with at most `tail` probability of missing it on its side: the largest `k` with
/// P(Bin(n, q) ≤ k − 1) ≤ tail, and the smallest `k` with P(Bin(n, q) ≥ k) ≤ tail. `None`
/// where no rank does (too few values).
pub fn binomial_ranks(n: u64, q: f64, tail: f64) -> (Option<u64>, Option<u64>) {
    let cdf = binomial_cdf(n, q);
    // cdf[j] = P(B ≤ j). Lower: P(B ≤ k − 1) ≤ tail, the largest such k ≥ 1.
    let low = (1..=n).rev().find(|&k| cdf[(k - 1) as usize] <= tail);
    // Upper: 1 − P(B ≤ k − 1) ≤ tail, the smallest such k ≤ n.
    let high = (1..=n).find(|&k| 1.0 - cdf[(k - 1) as usize] <= tail);
    (low, high)
}

/// P(B ≤ j) for j in 0..=n, B ~ Binomial(n, p): each term from the mode outwards by the
/// ratio of neighbours (no factorials; terms under 1e-300 of the mode's are 0).
fn binomial_cdf(n: u64, p: f64) -> Vec<f64> {
    let len = n as usize + 1;
    let mut pmf = vec![0.0; len];
    if p <= 0.0 || p >= 1.0 {
        let at = if p <= 0.0 { 0 } else { n as usize };
        pmf[at] = 1.0;
    } else {
        let mode = (((n + 1) as f64 * p).floor() as usize).min(n as usize);
        let ratio = p / (1.0 - p);
        pmf[mode] = 1.0;
        for k in (mode + 1)..len {
            pmf[k] = pmf[k - 1] * (n as f64 - (k - 1) as f64) / k as f64 * ratio;
            if pmf[k] < 1e-300 {
                break;
            }
        }
        for k in (0..mode).rev() {
            pmf[k] = pmf[k + 1] * (k + 1) as f64 / (n as f64 - k as f64) / ratio;
            if pmf[k] < 1e-300 {
                break;
            }
        }
        let total: f64 = pmf.iter().sum();
        pmf.iter_mut().for_each(|x| *x /= total);
    }
    let mut acc = 0.0;
    pmf.iter()
        .map(|x| {
            acc += x;
            acc.min(1.0)
        })
        .collect()
}

/// The standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests;
