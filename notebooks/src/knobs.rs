//! Knob effects: for every knob that takes two or more values in the data, the `cluster` and
//! `checks` scores at each value (mean of the samples' means, with their range).
//!
//! A row's knob values come from its `knobs` JSON: the pipeline's changed knobs under
//! `"knobs"` and the single agent's settings at the top level. A knob a row does not name
//! was at its registry default, shown as `default`.

use crate::data::Dataset;
use crate::NotebookError;
use polars::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Scores at one value of a knob.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnobPoint {
    /// The value (`default` when rows did not change it).
    pub value: String,
    /// Mean `cluster` over samples, with (min, max) of sample means.
    pub cluster: Option<(f64, f64, f64)>,
    /// Mean `checks` over samples, with (min, max).
    pub checks: Option<(f64, f64, f64)>,
    /// Samples (replicates) at this value.
    pub samples: usize,
}

/// One knob's effect within one system under test (the single agent's settings and the
/// pipeline's knobs are different knobs; comparing across SUTs would measure the SUT).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KnobEffect {
    /// The knob.
    pub knob: String,
    /// The system under test its rows ran.
    pub sut: String,
    /// Its values in order (`default` first, then numerically or alphabetically).
    pub points: Vec<KnobPoint>,
}

/// Settings that describe the run rather than tune it; never plotted as knobs.
const NOT_KNOBS: [&str; 2] = ["sut", "simulate_user"];

/// Each row's knob values.
fn knob_values(json: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(serde_json::Value::Object(top)) = serde_json::from_str::<serde_json::Value>(json) else {
        return out;
    };
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for (key, value) in &top {
        if key == "knobs" {
            if let serde_json::Value::Object(inner) = value {
                for (name, value) in inner {
                    out.insert(name.clone(), text(value));
                }
            }
        } else if !NOT_KNOBS.contains(&key.as_str()) {
            out.insert(key.clone(), text(value));
        }
    }
    out
}

fn order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a == "default", b == "default") {
        (true, false) => return std::cmp::Ordering::Less,
        (false, true) => return std::cmp::Ordering::Greater,
        _ => {}
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    }
}

/// Every knob that varies within a SUT's rows, by SUT then knob.
pub fn effects(data: &Dataset) -> Result<Vec<KnobEffect>, NotebookError> {
    let json = crate::data::strings(&data.frame, "knobs")?;
    let suts = crate::data::strings(&data.frame, "sut")?;
    let per_row: Vec<BTreeMap<String, String>> = json.iter().map(|j| knob_values(j)).collect();
    let mut pairs: BTreeSet<(&String, &String)> = BTreeSet::new();
    for (knobs, sut) in per_row.iter().zip(&suts) {
        pairs.extend(knobs.keys().map(|name| (sut, name)));
    }
    let mut out = Vec::new();
    for (sut, name) in pairs {
        // Rows of other SUTs are left out (null), never counted as the default.
        let values: Vec<Option<String>> = per_row
            .iter()
            .zip(&suts)
            .map(|(m, s)| {
                (s == sut).then(|| m.get(name).cloned().unwrap_or_else(|| "default".into()))
            })
            .collect();
        if values.iter().flatten().collect::<BTreeSet<_>>().len() < 2 {
            continue;
        }
        let mut frame = data.frame.clone();
        frame.with_column(Column::new("knob_value".into(), values))?;
        let summary = frame
            .lazy()
            .filter(col("knob_value").is_not_null())
            .group_by([col("knob_value"), col("sample")])
            .agg([col("cluster").mean(), col("checks").mean()])
            .group_by([col("knob_value")])
            .agg([
                col("cluster").mean().alias("cluster_mean"),
                col("cluster").min().alias("cluster_min"),
                col("cluster").max().alias("cluster_max"),
                col("checks").mean().alias("checks_mean"),
                col("checks").min().alias("checks_min"),
                col("checks").max().alias("checks_max"),
                col("sample").count().alias("samples"),
            ])
            .collect()?;
        let value = crate::data::strings(&summary, "knob_value")?;
        let get = |c: &str| crate::data::floats(&summary, c);
        let (cm, cn, cx, km, kn, kx, samples) = (
            get("cluster_mean")?,
            get("cluster_min")?,
            get("cluster_max")?,
            get("checks_mean")?,
            get("checks_min")?,
            get("checks_max")?,
            get("samples")?,
        );
        let triple = |m: Option<f64>, lo: Option<f64>, hi: Option<f64>| Some((m?, lo?, hi?));
        let mut points: Vec<KnobPoint> = (0..summary.height())
            .map(|row| KnobPoint {
                value: value[row].clone(),
                cluster: triple(cm[row], cn[row], cx[row]),
                checks: triple(km[row], kn[row], kx[row]),
                samples: samples[row].unwrap_or(0.0) as usize,
            })
            .collect();
        points.sort_by(|a, b| order(&a.value, &b.value));
        out.push(KnobEffect {
            knob: name.clone(),
            sut: sut.clone(),
            points,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn knob_values_come_from_both_shapes_of_the_knobs_column() {
        let swarm = knob_values(
            r#"{"sut":"swarm","simulate_user":false,"knobs":{"fleet.stall_seconds":"30"}}"#,
        );
        assert_eq!(
            swarm.into_iter().collect::<Vec<_>>(),
            vec![("fleet.stall_seconds".to_string(), "30".to_string())]
        );
        let single = knob_values(r#"{"max_actions":40,"action_mode":"json","sut":"single"}"#);
        assert_eq!(single.get("max_actions").map(String::as_str), Some("40"));
        assert_eq!(single.get("action_mode").map(String::as_str), Some("json"));
        assert!(knob_values("not json").is_empty());
        let mut values = vec!["120", "default", "30", "abc"];
        values.sort_by(|a, b| order(a, b));
        assert_eq!(values, vec!["default", "30", "120", "abc"]);
    }
}
