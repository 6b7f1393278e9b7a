//! Runs a turn's hidden checks against a project. The project is copied into a fresh
//! directory with the turn's fixtures (the system under test never sees either), and every
//! command runs in the sandbox. Each check answers pass, fail or inconclusive: a tool missing
//! from this machine (say, `node`) is inconclusive, never a false red. TypeScript is compiled
//! once in the grading copy before any command runs (so `node dist/cli.js` can), and every
//! command's fresh copy is taken from that compiled copy.

use crate::fsutil::copy_tree;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use swarm::parse_console;
use swarm::{excerpt, tool_missing, StepResult};
use swarm::{Limits, Sandbox, SandboxCommand, SandboxOutcome};

/// One hidden check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A console block: commands, expected stdout and exit codes.
    Console(String),
    /// A file exists.
    FileExists(String),
    /// A file contains text.
    FileContains {
        /// Relative path.
        path: String,
        /// Text that must occur.
        text: String,
    },
    /// A file matches a regular expression.
    FileMatches {
        /// Relative path.
        path: String,
        /// The expression.
        regex: String,
    },
    /// A shell command exits 0.
    CommandSucceeds(String),
}

impl Check {
    /// A short label for reports.
    pub fn label(&self) -> String {
        match self {
            Check::Console(body) => {
                let first = body.lines().find(|l| l.starts_with("$ ")).unwrap_or("$ ?");
                format!("console `{}`", first.trim_start_matches("$ "))
            }
            Check::FileExists(path) => format!("file exists {path}"),
            Check::FileContains { path, text } => format!("{path} contains {text:?}"),
            Check::FileMatches { path, regex } => format!("{path} matches /{regex}/"),
            Check::CommandSucceeds(command) => format!("succeeds `{command}`"),
        }
    }
}

/// What one check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The check held.
    Pass,
    /// The check did not hold.
    Fail,
    /// The check could not be decided here (a tool is missing).
    Inconclusive,
}

/// One check's result, with the evidence a human (or a fix task) needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// What was checked.
    pub label: String,
    /// The conclusion.
    pub verdict: Verdict,
    /// Why: the command, expected and actual output, stderr.
    pub evidence: String,
}

/// Why checks could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Copying the project or writing fixtures failed.
    #[error("cannot prepare the grading directory: {0}")]
    Prepare(#[from] std::io::Error),
    /// The sandbox could not start a command.
    #[error("sandbox: {0}")]
    Sandbox(#[from] swarm::SandboxError),
}

/// Time limit of one check command.
const STEP_WALL: Duration = Duration::from_secs(30);

fn limits() -> Limits {
    Limits {
        wall: STEP_WALL,
        cpu_seconds: 60,
        ..Limits::default()
    }
}

/// What to check: the checks and the hidden files they need.
#[derive(Debug, Clone, Copy)]
pub struct CheckSet<'a> {
    /// The checks, in order.
    pub checks: &'a [Check],
    /// Files (relative path → content) added to the project only for grading.
    pub fixtures: &'a BTreeMap<String, String>,
}

/// A fresh copy of `project` with the fixtures written in.
fn grading_copy(project: &Path, turn: CheckSet<'_>) -> Result<tempfile::TempDir, std::io::Error> {
    let dir = tempfile::Builder::new()
        .prefix("swarm-gym-grade-")
        .tempdir()?;
    if project.is_dir() {
        copy_tree(project, dir.path())?;
    }
    for (path, content) in turn.fixtures {
        swarm::write_inside(dir.path(), path, content.as_bytes())?;
    }
    Ok(dir)
}

async fn run_step(
    sandbox: &Sandbox,
    dir: &Path,
    command: &str,
) -> Result<SandboxOutcome, CheckError> {
    Ok(sandbox
        .run(&SandboxCommand::shell(command, dir).with_limits(limits()))
        .await?)
}

