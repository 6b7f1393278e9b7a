//! swarm-gym: tasks with hidden checks, and the proof that each task's checks are sound
//! (`tasks check`). The runner, results store and A/B statistics build on these.

pub mod ab;
pub mod continue_app;
pub mod demo;
pub mod generate;
pub mod nightly;
pub mod results;
pub mod runner;
pub mod session;
pub use notebooks::stats;
pub mod stats_check;
pub mod study;
pub mod summary;
pub mod sut;
pub mod task;
#[cfg(test)]
pub(crate) mod test_support;
pub mod tuner;
pub mod user_sim;
pub mod validate;
pub mod view;

pub use graders::checks::{run_checks, Check, CheckOutcome, Verdict};
pub use graders::fsutil;
pub use results::{
    harness_commit, read_rows, replicate_key, BadRow, ResultRow, ResultsError, ResultsStore,
    COLUMNS,
};
pub use runner::{entry_points, run_suite, RunConfig, RunError, RunEvent, RunSummary};
pub use sut::Sut;
pub use task::{load_task, suite_task_dirs, Archetype, Task, TaskError, Turn};
pub use validate::{validate_task, TaskReport};
