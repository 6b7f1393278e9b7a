//! Analyses over swarm-gym result CSVs: polars for the analysis, plotters for the plots.
//!
//! - [`data`]: any set of result CSVs into one `DataFrame` (bad rows reported, never guessed).
//! - [`trends`]: score per model and dimension over nights with replicate spread, and
//!   regressions of the newest night against a rolling baseline beyond the replicate noise.
//! - [`abchart`]: each A/B experiment's paired difference per dimension with its interval.
//! - [`knobs`]: a knob's value against the cluster and checks scores.
//! - [`plot`]: SVG and PNG figures of the three; [`report`]: the Markdown report and one
//!   HTML page gathering everything.
//! - [`schema`]: the results format (columns, dimensions, verdict texts) the gym and the
//!   graders share.
//! - [`stats`]: the paired statistics (clustered intervals, McNemar, Holm, Wilson) shared
//!   with the gym's A/B report.
//!
//! ```no_run
//! let data = notebooks::data::load(&["results/results.csv".into()])?;
//! let written = notebooks::report::write(&data, std::path::Path::new("results/report"), &Default::default())?;
//! println!("{}", written.markdown.display());
//! # Ok::<(), notebooks::NotebookError>(())
//! ```

pub mod abchart;
pub mod data;
pub mod knobs;
pub mod plot;
pub mod records;
pub mod report;
pub mod schema;
pub mod stats;
pub mod trends;

use std::path::PathBuf;

/// What can go wrong in an analysis.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    /// A file could not be read or written (not retryable without a fix).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not a results CSV.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// polars refused an operation (a bug in the analysis, reported rather than hidden).
    #[error("analysis: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    /// A figure could not be drawn.
    #[error("plot {path}: {message}")]
    Plot {
        /// The figure.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
