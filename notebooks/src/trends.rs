//! Score trends over nights, and regressions against a rolling baseline.
//!
//! Flow: rows → one mean per *sample* (a replicate of an experiment or run: the unit whose
//! spread is the noise) per dimension → per (model, suite, SUT, night) the mean of the
//! samples with their min, max and standard deviation → a series per dimension.
//!
//! A **regression** is judged for the newest night of each series against its baseline, the
//! means of up to `window` earlier nights. The noise is the spread between replicates: the
//! pooled standard deviation `s` of sample means within nights (every night of the baseline
//! and the newest one that has two or more samples), giving a standard error of the
//! difference `s × √(1/n_new + 1/n_base)`. When no night has two samples, the spread between
//! the baseline nights' means stands in (`s_nights × √(1 + 1/k)`, k ≥ 2 nights). The newest
//! night regressed when `baseline − newest > max(2 × SE, 0.25)`. Without a baseline or any
//! noise estimate the series is *unjudged*, never called a regression.

use crate::data::{Dataset, DIMENSIONS};
use crate::NotebookError;
use polars::prelude::*;
use serde::Serialize;

/// The smallest drop (points on 0–10) that can count as a regression, so that rounding in a
/// noise-free (deterministic) history never raises an alarm.
pub const MIN_DROP: f64 = 0.25;

/// How many standard errors a drop must exceed.
pub const NOISE_MULTIPLE: f64 = 2.0;

/// The dimensions trended: the seven and `overall`.
pub fn trended_dimensions() -> Vec<&'static str> {
    let mut dimensions = DIMENSIONS.to_vec();
    dimensions.push("overall");
    dimensions
}

/// One night of one series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// The night (YYYY-MM-DD).
    pub night: String,
    /// Mean of the samples' means.
    pub mean: f64,
    /// Lowest sample mean.
    pub min: f64,
    /// Highest sample mean.
    pub max: f64,
    /// Standard deviation of the sample means (None with one sample).
    pub sd: Option<f64>,
    /// Samples (replicates) with a value.
    pub samples: usize,
}

/// One dimension of one (model, suite, SUT) over the nights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Builder model.
    pub model: String,
    /// Suite.
    pub suite: String,
    /// System under test.
    pub sut: String,
    /// Dimension (or `overall`).
    pub dimension: String,
    /// Nights in order.
    pub points: Vec<TrendPoint>,
}

impl Series {
    /// `model / suite / sut`.
    pub fn label(&self) -> String {
        format!("{} / {} / {}", self.model, self.suite, self.sut)
    }
}

