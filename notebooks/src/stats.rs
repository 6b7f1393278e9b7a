//! The statistics of paired A/B comparisons, written out so each can be checked by hand.
//!
//! - Scores: the paired difference A − B per unit (task, turn, replicate); its mean; a
//!   standard error **clustered by task** (units of one task are not independent); a
//!   t-interval and a t-test with G − 1 degrees of freedom (G tasks), which stay honest —
//!   wide — at small N.
//! - Pass/fail: McNemar's exact test on the discordant pairs; Wilson intervals for each
//!   arm's pass rate.
//! - Several dimensions at once: Holm's step-down correction.
//! - Power: the smallest difference this N could detect at α = 0.05 with 80% power,
//!   (t₀.₉₇₅ + t₀.₈₀) × SE, and the replicates a given difference would need.

/// One paired unit: the same task, turn and replicate under both arms.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The task (the cluster).
    pub task: String,
    /// Arm A's value.
    pub a: f64,
    /// Arm B's value.
    pub b: f64,
}

/// The comparison of one dimension.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PairedComparison {
    /// Pairs.
    pub n: usize,
    /// Tasks.
    pub clusters: usize,
    /// Mean of A.
    pub mean_a: f64,
    /// Mean of B.
    pub mean_b: f64,
    /// Mean of A − B.
    pub difference: f64,
    /// Cluster-robust standard error of the difference (None with fewer than two tasks).
    pub standard_error: Option<f64>,
    /// 95% interval of the difference.
    pub interval: Option<(f64, f64)>,
    /// Two-sided p-value of "no difference" (before any correction).
    pub p_value: Option<f64>,
    /// Smallest |difference| detectable at α = 0.05 with 80% power.
    pub detectable: Option<f64>,
}

/// ln Γ(x), Lanczos approximation (g = 7, n = 9); accurate to ~1e-14 for x > 0.
fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let numerator = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 + numerator * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + numerator / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        h *= d * c;
        let numerator = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 + numerator * d;
        d = if d.abs() < tiny { tiny } else { d };
        c = 1.0 + numerator / c;
        c = if c.abs() < tiny { tiny } else { c };
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function I_x(a, b).
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    if t.is_infinite() {
        return if t > 0.0 { 1.0 } else { 0.0 };
    }
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The t such that P(T ≤ t) = p (bisection; p in (0, 1)).
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    let (mut low, mut high) = (-1e4, 1e4);
    for _ in 0..200 {
        let middle = 0.5 * (low + high);
        if student_t_cdf(middle, df) < p {
            low = middle;
        } else {
            high = middle;
        }
    }
    0.5 * (low + high)
}

/// Two-sided exact McNemar test: `a_only` pairs where only A passed, `b_only` only B.
pub fn mcnemar_exact(a_only: u64, b_only: u64) -> f64 {
    let n = a_only + b_only;
    if n == 0 {
        return 1.0;
    }
    let k = a_only.min(b_only);
    // P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space.
    let ln_choose = |n: u64, r: u64| {
        ln_gamma(n as f64 + 1.0) - ln_gamma(r as f64 + 1.0) - ln_gamma((n - r) as f64 + 1.0)
    };
    let tail: f64 = (0..=k)
        .map(|r| (ln_choose(n, r) - n as f64 * std::f64::consts::LN_2).exp())
        .sum();
    (2.0 * tail).min(1.0)
}

/// A distribution-free 95% interval of the `q` quantile (0 < q < 1) of what `values` were
/// drawn from: the order statistics x(l) and x(u) with P(l ≤ B < u) ≥ 95% for B ~
/// Binomial(n, q). None when there are too few values for any such pair (a median needs 6,
/// a 90th percentile 36).
pub fn quantile_interval(values: &[f64], q: f64) -> Option<(f64, f64)> {
    let n = values.len();
    if n == 0 || !(q > 0.0 && q < 1.0) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // cdf[k] = P(B ≤ k), the binomial terms summed in log space.
    let ln_choose = |r: usize| {
        ln_gamma(n as f64 + 1.0) - ln_gamma(r as f64 + 1.0) - ln_gamma((n - r) as f64 + 1.0)
    };
    let mut cdf = Vec::with_capacity(n + 1);
    let mut total = 0.0;
    for k in 0..=n {
        total += (ln_choose(k) + k as f64 * q.ln() + (n - k) as f64 * (1.0 - q).ln()).exp();
        cdf.push(total.min(1.0));
    }
    let tail = 0.025;
    // The largest l ≥ 1 with P(B ≤ l − 1) ≤ 2.5%, the smallest u ≤ n with P(B ≥ u) ≤ 2.5%.
    let l = (1..=n).rev().find(|&l| cdf[l - 1] <= tail)?;
    let u = (1..=n).find(|&u| 1.0 - cdf[u - 1] <= tail)?;
    (l < u).then(|| (sorted[l - 1], sorted[u - 1]))
}

