//! `swarm-gym`: the benchmark harness. `tasks check` works today; the other commands land
//! with issues 3 and 5, and until then each says so and exits 2, rather than printing
//! anything that could be mistaken for a result.

use clap::{Args, Parser, Subcommand};
use gym::{
    load_task, run_suite, suite_task_dirs, validate_task, RunConfig, RunEvent, Sut, TaskReport,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use swarm::fleet::Fleet;
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
    /// Run a suite against a system under test and grade every turn.
    Run(RunArgs),
    /// Print one result row and its transcript.
    Show {
        /// 1-based data row of the results file.
        row: usize,
        /// The results CSV.
        #[arg(long, default_value = "results/results.csv")]
        results: PathBuf,
        /// Print every message whole (default: long ones are cut).
        #[arg(long)]
        full: bool,
    },
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

#[derive(Args)]
struct RunArgs {
    /// Suite, as a path (tasks/smoke) or a name (smoke).
    #[arg(long)]
    suite: String,
    /// System under test.
    #[arg(long, value_enum, default_value = "single")]
    sut: Sut,
    /// Fleet file (nodes with roles; builders are the `worker` nodes).
    #[arg(long)]
    fleet: PathBuf,
    /// Replicates per task.
    #[arg(long, default_value_t = 1)]
    replicates: u32,
    /// Only these tasks (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// Task replicates run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Results CSV to append to.
    #[arg(long, default_value = "results/results.csv")]
    results: PathBuf,
    /// Skip turns whose rows are already in the results file.
    #[arg(long)]
    resume: bool,
    /// The single agent's action budget per turn.
    #[arg(long, default_value_t = 40)]
    max_actions: u32,
    /// Samples per judge node per turn (the fleet's `judge` nodes grade requirements, code
    /// quality and bugs).
    #[arg(long, default_value_t = 3)]
    judge_samples: u32,
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
        Command::Run(args) => return run_command(args),
        Command::Show { row, results, full } => return show_command(row, &results, full),
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

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => Some(runtime),
        Err(err) => {
            eprintln!("swarm-gym: cannot start the async runtime: {err}");
            None
        }
    }
}

