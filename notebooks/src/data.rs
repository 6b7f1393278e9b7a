//! Loading result CSVs into one polars `DataFrame`.
//!
//! The files are read by header name with the `csv` crate, so a file written by an older
//! harness (fewer columns) still loads, and a row that cannot be read is reported with its
//! file and line and left out — never guessed. Empty score cells stay null (missing, never
//! zero). Two columns are derived: `night` (the day a row belongs to: the date in a
//! `nightly-YYYY-MM-DD` experiment, else the date of its timestamp) and `arm` (`A`/`B` of an
//! A/B experiment, else empty) with `ab_id` (the experiment id before the arm).

pub use crate::schema::{DIMENSIONS, NUMBER_COLUMNS, TEXT_COLUMNS};
use crate::NotebookError;
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// Rows of result CSVs, ready for analysis.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// One row per graded turn; the columns of [`TEXT_COLUMNS`] and [`NUMBER_COLUMNS`]
    /// plus `night`, `arm`, `ab_id`, `source` (the file it came from) and `sample` (the
    /// replicate of an experiment or run the row belongs to: one independent sample).
    pub frame: DataFrame,
    /// Rows left out, each with its file, line and reason.
    pub skipped: Vec<String>,
}

/// The night a row belongs to (see the module docs).
pub fn night_of(experiment: &str, timestamp: &str) -> String {
    if let Some(rest) = experiment.strip_prefix("nightly-") {
        let date: String = rest.chars().take(10).collect();
        if is_date(&date) {
            return date;
        }
    }
    timestamp.chars().take(10).collect()
}

fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        })
}

/// Reads every file; a missing or unreadable file is an error, a bad row is skipped and
/// reported in [`Dataset::skipped`].
pub fn load(files: &[PathBuf]) -> Result<Dataset, NotebookError> {
    let mut text: Vec<Vec<String>> = vec![Vec::new(); TEXT_COLUMNS.len()];
    let mut numbers: Vec<Vec<Option<f64>>> = vec![Vec::new(); NUMBER_COLUMNS.len()];
    let (mut night, mut arm, mut ab_id, mut source, mut sample) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut skipped = Vec::new();
    for file in files {
        let rows = read_file(file, &mut skipped)?;
        for (texts, values) in rows {
            let experiment = &texts[1];
            night.push(night_of(experiment, &texts[2]));
            match experiment.rsplit_once(':') {
                Some((id, label)) if label == "A" || label == "B" => {
                    arm.push(label.to_string());
                    ab_id.push(id.to_string());
                }
                _ => {
                    arm.push(String::new());
                    ab_id.push(String::new());
                }
            }
            source.push(file.display().to_string());
            // One independent sample: a replicate of one configuration (model, suite, SUT)
            // within an experiment, or within a plain run.
            let group = if experiment.is_empty() {
                &texts[0]
            } else {
                experiment
            };
            let replicate = NUMBER_COLUMNS
                .iter()
                .position(|c| *c == "replicate")
                .and_then(|at| values[at])
                .unwrap_or(0.0);
            let (suite, sut, model) = (&texts[4], &texts[6], &texts[7]);
            sample.push(format!("{group}|{model}|{suite}|{sut}#{replicate}"));
            for (column, value) in text.iter_mut().zip(texts) {
                column.push(value);
            }
            for (column, value) in numbers.iter_mut().zip(values) {
                column.push(value);
            }
        }
    }
    let height = night.len();
    let mut columns: Vec<Column> = Vec::new();
    for (name, values) in TEXT_COLUMNS.iter().zip(text) {
        columns.push(Column::new((*name).into(), values));
    }
    for (name, values) in NUMBER_COLUMNS.iter().zip(numbers) {
        columns.push(Column::new((*name).into(), values));
    }
    columns.push(Column::new("night".into(), night));
    columns.push(Column::new("arm".into(), arm));
    columns.push(Column::new("ab_id".into(), ab_id));
    columns.push(Column::new("source".into(), source));
    columns.push(Column::new("sample".into(), sample));
    let frame = DataFrame::new(height, columns)?;
    Ok(Dataset { frame, skipped })
}

type ParsedRow = (Vec<String>, Vec<Option<f64>>);

