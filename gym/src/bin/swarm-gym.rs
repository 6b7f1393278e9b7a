//! `swarm-gym`: the benchmark harness. `tasks check` works today; the other commands land
//! with issues 3 and 5, and until then each says so and exits 2, rather than printing
//! anything that could be mistaken for a result.

use clap::{Parser, Subcommand};
use gym::{load_task, suite_task_dirs, validate_task, TaskReport};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use swarm::sandbox::Sandbox;

#[derive(Parser)]
#[command(
    name = "swarm-gym",
    version,
    about = "Benchmark harness for local coding swarms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Task suites: prove their checks.
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// Run a suite against a system under test and grade every turn (not available yet).
    Run,
    /// Print one result row's transcript (not available yet).
    Show,
    /// Compare two arms on the same tasks (not available yet).
    Ab,
    /// Reproduce a published A/B study on your fleet (not available yet).
    Study,
    /// Run a nightly matrix and report regressions (not available yet).
    Nightly,
    /// Render trend, A/B and knob-effect reports (not available yet).
    Report,
    /// Have the brain model invent new tasks (not available yet).
    Generate,
    /// Propose and confirm cluster-knob changes from stored results (not available yet).
    Tune,
    /// A/B on a simulated fleet (not available yet).
    Demo,
}

#[derive(Subcommand)]
enum TasksCommand {
    /// Prove each task: checks pass on the reference (3 runs) and fail without the work.
    Check {
        /// Suites, as paths (tasks/smoke) or names (smoke); default: every suite in tasks/.
        suites: Vec<String>,
        /// Print the reports as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let (name, issue) = match Cli::parse().command {
        Command::Tasks(TasksCommand::Check { suites, json }) => return tasks_check(&suites, json),
        Command::Run => ("run", 3),
        Command::Show => ("show", 3),
        Command::Ab => ("ab", 3),
        Command::Demo => ("demo", 3),
        Command::Study => ("study", 5),
        Command::Nightly => ("nightly", 5),
        Command::Report => ("report", 5),
        Command::Generate => ("generate", 5),
        Command::Tune => ("tune", 5),
    };
    eprintln!("swarm-gym {name}: not available yet (it lands with issue {issue})");
    ExitCode::from(2)
}

/// Suite directories named on the command line, or every suite under `tasks/`.
fn suite_dirs(suites: &[String]) -> Result<Vec<PathBuf>, String> {
    if suites.is_empty() {
        let entries = std::fs::read_dir("tasks").map_err(|err| {
            format!("cannot read tasks/ ({err}); run from the repository root or name a suite")
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        return Ok(dirs);
    }
    suites
        .iter()
        .map(|suite| {
            let direct = PathBuf::from(suite);
            let named = Path::new("tasks").join(suite);
            if direct.is_dir() {
                Ok(direct)
            } else if named.is_dir() {
                Ok(named)
            } else {
                Err(format!(
                    "no suite `{suite}` (tried {} and {})",
                    direct.display(),
                    named.display()
                ))
            }
        })
        .collect()
}

fn tasks_check(suites: &[String], json: bool) -> ExitCode {
    let dirs = match suite_dirs(suites) {
        Ok(dirs) => dirs,
        Err(err) => {
            eprintln!("swarm-gym tasks check: {err}");
            return ExitCode::from(2);
        }
    };
    let sandbox = Sandbox::detect();
    for missing in sandbox.missing_layers() {
        eprintln!(
            "WARNING: sandbox layer {} not applied: {}",
            missing.layer, missing.reason
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("swarm-gym: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let mut reports: Vec<TaskReport> = Vec::new();
    let mut malformed = 0;
    for suite in dirs {
        let task_dirs = match suite_task_dirs(&suite) {
            Ok(task_dirs) => task_dirs,
            Err(err) => {
                eprintln!("{err}");
                malformed += 1;
                continue;
            }
        };
        for dir in task_dirs {
            let task = match load_task(&dir) {
                Ok(task) => task,
                Err(err) => {
                    eprintln!("MALFORMED {err}");
                    malformed += 1;
                    continue;
                }
            };
            eprint!("checking {}/{} ... ", task.suite, task.id);
            match runtime.block_on(validate_task(&task, sandbox)) {
                Ok(report) => {
                    if report.valid {
                        eprintln!("valid: {} turn(s), {} check(s); reference passed {}x, checks fail without the work", report.turns, report.checks, gym::validate::REFERENCE_RUNS);
                    } else {
                        eprintln!("INVALID, never used:");
                        for problem in &report.problems {
                            eprintln!("    {problem}");
                        }
                    }
                    reports.push(report);
                }
                Err(err) => {
                    eprintln!("could not check: {err}");
                    malformed += 1;
                }
            }
        }
    }
    let invalid = reports.iter().filter(|r| !r.valid).count();
    if json {
        match serde_json::to_string_pretty(&reports) {
            Ok(text) => println!("{text}"),
            Err(err) => eprintln!("cannot render JSON: {err}"),
        }
    } else {
        println!(
            "{} task(s) valid, {invalid} invalid, {malformed} malformed",
            reports.len() - invalid
        );
    }
    if malformed > 0 {
        ExitCode::from(2)
    } else if invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
