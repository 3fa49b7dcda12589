//! Curves through what the sizes measured. Pure, unit-tested.
//!
//! **The Universal Scalability Law** (Gunther): a deployment of N replicas holds
//! X(N) = λN / (1 + σ(N − 1) + κN(N − 1)): σ the share of work that waits on something shared
//! (contention), κ the cost of keeping N replicas coherent, which makes more replicas hold
//! less past N* = √((1 − σ)/κ). Linear in its coefficients once written N/X = a + b(N − 1) +
//! cN(N − 1) (a = 1/λ, σ = b/a, κ = c/a), so it is fitted by least squares weighted for
//! relative errors, σ and κ held at zero when the data would make them negative. Three sizes
//! or more give σ and κ; two give Amdahl's law (κ = 0); one gives nothing. A fit sees no wall
//! that has not been hit yet: through sizes 1, 2, 4 of replicas sharing a lock that binds at 8
//! it finds σ = κ = 0 (PITFALLS). What the resources' demands show is what catches that
//! (`study`).
//!
//! **A resource's demand growing with size**: D(N) = d₀ + d₁(N − 1), least squares through
//! the sizes measured (a lock held longer the more replicas keep it coherent).

use crate::model::scaling::Fit;

/// The most replicas a study extrapolates to.
pub const MAX_SIZE: u32 = 256;

/// The Universal Scalability Law's value at `n` for `fit`.
pub fn usl(fit: &Fit, n: f64) -> f64 {
    fit.at(n)
}

/// The curve through `points` (size, answer): USL, Amdahl or none, as many sizes allow.
pub fn fit(points: &[(f64, f64)]) -> Fit {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(n, x)| *n >= 1.0 && *x > 0.0)
        .collect();
    let kind = match points.len() {
        0 | 1 => "none",
        2 => "amdahl",
        _ => "usl",
    };
    if kind == "none" {
        return Fit {
            kind: kind.into(),
            lambda: points.first().map_or(0.0, |p| p.1 / p.0),
            ..Fit::default()
        };
    }
    // y = N / X; columns 1, N − 1, N(N − 1); weights 1 / y² (relative errors).
    let rows: Vec<([f64; 3], f64)> = points
        .iter()
        .map(|(n, x)| ([1.0, n - 1.0, n * (n - 1.0)], n / x))
        .collect();
    let with_kappa = kind == "usl";
    // Free coefficients, from all to fewer: σ and κ held at zero when they come out negative.
    let tries: &[[bool; 3]] = match with_kappa {
        true => &[
            [true, true, true],
            [true, true, false],
            [true, false, true],
            [true, false, false],
        ],
        false => &[[true, true, false], [true, false, false]],
    };
    let coef = tries
        .iter()
        .filter_map(|free| least_squares(&rows, *free))
        .find(|c| c[0] > 0.0 && c[1] >= 0.0 && c[2] >= 0.0)
        .unwrap_or([rows[0].1, 0.0, 0.0]);
    let a = coef[0];
    let (sigma, kappa) = (coef[1] / a, coef[2] / a);
    Fit {
        kind: kind.into(),
        lambda: 1.0 / a,
        sigma,
        kappa,
        peak_size: (kappa > 1e-12).then(|| ((1.0 - sigma).max(0.0) / kappa).sqrt()),
    }
}

/// Weighted least squares of `rows` (columns, y) on the `free` columns (the others held at
/// zero), weights 1 / y²: the coefficients, or `None` when singular.
fn least_squares(rows: &[([f64; 3], f64)], free: [bool; 3]) -> Option<[f64; 3]> {
    let cols: Vec<usize> = (0..3).filter(|i| free[*i]).collect();
    let k = cols.len();
    let mut m = vec![vec![0.0; k + 1]; k];
    for (x, y) in rows {
        let w = 1.0 / (y * y).max(1e-300);
        for (i, ci) in cols.iter().enumerate() {
            for (j, cj) in cols.iter().enumerate() {
                m[i][j] += w * x[*ci] * x[*cj];
            }
            m[i][k] += w * x[*ci] * y;
        }
    }
    let solved = solve(m)?;
    let mut out = [0.0; 3];
    for (i, ci) in cols.iter().enumerate() {
        out[*ci] = solved[i];
    }
    Some(out)
}