fn read_file(file: &Path, skipped: &mut Vec<String>) -> Result<Vec<ParsedRow>, NotebookError> {
    let io = |source: std::io::Error| NotebookError::Io {
        path: file.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(file).map_err(io)?;
    let read = crate::records::read_records(&bytes).map_err(|message| NotebookError::Format {
        path: file.to_path_buf(),
        message,
    })?;
    let headers = read.headers;
    let position = |name: &str| headers.iter().position(|h| h == name);
    for required in ["timestamp", "task", "builder_model"] {
        if position(required).is_none() {
            return Err(NotebookError::Format {
                path: file.to_path_buf(),
                message: format!("no `{required}` column: not a swarm-gym results file"),
            });
        }
    }
    let text_at: Vec<Option<usize>> = TEXT_COLUMNS.iter().map(|c| position(c)).collect();
    let number_at: Vec<Option<usize>> = NUMBER_COLUMNS.iter().map(|c| position(c)).collect();
    let mut rows = Vec::new();
    // Every line left out, with its number, reported in file order.
    let mut left_out: Vec<(u64, String)> = read
        .bad
        .iter()
        .map(|bad| (bad.line, format!("unreadable: {}", bad.message)))
        .collect();
    for located in read.records {
        let line = located.first_line;
        let record = located.record;
        let texts: Vec<String> = text_at
            .iter()
            .map(|at| at.and_then(|i| record.get(i)).unwrap_or("").to_string())
            .collect();
        let mut values = Vec::with_capacity(number_at.len());
        let mut bad = None;
        for (name, at) in NUMBER_COLUMNS.iter().zip(&number_at) {
            let cell = at.and_then(|i| record.get(i)).unwrap_or("").trim();
            if cell.is_empty() {
                values.push(None);
                continue;
            }
            match cell.parse::<f64>() {
                Ok(value) if value.is_finite() => values.push(Some(value)),
                _ => {
                    bad = Some(format!("`{name}` is `{cell}`, not a number"));
                    break;
                }
            }
        }
        if let Some(reason) = bad {
            left_out.push((line, reason));
            continue;
        }
        rows.push((texts, values));
    }
    left_out.sort();
    skipped.extend(
        left_out
            .into_iter()
            .map(|(line, reason)| format!("{}:{line}: {reason}", file.display())),
    );
    Ok(rows)
}

/// The strings of a text column (null as empty).
pub fn strings(frame: &DataFrame, name: &str) -> Result<Vec<String>, NotebookError> {
    let column = frame.column(name)?.str()?;
    Ok(column
        .iter()
        .map(|value| value.unwrap_or("").to_string())
        .collect())
}

/// The values of a number column (null as None).
pub fn floats(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, NotebookError> {
    let column = frame.column(name)?.cast(&DataType::Float64)?;
    Ok(column.f64()?.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn nights_come_from_nightly_experiments_then_timestamps() {
        assert_eq!(
            night_of("nightly-2026-11-30", "2026-12-01T02:10:00Z"),
            "2026-11-30"
        );
        assert_eq!(night_of("ab17:A", "2026-12-01T02:10:00Z"), "2026-12-01");
        assert_eq!(
            night_of("nightly-garbage", "2026-12-01T02:10:00Z"),
            "2026-12-01"
        );
    }

    #[test]
    fn bad_rows_are_reported_and_left_out_and_missing_scores_stay_null() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(
            &path,
            "timestamp,experiment,task,builder_model,checks,swarm,turn,replicate\n\
             2026-12-01T00:00:00Z,ab1:A,t,m,10,,1,1\n\
             2026-12-01T00:00:00Z,,t,m,ten,5,1,1\n\
             2026-12-01T00:00:00Z,,t,m,10\n\
             2026-12-02T00:00:00Z,nightly-2026-12-01,t,m,4,6,1,2\n",
        )
        .unwrap();
        let data = load(std::slice::from_ref(&path)).unwrap();
        assert_eq!(data.frame.height(), 2);
        assert_eq!(
            floats(&data.frame, "checks").unwrap(),
            vec![Some(10.0), Some(4.0)]
        );
        assert_eq!(floats(&data.frame, "swarm").unwrap(), vec![None, Some(6.0)]);
        assert_eq!(floats(&data.frame, "bugs").unwrap(), vec![None, None]);
        assert_eq!(strings(&data.frame, "arm").unwrap(), vec!["A", ""]);
        assert_eq!(
            strings(&data.frame, "night").unwrap(),
            vec!["2026-12-01", "2026-12-01"]
        );
        assert_eq!(data.skipped.len(), 2, "{:?}", data.skipped);
        assert!(data.skipped[0].contains(":3: `checks` is `ten`"));
        assert!(data.skipped[1].contains(":4: unreadable: 5 field(s) where the header has 8"));
        let not_results = dir.path().join("other.csv");
        std::fs::write(&not_results, "a,b\n1,2\n").unwrap();
        let err = load(&[not_results]).unwrap_err().to_string();
        assert!(err.contains("not a swarm-gym results file"), "{err}");
    }
}
