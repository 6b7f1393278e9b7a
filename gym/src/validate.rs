//! `tasks check`: a task is usable only when its checks are proven — every check passes on
//! the reference of its turn (three times, to catch flaky checks), and the turn's checks fail
//! on a project that lacks the work (an empty one, the starting project, and the previous
//! turn's reference). A task that fails this is reported with the reason and never used.

use crate::task::Task;
use graders::checks::{run_checks, CheckError, Verdict};
use serde::Serialize;
use std::path::Path;
use swarm::Sandbox;

/// How many times the reference must pass.
pub const REFERENCE_RUNS: usize = 3;

/// The verdict on one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskReport {
    /// `suite/task`.
    pub name: String,
    /// Usable.
    pub valid: bool,
    /// Turns.
    pub turns: usize,
    /// Checks over all turns.
    pub checks: usize,
    /// Why it is not usable (empty when valid).
    pub problems: Vec<String>,
}

/// Proves one task's checks.
pub async fn validate_task(task: &Task, sandbox: &Sandbox) -> Result<TaskReport, CheckError> {
    let mut problems = Vec::new();
    let empty = tempfile::Builder::new()
        .prefix("swarm-gym-empty-")
        .tempdir()?;
    for turn in &task.turns {
        for run in 1..=REFERENCE_RUNS {
            for outcome in run_checks(&turn.reference, turn.check_set(), sandbox).await? {
                match outcome.verdict {
                    Verdict::Pass => {}
                    Verdict::Fail => {
                        problems.push(format!(
                        "turn {}: `{}` fails on the reference (run {run} of {REFERENCE_RUNS}): {}",
                        turn.number, outcome.label, first_lines(&outcome.evidence)
                    ))
                    }
                    Verdict::Inconclusive => problems.push(format!(
                        "turn {}: `{}` cannot be proven here: {}",
                        turn.number, outcome.label, outcome.evidence
                    )),
                }
            }
            if !problems.is_empty() {
                break;
            }
        }
        let mut baselines: Vec<(&str, &Path)> = vec![("an empty project", empty.path())];
        if turn.number == 1 {
            if let Some(start) = &task.start {
                baselines.push(("the starting project", start));
            }
        } else if let Some(previous) = task.turns.get(turn.number - 2) {
            baselines.push(("the previous turn's reference", &previous.reference));
        }
        for (name, project) in baselines {
            let outcomes = run_checks(project, turn.check_set(), sandbox).await?;
            if outcomes.iter().all(|o| o.verdict == Verdict::Pass) {
                problems.push(format!("turn {}: every check passes on {name}, so the checks cannot tell whether the work was done", turn.number));
            }
        }
    }
    Ok(TaskReport {
        name: format!("{}/{}", task.suite, task.id),
        valid: problems.is_empty(),
        turns: task.turns.len(),
        checks: task.turns.iter().map(|t| t.checks.len()).sum(),
        problems,
    })
}

fn first_lines(text: &str) -> String {
    text.lines().take(4).collect::<Vec<_>>().join(" | ")
}

/// The tasks of a suite that may be run, and why the others may not.
#[derive(Debug, Clone, Default)]
pub struct Usable {
    /// Loaded, filtered and proven.
    pub tasks: Vec<Task>,
    /// One line per task left out: its checks are not sound, or could not be checked.
    pub skipped: Vec<String>,
}

/// The usable tasks of the suite in `suite`: loaded, filtered by id (`only`; empty: all),
/// and proven with [`validate_task`] (a task is used only once its checks pass on the
/// reference and fail without the work). A malformed task, or a wanted task that is not
/// usable, is an error: its file must be fixed.
pub async fn usable_tasks(
    suite: &Path,
    only: &[String],
    sandbox: &Sandbox,
) -> Result<Usable, String> {
    let mut usable = Usable::default();
    for dir in crate::task::suite_task_dirs(suite).map_err(|err| err.to_string())? {
        let task = crate::task::load_task(&dir).map_err(|err| err.to_string())?;
        if !only.is_empty() && !only.contains(&task.id) {
            continue;
        }
        match validate_task(&task, sandbox).await {
            Ok(report) if report.valid => usable.tasks.push(task),
            Ok(report) => usable.skipped.push(format!(
                "skipping {}: its checks are not sound: {}",
                report.name,
                report.problems.join("; ")
            )),
            Err(err) => usable.skipped.push(format!(
                "skipping {}/{}: cannot check it: {err}",
                task.suite, task.id
            )),
        }
    }
    let tasks = &usable.tasks;
    if let Some(wanted) = only.iter().find(|w| !tasks.iter().any(|t| &t.id == *w)) {
        return Err(format!("no usable task `{wanted}` in {}", suite.display()));
    }
    if tasks.is_empty() {
        return Err(format!("no usable task in {}", suite.display()));
    }
    Ok(usable)
}