/// Every series in the data, ordered by model, suite, SUT, then dimension.
pub fn series(data: &Dataset) -> Result<Vec<Series>, NotebookError> {
    let dimensions = trended_dimensions();
    let keys = ["builder_model", "suite", "sut", "night"];
    let per_sample = data
        .frame
        .clone()
        .lazy()
        .group_by([
            col("builder_model"),
            col("suite"),
            col("sut"),
            col("night"),
            col("sample"),
        ])
        .agg(
            dimensions
                .iter()
                .map(|d| col(*d).mean())
                .collect::<Vec<_>>(),
        );
    let mut aggregations = Vec::new();
    for dimension in &dimensions {
        aggregations.push(col(*dimension).mean().alias(format!("{dimension}__mean")));
        aggregations.push(col(*dimension).min().alias(format!("{dimension}__min")));
        aggregations.push(col(*dimension).max().alias(format!("{dimension}__max")));
        aggregations.push(col(*dimension).std(1).alias(format!("{dimension}__sd")));
        aggregations.push(col(*dimension).count().alias(format!("{dimension}__n")));
    }
    let per_night = per_sample
        .group_by(keys.map(col))
        .agg(aggregations)
        .sort(keys, SortMultipleOptions::default())
        .collect()?;
    let key_values: Vec<Vec<String>> = keys
        .iter()
        .map(|k| crate::data::strings(&per_night, k))
        .collect::<Result<_, _>>()?;
    let mut out: Vec<Series> = Vec::new();
    for dimension in &dimensions {
        let get = |suffix: &str| crate::data::floats(&per_night, &format!("{dimension}__{suffix}"));
        let (means, mins, maxs, sds, counts) = (
            get("mean")?,
            get("min")?,
            get("max")?,
            get("sd")?,
            get("n")?,
        );
        for row in 0..per_night.height() {
            let (Some(mean), Some(min), Some(max)) = (means[row], mins[row], maxs[row]) else {
                continue;
            };
            let point = TrendPoint {
                night: key_values[3][row].clone(),
                mean,
                min,
                max,
                sd: sds[row].filter(|v| v.is_finite()),
                samples: counts[row].unwrap_or(0.0) as usize,
            };
            let (model, suite, sut) = (
                &key_values[0][row],
                &key_values[1][row],
                &key_values[2][row],
            );
            match out.iter_mut().find(|s| {
                s.dimension == *dimension && &s.model == model && &s.suite == suite && &s.sut == sut
            }) {
                Some(existing) => existing.points.push(point),
                None => out.push(Series {
                    model: model.clone(),
                    suite: suite.clone(),
                    sut: sut.clone(),
                    dimension: (*dimension).to_string(),
                    points: vec![point],
                }),
            }
        }
    }
    out.sort_by(|a, b| {
        let rank = |d: &str| dimensions.iter().position(|x| *x == d);
        (&a.model, &a.suite, &a.sut, rank(&a.dimension)).cmp(&(
            &b.model,
            &b.suite,
            &b.sut,
            rank(&b.dimension),
        ))
    });
    Ok(out)
}

/// The verdict on a series' newest night.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Judgement {
    /// The newest night fell below its baseline by more than the noise allows.
    Regression(Comparison),
    /// Within the noise, or better.
    Steady(Comparison),
    /// Cannot be judged: why.
    Unjudged {
        /// Why (no baseline night, no noise estimate).
        reason: String,
    },
}

/// The figures behind a judgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The newest night.
    pub night: String,
    /// Its mean.
    pub newest: f64,
    /// Mean of the baseline nights' means.
    pub baseline: f64,
    /// Baseline nights used.
    pub baseline_nights: usize,
    /// baseline − newest (positive: worse).
    pub drop: f64,
    /// The drop a regression must exceed: max(2 × SE, MIN_DROP).
    pub threshold: f64,
    /// Where the noise estimate came from.
    pub noise: String,
}

