//! The A/B chart: per experiment and dimension, the paired difference A − B with its 95%
//! interval clustered by task — the same statistics as `swarm-gym report` ([`crate::stats`]).
//!
//! polars reduces the rows to one value per (experiment, arm, task, turn, replicate); the
//! pairing then matches A's and B's units exactly, and units present in one arm only are
//! counted, not paired.

use crate::data::{Dataset, DIMENSIONS};
use crate::stats::{compare, Pair};
use crate::NotebookError;
use polars::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// One dimension of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbDimension {
    /// The dimension.
    pub dimension: String,
    /// Paired units.
    pub pairs: usize,
    /// A's mean over the pairs.
    pub mean_a: f64,
    /// B's mean over the pairs.
    pub mean_b: f64,
    /// Mean of A − B.
    pub difference: f64,
    /// 95% interval of the difference (None with fewer than two tasks).
    pub interval: Option<(f64, f64)>,
}

/// One experiment's chart data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbChart {
    /// Experiment id.
    pub experiment: String,
    /// Arm A's builder model(s).
    pub models_a: String,
    /// Arm B's builder model(s).
    pub models_b: String,
    /// Dimensions with at least one pair.
    pub dimensions: Vec<AbDimension>,
    /// Units in one arm only (not paired).
    pub unpaired: usize,
}

type Unit = (String, i64, i64);

/// Every A/B experiment in the data, by id.
pub fn charts(data: &Dataset) -> Result<Vec<AbChart>, NotebookError> {
    let keys = ["ab_id", "arm", "task", "turn", "replicate"];
    let mut aggregations: Vec<Expr> = DIMENSIONS.iter().map(|d| col(*d).mean()).collect();
    aggregations.push(col("builder_model").first());
    let units = data
        .frame
        .clone()
        .lazy()
        .filter(col("arm").neq(lit("")))
        .group_by(keys.map(col))
        .agg(aggregations)
        .sort(keys, SortMultipleOptions::default())
        .collect()?;
    let ids = crate::data::strings(&units, "ab_id")?;
    let arms = crate::data::strings(&units, "arm")?;
    let tasks = crate::data::strings(&units, "task")?;
    let models = crate::data::strings(&units, "builder_model")?;
    let turns = crate::data::floats(&units, "turn")?;
    let replicates = crate::data::floats(&units, "replicate")?;
    let values: Vec<Vec<Option<f64>>> = DIMENSIONS
        .iter()
        .map(|d| crate::data::floats(&units, d))
        .collect::<Result<_, _>>()?;
    // experiment → arm → unit → row index
    let mut by_experiment: BTreeMap<&str, [BTreeMap<Unit, usize>; 2]> = BTreeMap::new();
    for row in 0..units.height() {
        let unit = (
            tasks[row].clone(),
            turns[row].unwrap_or(0.0) as i64,
            replicates[row].unwrap_or(0.0) as i64,
        );
        let slot = usize::from(arms[row] == "B");
        by_experiment.entry(ids[row].as_str()).or_default()[slot].insert(unit, row);
    }
    let mut out = Vec::new();
    for (experiment, [arm_a, arm_b]) in by_experiment {
        let models_of = |arm: &BTreeMap<Unit, usize>| {
            let set: std::collections::BTreeSet<&str> =
                arm.values().map(|row| models[*row].as_str()).collect();
            set.into_iter().collect::<Vec<_>>().join("/")
        };
        let unpaired = arm_a.keys().filter(|u| !arm_b.contains_key(*u)).count()
            + arm_b.keys().filter(|u| !arm_a.contains_key(*u)).count();
        let mut dimensions = Vec::new();
        for (index, dimension) in DIMENSIONS.iter().enumerate() {
            let pairs: Vec<Pair> = arm_a
                .iter()
                .filter_map(|(unit, row_a)| {
                    let row_b = arm_b.get(unit)?;
                    Some(Pair {
                        task: unit.0.clone(),
                        a: values[index][*row_a]?,
                        b: values[index][*row_b]?,
                    })
                })
                .collect();
            if let Some(comparison) = compare(&pairs) {
                dimensions.push(AbDimension {
                    dimension: (*dimension).to_string(),
                    pairs: comparison.n,
                    mean_a: comparison.mean_a,
                    mean_b: comparison.mean_b,
                    difference: comparison.difference,
                    interval: comparison.interval,
                });
            }
        }
        out.push(AbChart {
            experiment: experiment.to_string(),
            models_a: models_of(&arm_a),
            models_b: models_of(&arm_b),
            dimensions,
            unpaired,
        });
    }
    Ok(out)
}