fn run_command(args: RunArgs) -> ExitCode {
    let suite = match suite_dirs(std::slice::from_ref(&args.suite)) {
        Ok(mut dirs) => dirs.remove(0),
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    let fleet = match Fleet::load(&args.fleet) {
        Ok(fleet) => fleet,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    let task_dirs = match suite_task_dirs(&suite) {
        Ok(dirs) => dirs,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let sandbox = Sandbox::detect();
    for missing in sandbox.missing_layers() {
        eprintln!(
            "WARNING: sandbox layer {} not applied: {}",
            missing.layer, missing.reason
        );
    }
    let mut tasks = Vec::new();
    for dir in task_dirs {
        let task = match load_task(&dir) {
            Ok(task) => task,
            Err(err) => {
                eprintln!("swarm-gym run: {err}");
                return ExitCode::from(2);
            }
        };
        if !args.tasks.is_empty() && !args.tasks.contains(&task.id) {
            continue;
        }
        // A task is used only once its checks are proven (pass on the reference, fail without the work).
        match runtime.block_on(validate_task(&task, sandbox)) {
            Ok(report) if report.valid => tasks.push(task),
            Ok(report) => eprintln!(
                "skipping {}: its checks are not sound: {}",
                report.name,
                report.problems.join("; ")
            ),
            Err(err) => eprintln!(
                "skipping {}/{}: cannot check it: {err}",
                task.suite, task.id
            ),
        }
    }
    for wanted in &args.tasks {
        if !tasks.iter().any(|t| &t.id == wanted) {
            eprintln!(
                "swarm-gym run: no usable task `{wanted}` in {}",
                suite.display()
            );
            return ExitCode::from(2);
        }
    }
    if tasks.is_empty() {
        eprintln!("swarm-gym run: no usable task in {}", suite.display());
        return ExitCode::from(2);
    }
    let total_turns: usize =
        tasks.iter().map(|t| t.turns.len()).sum::<usize>() * args.replicates as usize;
    eprintln!(
        "swarm-gym run: {} task(s) x {} replicate(s) = {total_turns} turn(s), SUT {}, fleet {}, results {}",
        tasks.len(), args.replicates, args.sut, args.fleet.display(), args.results.display()
    );
    let config = RunConfig {
        tasks,
        sut: args.sut,
        fleet,
        fleet_name: args.fleet.display().to_string(),
        replicates: args.replicates,
        concurrency: args.concurrency,
        results: args.results.clone(),
        resume: args.resume,
        max_actions: args.max_actions,
        judge_samples: args.judge_samples,
    };
    let graded = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = graded.clone();
    let progress = Arc::new(move |event: &RunEvent| match event {
        RunEvent::TurnStarted {
            task,
            replicate,
            turn,
            node,
        } => eprintln!("  {task} r{replicate} turn {turn}: building on {node}"),
        RunEvent::TurnGraded {
            task,
            replicate,
            turn,
            hidden,
            claimed,
            checks,
            overall,
        } => {
            let done = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let show = |v: &Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
            eprintln!("  [{done}/{total_turns}] {task} r{replicate} turn {turn}: hidden {hidden}, claimed {claimed}, checks {}, overall {}", show(checks), show(overall));
        }
        RunEvent::TurnSkipped {
            task,
            replicate,
            turn,
        } => eprintln!("  {task} r{replicate} turn {turn}: already in the results, skipped"),
        RunEvent::Retrying { task, turn, reason } => {
            eprintln!("  {task} turn {turn}: infrastructure failure, retrying: {reason}")
        }
        RunEvent::Abandoned {
            task,
            replicate,
            reason,
        } => eprintln!("  {task} r{replicate}: ABANDONED: {reason}"),
    });
    let summary = match runtime.block_on(run_suite(config, progress)) {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    print_run_table(&summary);
    println!(
        "results: {} ({} row(s) appended, {} turn(s) skipped as already present)",
        args.results.display(),
        summary.rows.len(),
        summary.skipped
    );
    if summary.abandoned.is_empty() {
        ExitCode::SUCCESS
    } else {
        for line in &summary.abandoned {
            println!("abandoned: {line}");
        }
        ExitCode::from(1)
    }
}

fn print_run_table(summary: &gym::RunSummary) {
    let mut by_task: std::collections::BTreeMap<(String, u32), Vec<&gym::ResultRow>> =
        std::collections::BTreeMap::new();
    for row in &summary.rows {
        by_task
            .entry((row.task.clone(), row.turn))
            .or_default()
            .push(row);
    }
    println!(
        "{:<14} {:>4} {:>5} {:>9} {:>7} {:>7} {:>7} {:>11} {:>8}",
        "task", "turn", "runs", "hidden ok", "checks", "swarm", "diagn.", "false green", "overall"
    );
    for ((task, turn), rows) in &by_task {
        let mean = |pick: fn(&gym::ResultRow) -> Option<f64>| {
            let values: Vec<f64> = rows.iter().filter_map(|r| pick(r)).collect();
            if values.is_empty() {
                "-".to_string()
            } else {
                format!("{:.1}", values.iter().sum::<f64>() / values.len() as f64)
            }
        };
        let passed = rows.iter().filter(|r| r.hidden_verdict == "pass").count();
        let false_green = rows
            .iter()
            .filter(|r| r.claimed_verdict == "done" && r.hidden_verdict == "fail")
            .count();
        println!(
            "{:<14} {:>4} {:>5} {:>9} {:>7} {:>7} {:>7} {:>11} {:>8}",
            task,
            turn,
            rows.len(),
            format!("{passed}/{}", rows.len()),
            mean(|r| r.checks),
            mean(|r| r.swarm),
            mean(|r| r.diagnostics),
            false_green,
            mean(|r| r.overall)
        );
    }
}

fn show_command(row: usize, results: &Path, full: bool) -> ExitCode {
    let (rows, bad) = match gym::read_rows(results) {
        Ok(read) => read,
        Err(err) => {
            eprintln!("swarm-gym show: {err}");
            return ExitCode::from(2);
        }
    };
    for problem in &bad {
        eprintln!(
            "warning: line {} of {} is unreadable: {}",
            problem.line,
            results.display(),
            problem.message
        );
    }
    let Some(found) = row.checked_sub(1).and_then(|index| rows.get(index)) else {
        eprintln!(
            "swarm-gym show: {} has {} readable row(s); row {row} is not one of them",
            results.display(),
            rows.len()
        );
        return ExitCode::from(2);
    };
    let show = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
    println!(
        "row {row}: {}/{} turn {} replicate {} | SUT {} | builder {} | run {} | commit {}",
        found.suite,
        found.task,
        found.turn,
        found.replicate,
        found.sut,
        found.builder_model,
        found.run_id,
        found.commit
    );
    println!(
        "hidden {} | claimed {} | checks {} swarm {} cluster {} diagnostics {} requirements {} code_quality {} bugs {} | overall {}",
        found.hidden_verdict, found.claimed_verdict, show(found.checks), show(found.swarm), show(found.cluster), show(found.diagnostics),
        show(found.requirements), show(found.code_quality), show(found.bugs), show(found.overall)
    );
    println!(
        "wall {:.1}s | tokens {}/{} | malformed {} | tool errors {} | overflows {}",
        found.wall_seconds,
        found.tokens_in,
        found.tokens_out,
        found.malformed_replies,
        found.tool_errors,
        found.context_overflows
    );
    let base = results.parent().unwrap_or(Path::new("."));
    let transcript = base.join(&found.transcript);
    let text = match std::fs::read_to_string(&transcript) {
        Ok(text) => text,
        Err(err) => {
            eprintln!(
                "swarm-gym show: cannot read the transcript {}: {err}",
                transcript.display()
            );
            return ExitCode::from(1);
        }
    };
    let limit = if full { usize::MAX } else { 1500 };
    for (number, line) in text.lines().enumerate() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            println!("--- line {} is not a message ---", number + 1);
            continue;
        };
        let role = message["role"].as_str().unwrap_or("?");
        println!("\n── {role} ──");
        let content = message["content"].as_str().unwrap_or("");
        if content.chars().count() > limit {
            let cut: String = content.chars().take(limit).collect();
            println!(
                "{cut}\n[... {} more characters; --full shows everything]",
                content.chars().count() - limit
            );
        } else if !content.is_empty() {
            println!("{content}");
        }
        for call in message["tool_calls"].as_array().into_iter().flatten() {
            let arguments = call["function"]["arguments"].as_str().unwrap_or("");
            let shown: String = arguments.chars().take(limit).collect();
            println!(
                "→ {}({shown})",
                call["function"]["name"].as_str().unwrap_or("?")
            );
        }
    }
    println!("\nevents: {}", base.join(&found.events).display());
    ExitCode::SUCCESS
}