/// Judges the newest night of `series` against up to `window` earlier nights.
pub fn judge(series: &Series, window: usize) -> Judgement {
    let Some((newest, earlier)) = series.points.split_last() else {
        return Judgement::Unjudged {
            reason: "no nights".into(),
        };
    };
    let baseline: Vec<&TrendPoint> = earlier.iter().rev().take(window.max(1)).collect();
    if baseline.is_empty() {
        return Judgement::Unjudged {
            reason: format!("{} is the first night: no baseline yet", newest.night),
        };
    }
    let k = baseline.len() as f64;
    let baseline_mean = baseline.iter().map(|p| p.mean).sum::<f64>() / k;
    let baseline_samples: usize = baseline.iter().map(|p| p.samples).sum();
    // Pooled within-night spread of replicate means.
    let (mut sum_squares, mut freedom) = (0.0, 0usize);
    for point in baseline.iter().copied().chain([newest]) {
        if let (Some(sd), true) = (point.sd, point.samples >= 2) {
            sum_squares += sd * sd * (point.samples - 1) as f64;
            freedom += point.samples - 1;
        }
    }
    let (standard_error, noise) = if freedom > 0 {
        let pooled = (sum_squares / freedom as f64).sqrt();
        let se = pooled
            * (1.0 / newest.samples.max(1) as f64 + 1.0 / baseline_samples.max(1) as f64).sqrt();
        (
            se,
            format!("replicate spread {pooled:.2} (pooled over {freedom} df)"),
        )
    } else if baseline.len() >= 2 {
        let sd = (baseline
            .iter()
            .map(|p| (p.mean - baseline_mean).powi(2))
            .sum::<f64>()
            / (k - 1.0))
            .sqrt();
        (
            sd * (1.0 + 1.0 / k).sqrt(),
            format!(
                "spread between {} baseline nights {sd:.2} (one replicate per night)",
                baseline.len()
            ),
        )
    } else {
        return Judgement::Unjudged {
            reason: "one replicate per night and one baseline night: the noise cannot be measured (run 2+ replicates)".into(),
        };
    };
    let comparison = Comparison {
        night: newest.night.clone(),
        newest: newest.mean,
        baseline: baseline_mean,
        baseline_nights: baseline.len(),
        drop: baseline_mean - newest.mean,
        threshold: (NOISE_MULTIPLE * standard_error).max(MIN_DROP),
        noise,
    };
    if comparison.drop > comparison.threshold {
        Judgement::Regression(comparison)
    } else {
        Judgement::Steady(comparison)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn point(night: &str, mean: f64, sd: Option<f64>, samples: usize) -> TrendPoint {
        TrendPoint {
            night: night.into(),
            mean,
            min: mean,
            max: mean,
            sd,
            samples,
        }
    }

    fn series_of(points: Vec<TrendPoint>) -> Series {
        Series {
            model: "m".into(),
            suite: "s".into(),
            sut: "single".into(),
            dimension: "checks".into(),
            points,
        }
    }

    #[test]
    fn a_drop_beyond_the_replicate_noise_is_a_regression_and_one_within_is_not() {
        // Baseline: two nights of 2 replicates, sd 1 each; newest night 2 replicates, sd 1.
        // pooled sd = 1, SE = √(1/2 + 1/4) = 0.866, threshold = 1.732.
        let history = |newest: f64| {
            series_of(vec![
                point("2026-11-28", 8.0, Some(1.0), 2),
                point("2026-11-29", 8.0, Some(1.0), 2),
                point("2026-11-30", newest, Some(1.0), 2),
            ])
        };
        let Judgement::Regression(found) = judge(&history(6.0), 7) else {
            panic!("a drop of 2.0 should be a regression");
        };
        assert!((found.threshold - 1.7320508).abs() < 1e-6, "{found:?}");
        assert_eq!(
            (found.baseline, found.drop, found.baseline_nights),
            (8.0, 2.0, 2)
        );
        assert!(matches!(judge(&history(6.5), 7), Judgement::Steady(_)));
        // Only the window's nights form the baseline.
        let mut long = history(6.0);
        long.points
            .insert(0, point("2026-11-01", 0.0, Some(1.0), 2));
        let Judgement::Regression(windowed) = judge(&long, 2) else {
            panic!("window of 2 keeps the regression");
        };
        assert_eq!(windowed.baseline, 8.0);
    }

    #[test]
    fn without_a_baseline_or_noise_nothing_is_called_a_regression() {
        let first = series_of(vec![point("2026-11-30", 2.0, Some(1.0), 2)]);
        assert!(matches!(judge(&first, 7), Judgement::Unjudged { .. }));
        let single = series_of(vec![
            point("2026-11-29", 9.0, None, 1),
            point("2026-11-30", 2.0, None, 1),
        ]);
        assert!(matches!(judge(&single, 7), Judgement::Unjudged { .. }));
        // Single replicates but several baseline nights: their spread is the noise.
        let nights = series_of(vec![
            point("2026-11-27", 9.0, None, 1),
            point("2026-11-28", 8.0, None, 1),
            point("2026-11-29", 9.0, None, 1),
            point("2026-11-30", 2.0, None, 1),
        ]);
        assert!(matches!(judge(&nights, 7), Judgement::Regression(_)));
        // A noise-free history: a tiny wobble is not a regression, a real drop is.
        let exact = |newest: f64| {
            series_of(vec![
                point("2026-11-29", 10.0, Some(0.0), 2),
                point("2026-11-30", newest, Some(0.0), 2),
            ])
        };
        assert!(matches!(judge(&exact(9.9), 7), Judgement::Steady(_)));
        assert!(matches!(judge(&exact(9.0), 7), Judgement::Regression(_)));
    }
}
