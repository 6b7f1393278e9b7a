//! swarm-gym: tasks with hidden checks, and the proof that each task's checks are sound
//! (`tasks check`). The runner, graders, results store and A/B statistics build on these.

pub mod checks;
pub mod fsutil;
pub mod task;
pub mod validate;

pub use checks::{run_checks, CheckOutcome, Verdict};
pub use task::{load_task, suite_task_dirs, Archetype, Check, Task, TaskError, Turn};
pub use validate::{validate_task, TaskReport};