/// Runs every check against `project` (a missing project counts as empty). Checks are
/// independent (each command runs in its own fresh copy), so several run at once — as many as
/// the machine has cores — when the sandbox gives each its own network namespace; unsealed,
/// they run one at a time, so two servers can never fight over a port.
pub async fn run_checks(
    project: &Path,
    turn: CheckSet<'_>,
    sandbox: &Sandbox,
) -> Result<Vec<CheckOutcome>, CheckError> {
    use futures::StreamExt;
    let shared = grading_copy(project, turn)?;
    let unbuilt =
        match swarm::verify::compile_typescript(sandbox, shared.path(), STEP_WALL * 4).await? {
            swarm::verify::Compiled::ToolMissing(why) => Some(why),
            _ => None,
        };
    let at_once = if sandbox.is_sealed() {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    let shared_dir = shared.path();
    // Boxed, so the stream's type names no closure over a borrowed check (which keeps the
    // caller's future `Send` for any lifetime).
    let runs: Vec<futures::future::BoxFuture<'_, Result<CheckOutcome, CheckError>>> = turn
        .checks
        .iter()
        .map(|check| {
            Box::pin(run_one(
                check,
                unbuilt.as_deref(),
                shared_dir,
                turn,
                sandbox,
            )) as _
        })
        .collect();
    futures::stream::iter(runs)
        .buffered(at_once)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// One check: file checks look at `shared` (the project with its fixtures, compiled), commands
/// run in a fresh copy of it of their own — or are inconclusive when the project could not be
/// built to run (`unbuilt` says why).
async fn run_one(
    check: &Check,
    unbuilt: Option<&str>,
    shared: &Path,
    turn: CheckSet<'_>,
    sandbox: &Sandbox,
) -> Result<CheckOutcome, CheckError> {
    let label = check.label();
    let (verdict, evidence) = match check {
        Check::FileExists(path) => {
            let exists = shared.join(path).exists();
            (
                if exists { Verdict::Pass } else { Verdict::Fail },
                format!(
                    "{path} {}",
                    if exists { "exists" } else { "does not exist" }
                ),
            )
        }
        Check::FileContains { path, text } => match std::fs::read_to_string(shared.join(path)) {
            Ok(content) if content.contains(text.as_str()) => {
                (Verdict::Pass, format!("{path} contains {text:?}"))
            }
            Ok(_) => (Verdict::Fail, format!("{path} does not contain {text:?}")),
            Err(_) => (
                Verdict::Fail,
                format!("{path} does not exist or is not text"),
            ),
        },
        Check::FileMatches { path, regex } => {
            let pattern =
                regex::Regex::new(regex).map_err(|err| std::io::Error::other(err.to_string()))?;
            match std::fs::read_to_string(shared.join(path)) {
                Ok(content) if pattern.is_match(&content) => {
                    (Verdict::Pass, format!("{path} matches /{regex}/"))
                }
                Ok(_) => (Verdict::Fail, format!("{path} does not match /{regex}/")),
                Err(_) => (
                    Verdict::Fail,
                    format!("{path} does not exist or is not text"),
                ),
            }
        }
        Check::CommandSucceeds(_) | Check::Console(_) if unbuilt.is_some() => (
            Verdict::Inconclusive,
            unbuilt.unwrap_or_default().to_string(),
        ),
        Check::CommandSucceeds(command) => {
            let fresh = grading_copy(shared, turn)?;
            let outcome = run_step(sandbox, fresh.path(), command).await?;
            if let Some(missing) = tool_missing(command, &outcome) {
                (Verdict::Inconclusive, missing)
            } else if outcome.success() {
                (Verdict::Pass, format!("`{command}` exited 0"))
            } else {
                (Verdict::Fail, describe_exit(command, &outcome, 0))
            }
        }
        Check::Console(body) => console_check(shared, turn, sandbox, body).await?,
    };
    Ok(CheckOutcome {
        label,
        verdict,
        evidence,
    })
}

fn describe_exit(command: &str, outcome: &SandboxOutcome, expected: i32) -> String {
    swarm::describe_exit(command, outcome, expected, STEP_WALL)
}

async fn console_check(
    project: &Path,
    turn: CheckSet<'_>,
    sandbox: &Sandbox,
    body: &str,
) -> Result<(Verdict, String), CheckError> {
    let fresh = grading_copy(project, turn)?;
    let steps = parse_console(body);
    for step in &steps {
        match swarm::run_step(sandbox, fresh.path(), step, STEP_WALL).await? {
            StepResult::Passed => {}
            StepResult::ToolMissing(missing) => return Ok((Verdict::Inconclusive, missing)),
            StepResult::WrongExit(outcome) => {
                return Ok((
                    Verdict::Fail,
                    describe_exit(&step.command, &outcome, step.exit_code),
                ))
            }
            StepResult::WrongOutput(why, outcome) => {
                return Ok((
                    Verdict::Fail,
                    format!(
                        "`{}`: {why}\nstderr:\n{}",
                        step.command,
                        excerpt(&outcome.stderr.text(), 15)
                    ),
                ))
            }
        }
    }
    Ok((
        Verdict::Pass,
        format!(
            "{} command(s) gave the expected output and exit codes",
            steps.len()
        ),
    ))
}