/// Holm's step-down adjustment of p-values (same order as given).
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &index) in order.iter().enumerate() {
        let value = ((m - rank) as f64 * p_values[index]).min(1.0);
        running = running.max(value);
        adjusted[index] = running;
    }
    adjusted
}

/// Wilson 95% interval of a proportion `passed / n`.
pub fn wilson(passed: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let z = 1.959_963_984_540_054;
    let (n, p) = (n as f64, passed as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Compares paired values, clustering by task.
pub fn compare(pairs: &[Pair]) -> Option<PairedComparison> {
    if pairs.is_empty() {
        return None;
    }
    let n = pairs.len() as f64;
    let mean_a = pairs.iter().map(|p| p.a).sum::<f64>() / n;
    let mean_b = pairs.iter().map(|p| p.b).sum::<f64>() / n;
    let difference = mean_a - mean_b;
    let mut residuals: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for pair in pairs {
        *residuals.entry(pair.task.as_str()).or_default() += (pair.a - pair.b) - difference;
    }
    let clusters = residuals.len();
    let mut comparison = PairedComparison {
        n: pairs.len(),
        clusters,
        mean_a,
        mean_b,
        difference,
        standard_error: None,
        interval: None,
        p_value: None,
        detectable: None,
    };
    if clusters < 2 {
        return Some(comparison);
    }
    let g = clusters as f64;
    let sum_squares: f64 = residuals.values().map(|r| r * r).sum();
    let se = (g / (g - 1.0) * sum_squares).sqrt() / n;
    let df = g - 1.0;
    let critical = student_t_quantile(0.975, df);
    comparison.standard_error = Some(se);
    comparison.interval = Some((difference - critical * se, difference + critical * se));
    comparison.detectable = Some((critical + student_t_quantile(0.80, df)) * se);
    comparison.p_value = Some(if se == 0.0 {
        if difference == 0.0 {
            1.0
        } else {
            0.0
        }
    } else {
        2.0 * (1.0 - student_t_cdf((difference / se).abs(), df))
    });
    Some(comparison)
}

/// Replicates needed to detect `difference`, from the current `replicates` and detectable
/// difference (standard errors shrink as 1/√replicates).
pub fn replicates_needed(replicates: u32, detectable: f64, difference: f64) -> Option<u32> {
    if difference == 0.0 || !detectable.is_finite() {
        return None;
    }
    let ratio = detectable / difference.abs();
    Some((f64::from(replicates) * ratio * ratio).ceil().max(1.0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_intervals_are_the_textbook_order_statistics_and_cover() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        // Ten values: the median's 95% interval is [x(2), x(9)] (coverage 97.9%).
        assert_eq!(quantile_interval(&values, 0.5), Some((2.0, 9.0)));
        // Too few for a 90th percentile, or for a median of five.
        assert_eq!(quantile_interval(&values, 0.9), None);
        assert_eq!(quantile_interval(&values[..5], 0.5), None);
        assert!(quantile_interval(&values[..6], 0.5).is_some());
        let many: Vec<f64> = (1..=36).map(f64::from).collect();
        assert!(quantile_interval(&many, 0.9).is_some());
        assert!(quantile_interval(&many[..35], 0.9).is_none());
        assert_eq!(quantile_interval(&[], 0.5), None);
        assert_eq!(quantile_interval(&values, 1.0), None);
        // Drawn 2,000 times, 20 uniform values each: the interval holds the true median
        // (0.5) and the true 90th percentile (0.9, from 60 values) 95% of the time or more
        // (94% allows for the draw's own noise).
        let mut seed: u64 = 42;
        let mut uniform = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut held = (0, 0);
        for _ in 0..2000 {
            let small: Vec<f64> = (0..20).map(|_| uniform()).collect();
            if quantile_interval(&small, 0.5).is_some_and(|(l, h)| l <= 0.5 && 0.5 <= h) {
                held.0 += 1;
            }
            let large: Vec<f64> = (0..60).map(|_| uniform()).collect();
            if quantile_interval(&large, 0.9).is_some_and(|(l, h)| l <= 0.9 && 0.9 <= h) {
                held.1 += 1;
            }
        }
        assert!(held.0 >= 1880 && held.1 >= 1880, "{held:?} of 2000");
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() < tolerance
    }

    #[test]
    fn t_distribution_matches_tables() {
        // Two-sided 5% critical values: df 2 → 4.303, df 10 → 2.228, df 30 → 2.042.
        for (df, critical) in [(2.0, 4.302_653), (10.0, 2.228_139), (30.0, 2.042_272)] {
            assert!(
                close(student_t_quantile(0.975, df), critical, 1e-4),
                "df {df}"
            );
            assert!(
                close(2.0 * (1.0 - student_t_cdf(critical, df)), 0.05, 1e-6),
                "df {df}"
            );
        }
        // df 1 is the Cauchy distribution: P(T ≤ 1) = 0.75.
        assert!(close(student_t_cdf(1.0, 1.0), 0.75, 1e-9));
        assert!(close(student_t_quantile(0.80, 4.0), 0.940_965, 1e-4));
    }

    #[test]
    fn mcnemar_by_hand() {
        // 8 pairs only A passed, 2 only B: 2 × P(X ≤ 2 | n=10) = 2 × (1 + 10 + 45) / 1024.
        assert!(close(mcnemar_exact(8, 2), 112.0 / 1024.0, 1e-12));
        assert!(close(mcnemar_exact(5, 0), 2.0 / 32.0, 1e-12));
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(3, 3), 1.0);
    }

    #[test]
    fn holm_by_hand() {
        // Sorted 0.01, 0.03, 0.04 → 0.03, 0.06, max(0.06, 0.04) = 0.06.
        let adjusted = holm(&[0.01, 0.04, 0.03]);
        assert!(
            close(adjusted[0], 0.03, 1e-12)
                && close(adjusted[1], 0.06, 1e-12)
                && close(adjusted[2], 0.06, 1e-12),
            "{adjusted:?}"
        );
    }

    #[test]
    fn wilson_by_hand() {
        // 8 of 10: centre (0.8 + 1.9208/10) / 1.38415 = 0.71668, half 0.21117.
        let (low, high) = wilson(8, 10).unwrap();
        assert!(
            close(low, 0.4902, 1e-4) && close(high, 0.9433, 1e-4),
            "{low} {high}"
        );
        assert_eq!(wilson(0, 0), None);
    }

    #[test]
    fn clustered_comparison_by_hand() {
        // Task x: differences 2, 4; task y: 0, 2. Mean 2; residual sums: x → (0 + 2) = 2,
        // y → (−2 + 0) = −2; SE = sqrt(2/1 × 8) / 4 = 1; t = 2 with 1 df → p = 0.2952.
        let pairs = vec![
            Pair {
                task: "x".into(),
                a: 5.0,
                b: 3.0,
            },
            Pair {
                task: "x".into(),
                a: 6.0,
                b: 2.0,
            },
            Pair {
                task: "y".into(),
                a: 1.0,
                b: 1.0,
            },
            Pair {
                task: "y".into(),
                a: 4.0,
                b: 2.0,
            },
        ];
        let result = compare(&pairs).unwrap();
        assert!(close(result.difference, 2.0, 1e-12));
        assert!(close(result.standard_error.unwrap(), 1.0, 1e-12));
        assert!(
            close(result.p_value.unwrap(), 0.295_167, 1e-5),
            "{:?}",
            result.p_value
        );
        let (low, high) = result.interval.unwrap();
        assert!(
            close(low, 2.0 - 12.706_205, 1e-3) && close(high, 2.0 + 12.706_205, 1e-3),
            "one df: a very wide, honest interval"
        );
    }

    #[test]
    fn one_task_gives_no_interval_and_constant_differences_are_certain() {
        let one = compare(&[Pair {
            task: "x".into(),
            a: 1.0,
            b: 0.0,
        }])
        .unwrap();
        assert_eq!((one.standard_error, one.p_value), (None, None));
        let constant: Vec<Pair> = ["x", "y", "z"]
            .iter()
            .map(|t| Pair {
                task: t.to_string(),
                a: 10.0,
                b: 0.0,
            })
            .collect();
        assert_eq!(compare(&constant).unwrap().p_value, Some(0.0));
        assert_eq!(replicates_needed(3, 2.0, 1.0), Some(12));
    }
}