/// Gaussian elimination with partial pivoting of an augmented k × (k + 1) system.
fn solve(mut m: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let k = m.len();
    for col in 0..k {
        let pivot = (col..k).max_by(|a, b| m[*a][col].abs().total_cmp(&m[*b][col].abs()))?;
        if m[pivot][col].abs() < 1e-300 {
            return None;
        }
        m.swap(col, pivot);
        let pivot_row = m[col].clone();
        for (row, r) in m.iter_mut().enumerate() {
            if row != col {
                let f = r[col] / pivot_row[col];
                for (x, p) in r.iter_mut().zip(&pivot_row).skip(col) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..k).map(|i| m[i][k] / m[i][i]).collect())
}

/// A demand per run against size, `points` (size, demand s): (d₀, d₁) of d₀ + d₁(N − 1),
/// least squares; one size: no growth. `None` without a point.
pub fn growth(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.is_empty() {
        return None;
    }
    let mx = points.iter().map(|p| p.0 - 1.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - 1.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - 1.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    Some((my - slope * mx, slope))
}

/// The smallest whole size from `from` to `up_to` at which `bound(size)` falls under
/// `without(size)`: where a resource starts to bind.
pub fn crossing(
    from: u32,
    up_to: u32,
    bound: impl Fn(f64) -> f64,
    without: impl Fn(f64) -> f64,
) -> Option<u32> {
    (from..=up_to).find(|n| bound(f64::from(*n)) < without(f64::from(*n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usl_is_recovered_from_points_with_three_percent_noise() {
        let truth = Fit {
            kind: "usl".into(),
            lambda: 3.6,
            sigma: 0.05,
            kappa: 0.002,
            peak_size: None,
        };
        // ±3% in turn on the sizes a study would measure.
        let noise = [1.03, 0.97, 1.02, 0.98, 1.03, 0.97];
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
            .iter()
            .zip(noise)
            .map(|(n, e)| (*n, usl(&truth, *n) * e))
            .collect();
        let f = fit(&points);
        assert_eq!(f.kind, "usl");
        assert!((f.lambda / 3.6 - 1.0).abs() < 0.06, "{f:?}");
        assert!((f.sigma - 0.05).abs() < 0.02, "{f:?}");
        assert!((f.kappa - 0.002).abs() < 0.001, "{f:?}");
        // Past N* = √(0.95 / 0.002) ≈ 21.8 more replicas hold less.
        assert!((f.peak_size.unwrap() - 21.8).abs() < 5.0, "{f:?}");
    }

    #[test]
    fn two_sizes_give_amdahl_one_gives_none_and_linear_sizes_give_no_contention() {
        let f = fit(&[(1.0, 3.6), (2.0, 6.0)]);
        assert_eq!(f.kind, "amdahl");
        // 6 = 3.6 × 2 / (1 + σ): σ = 0.2.
        assert!((f.sigma - 0.2).abs() < 1e-9 && f.kappa == 0.0, "{f:?}");
        let one = fit(&[(1.0, 3.6)]);
        assert_eq!((one.kind.as_str(), one.lambda), ("none", 3.6));
        // The lock case at 1, 2, 4 (3.58, 7.33, 14.59): linear, nothing to see.
        let f = fit(&[(1.0, 3.58), (2.0, 7.33), (4.0, 14.59)]);
        assert!(f.sigma < 0.01 && f.kappa < 0.001, "{f:?}");
        assert!((usl(&f, 8.0) - 28.6).abs() < 1.5, "{}", usl(&f, 8.0));
    }

    #[test]
    fn a_demand_growing_with_size_is_fitted_and_its_crossing_found() {
        // The lock: 10 ms + 1.5 ms per other replica, measured at 1, 2, 4 (±2%).
        let points = [(1.0, 0.0102), (2.0, 0.0113), (4.0, 0.0146)];
        let (d0, d1) = growth(&points).unwrap();
        assert!(
            (d0 - 0.010).abs() < 0.0005 && (d1 - 0.0015).abs() < 0.0002,
            "{d0} {d1}"
        );
        // Bound 1/D(N) runs/s against 12.9 runs/s a replica: it binds first at 5.
        let bound = |n: f64| 1.0 / (d0 + d1 * (n - 1.0));
        assert_eq!(crossing(1, 16, bound, |n| 12.9 * n), Some(5));
        assert_eq!(crossing(1, 4, bound, |n| 12.9 * n), None);
        assert_eq!(growth(&[(2.0, 0.02)]), Some((0.02, 0.0)));
    }
}
