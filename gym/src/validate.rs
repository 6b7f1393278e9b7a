//! `tasks check`: a task is usable only when its checks are proven — every check passes on
//! the reference of its turn (three times, to catch flaky checks), and the turn's checks fail
//! on a project that lacks the work (an empty one, the starting project, and the previous
//! turn's reference). A task that fails this is reported with the reason and never used.

use crate::task::Task;
use graders::checks::{run_checks, CheckError, Verdict};
use serde::Serialize;
use std::path::Path;
use swarm::sandbox::Sandbox;

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
