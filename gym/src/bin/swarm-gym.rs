//! `swarm-gym`: the benchmark harness — tasks, runs, A/B comparisons, the study, nightly
//! runs, reports, the tuner and the task generator. The library does the work; this file
//! parses flags, prints progress on stderr and results on stdout, and chooses exit codes.

use clap::{Args, Parser, Subcommand};
use gym::{
    load_task, run_suite, suite_task_dirs, validate_task, RunConfig, RunEvent, Sut, Task,
    TaskReport,
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
    /// Compare two arms on the same tasks: exactly the stated settings changed.
    Ab(AbArgs),
    /// Reproduce a published A/B study on your fleet (qwopus-vs-vanilla).
    Study(StudyArgs),
    /// Run a nightly matrix (models x suites x SUTs x replicates), append its rows, render the
    /// trend report; exit 1 when a regression is found.
    Nightly(NightlyArgs),
    /// Print the A/B reports of stored rows; with --html, write the analyses (trends,
    /// regressions, A/B charts, knob effects) as SVG/PNG figures, Markdown and one HTML page.
    Report {
        /// Result CSVs.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only this experiment id.
        #[arg(long)]
        experiment: Option<String>,
        /// Write the full report (figures, report.md, report.html) into --out.
        #[arg(long)]
        html: bool,
        /// Where --html writes.
        #[arg(long, default_value = "results/report")]
        out: PathBuf,
        /// Earlier nights in a regression's rolling baseline.
        #[arg(long, default_value_t = 7)]
        baseline_nights: usize,
    },
    /// Have the brain model invent tasks; keep only those `tasks check` proves, deduplicated
    /// against the existing suites.
    Generate(GenerateArgs),
    /// Diagnose stored results: one cluster-knob change proposed, confirmed by a short A/B
    /// and kept only if checks hold and cluster improves; behavioural problems listed for a human.
    Tune(TuneArgs),
    /// A/B of a careful and a sloppy scripted model over tasks/smoke on a SIMULATED fleet.
    Demo {
        /// Replicates per arm.
        #[arg(long, default_value_t = 3)]
        replicates: u32,
        /// Results CSV.
        #[arg(long, default_value = "results/demo/results.csv")]
        results: PathBuf,
    },
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
    /// Later turns' requests come from the fleet's `brain` node playing the task's persona
    /// (it must keep every concrete requirement, or the scripted request is used).
    #[arg(long)]
    simulate_user: bool,
    /// A pipeline knob for SUT swarm, NAME=VALUE (repeatable; `swarm knobs` lists them).
    #[arg(long = "knob")]
    knobs: Vec<String>,
}

#[derive(Args)]
struct AbArgs {
    /// Suite, as a path or a name.
    #[arg(long)]
    suite: String,
    /// Fleet file.
    #[arg(long)]
    fleet: PathBuf,
    /// Arm A's settings: model=, judge_model=, brain_model=, action_mode=, max_actions=, sut=, fleet=.
    #[arg(long = "a", num_args = 1.., required = true)]
    arm_a: Vec<String>,
    /// Arm B's settings.
    #[arg(long = "b", num_args = 1.., required = true)]
    arm_b: Vec<String>,
    /// Replicates per arm.
    #[arg(long, default_value_t = 3)]
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
    /// The single agent's action budget per turn (unless an arm sets it).
    #[arg(long, default_value_t = 40)]
    max_actions: u32,
    /// Samples per judge node per turn.
    #[arg(long, default_value_t = 3)]
    judge_samples: u32,
    /// A pipeline knob both arms share, NAME=VALUE (an arm changes one with knob:NAME=VALUE).
    #[arg(long = "knob")]
    knobs: Vec<String>,
}

#[derive(Args)]
struct StudyArgs {
    /// The study: qwopus-vs-vanilla.
    study: String,
    /// Fleet file; every node that is not only a judge serves the arm's model in turn.
    #[arg(long)]
    fleet: PathBuf,
    /// Arm A's model id (as the servers list it), e.g. qwopus3.6-27b.
    #[arg(long)]
    a_model: String,
    /// Arm B's model id, e.g. qwen3.6-27b.
    #[arg(long)]
    b_model: String,
    /// Replicates per arm (the original study ran one).
    #[arg(long, default_value_t = 3)]
    replicates: u32,
    /// Task replicates run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Results CSV to append to; the arms' fleet files are written beside it.
    #[arg(long, default_value = "results/results.csv")]
    results: PathBuf,
    /// Samples per judge node per turn.
    #[arg(long, default_value_t = 3)]
    judge_samples: u32,
    /// A pipeline knob both arms share, NAME=VALUE (the same knobs for both: only the model changes).
    #[arg(long = "knob")]
    knobs: Vec<String>,
    /// Only these apps (comma-separated), for a quick check of a fleet; the reproduction is
    /// all five, and the report says when it is not.
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
}

#[derive(Args)]
struct GenerateArgs {
    /// The kind of task.
    #[arg(long, value_parser = parse_archetype)]
    archetype: gym::task::Archetype,
    /// Who the user is, in a sentence.
    #[arg(long)]
    persona: String,
    /// Tasks to keep.
    #[arg(long, default_value_t = 1)]
    n: usize,
    /// Where kept tasks go (a suite directory).
    #[arg(long, default_value = "tasks/generated")]
    out: PathBuf,
    /// The fleet; its `brain` node writes the drafts.
    #[arg(long)]
    fleet: PathBuf,
    /// Most drafts to ask for (default: 3 per task wanted).
    #[arg(long)]
    max_drafts: Option<usize>,
    /// The suites a new task must not duplicate (every suite under this directory, and --out).
    #[arg(long, default_value = "tasks")]
    existing: PathBuf,
    /// Most tokens the brain may write for one draft (spec, checks and every reference file).
    #[arg(long, default_value_t = 8192)]
    max_reply_tokens: u32,
}

fn parse_archetype(text: &str) -> Result<gym::task::Archetype, String> {
    serde_yaml_ng::from_str(text)
        .map_err(|_| format!("`{text}`: expected heavy-spec, minimal-spec or continue-existing"))
}

#[derive(Args)]
struct TuneArgs {
    /// Result CSVs to diagnose.
    #[arg(long, num_args = 1.., required = true)]
    results: Vec<PathBuf>,
    /// The fleet the confirming A/B runs on.
    #[arg(long)]
    fleet: PathBuf,
    /// Write a kept change into the config file ([knobs] table); never otherwise.
    #[arg(long)]
    apply: bool,
    /// The config file --apply writes (default: $SWARM_CONFIG, else ~/.config/swarm/config.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Replicates per arm of the confirming A/B.
    #[arg(long, default_value_t = 2)]
    replicates: u32,
    /// Task replicates run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Where the log, the trial rows and the review list go (default: beside the first results file).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct NightlyArgs {
    /// The nightly plan (YAML; examples/nightly/nightly.yaml documents every field).
    #[arg(long)]
    plan: PathBuf,
    /// The night's date (YYYY-MM-DD); default: the unfinished night of this plan, else today (UTC).
    #[arg(long)]
    night: Option<String>,
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
    match Cli::parse().command {
        Command::Tasks(TasksCommand::Check { suites, json }) => tasks_check(&suites, json),
        Command::Run(args) => run_command(args),
        Command::Show { row, results, full } => show_command(row, &results, full),
        Command::Ab(args) => ab_command(args),
        Command::Demo {
            replicates,
            results,
        } => demo_command(replicates, &results),
        Command::Study(args) => study_command(args),
        Command::Nightly(args) => nightly_command(args),
        Command::Report {
            files,
            experiment,
            html,
            out,
            baseline_nights,
        } => {
            if html {
                html_report_command(&files, &out, baseline_nights)
            } else {
                report_command(&files, experiment.as_deref())
            }
        }
        Command::Generate(args) => generate_command(args),
        Command::Tune(args) => tune_command(args),
    }
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

/// The usable tasks of a suite: loaded, filtered, and proven (an unsound task is skipped
/// with its reason). A malformed task stops everything: its file must be fixed.
fn usable_tasks(
    runtime: &tokio::runtime::Runtime,
    suite: &str,
    only: &[String],
) -> Result<Vec<Task>, String> {
    let suite = suite_dirs(&[suite.to_string()])?.remove(0);
    let sandbox = Sandbox::detect();
    for missing in sandbox.missing_layers() {
        eprintln!(
            "WARNING: sandbox layer {} not applied: {}",
            missing.layer, missing.reason
        );
    }
    let mut tasks = Vec::new();
    for dir in suite_task_dirs(&suite).map_err(|err| err.to_string())? {
        let task = load_task(&dir).map_err(|err| err.to_string())?;
        if !only.is_empty() && !only.contains(&task.id) {
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
    if let Some(wanted) = only
        .iter()
        .find(|wanted| !tasks.iter().any(|t| &t.id == *wanted))
    {
        return Err(format!("no usable task `{wanted}` in {}", suite.display()));
    }
    if tasks.is_empty() {
        return Err(format!("no usable task in {}", suite.display()));
    }
    Ok(tasks)
}

/// What `run` and `ab` need first: the fleet, a runtime, and the suite's proven tasks.
fn prepare(
    fleet: &Path,
    suite: &str,
    only: &[String],
) -> Result<(Fleet, tokio::runtime::Runtime, Vec<Task>), String> {
    let fleet = Fleet::load(fleet).map_err(|err| err.to_string())?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let tasks = usable_tasks(&runtime, suite, only)?;
    Ok((fleet, runtime, tasks))
}

/// Knobs from the config file, `SWARM_*` variables and `--knob` flags.
fn resolve_knobs(flags: &[String]) -> Result<swarm::knobs::Knobs, String> {
    let env = |key: &str| std::env::var(key).ok();
    let (file, _) = swarm::settings::read_file(&env).map_err(|e| e.to_string())?;
    swarm::knobs::Knobs::resolve(file.knobs.as_ref(), &env, flags).map_err(|e| e.to_string())
}

fn run_command(args: RunArgs) -> ExitCode {
    let knobs = match resolve_knobs(&args.knobs) {
        Ok(knobs) => knobs,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    let (fleet, runtime, tasks) = match prepare(&args.fleet, &args.suite, &args.tasks) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
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
        first_replicate: 1,
        experiment: String::new(),
        simulate_user: args.simulate_user,
        knobs,
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
        RunEvent::UserFallback { task, turn, reason } => {
            eprintln!("  {task} turn {turn}: simulated user unusable ({reason}); the scripted request is used")
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
        // SUT swarm: each worker's conversation starts with a header line.
        if let (Some(task), Some(stage)) = (message["task"].as_str(), message["stage"].as_str()) {
            println!(
                "\n══ task {task} ({stage}, attempt {}) on {} ══",
                message["attempt"],
                message["node"].as_str().unwrap_or("?")
            );
            continue;
        }
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

/// Progress of labelled runs (an A/B arm, a nightly cell) on stderr; with `total`, graded
/// and skipped turns are counted `[n/total]`.
fn labelled_progress(total: Option<usize>) -> gym::ab::ArmEvents {
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Arc::new(move |label: &str, event: &RunEvent| {
        let counted = || match total {
            Some(total) => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                format!("[{n}/{total}] {label} |")
            }
            None => format!("[{label}]"),
        };
        let plain = || match total {
            Some(_) => format!("{label} |"),
            None => format!("[{label}]"),
        };
        match event {
            RunEvent::TurnGraded {
                task,
                replicate,
                turn,
                hidden,
                claimed,
                checks,
                ..
            } => {
                let checks = checks
                    .map(|v| format!("{v:.1}"))
                    .unwrap_or_else(|| "-".into());
                eprintln!("  {} {task} r{replicate} turn {turn}: hidden {hidden}, claimed {claimed}, checks {checks}", counted());
            }
            RunEvent::TurnSkipped {
                task,
                replicate,
                turn,
            } => eprintln!(
                "  {} {task} r{replicate} turn {turn}: already recorded, skipped",
                counted()
            ),
            RunEvent::Abandoned {
                task,
                replicate,
                reason,
            } => eprintln!("  {} {task} r{replicate}: ABANDONED: {reason}", plain()),
            RunEvent::Retrying { task, turn, reason } => {
                eprintln!("  {} {task} turn {turn}: retrying: {reason}", plain())
            }
            RunEvent::UserFallback { task, turn, reason } => eprintln!(
                "  {} {task} turn {turn}: simulated user unusable ({reason}); scripted request used",
                plain()
            ),
            RunEvent::TurnStarted { .. } => {}
        }
    })
}

fn ab_progress() -> gym::ab::ArmEvents {
    labelled_progress(None)
}

fn experiment_id() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("ab{secs}")
}

/// Runs an A/B and prints its report; returns the exit code.
fn run_and_report(
    runtime: &tokio::runtime::Runtime,
    base: RunConfig,
    arms: (&[gym::ab::Setting], &[gym::ab::Setting]),
) -> ExitCode {
    let experiment = experiment_id();
    let results = base.results.clone();
    if let Err(err) = runtime.block_on(gym::ab::run_ab(&base, arms, &experiment, ab_progress())) {
        eprintln!("swarm-gym ab: {err}");
        return ExitCode::from(2);
    }
    let (rows, bad) = match gym::read_rows(&results) {
        Ok(read) => read,
        Err(err) => {
            eprintln!("swarm-gym ab: {err}");
            return ExitCode::from(2);
        }
    };
    for problem in bad {
        eprintln!(
            "warning: line {} of {} is unreadable: {}",
            problem.line,
            results.display(),
            problem.message
        );
    }
    let arm = |label: &str| {
        rows.iter()
            .filter(|r| r.experiment == format!("{experiment}:{label}"))
            .cloned()
            .collect::<Vec<_>>()
    };
    let report = gym::ab::analyse(&experiment, &arm("A"), &arm("B"));
    print!(
        "{}",
        gym::ab::render(
            &report,
            &gym::ab::describe(arms.0),
            &gym::ab::describe(arms.1)
        )
    );
    println!("rows: {} (experiment {experiment})", results.display());
    ExitCode::SUCCESS
}

fn parse_arm(settings: &[String]) -> Result<Vec<gym::ab::Setting>, String> {
    settings.iter().map(|s| gym::ab::parse_setting(s)).collect()
}

fn ab_command(args: AbArgs) -> ExitCode {
    let (arm_a, arm_b) = match (parse_arm(&args.arm_a), parse_arm(&args.arm_b)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("swarm-gym ab: {err}");
            return ExitCode::from(2);
        }
    };
    let knobs = match resolve_knobs(&args.knobs) {
        Ok(knobs) => knobs,
        Err(err) => {
            eprintln!("swarm-gym ab: {err}");
            return ExitCode::from(2);
        }
    };
    let (fleet, runtime, tasks) = match prepare(&args.fleet, &args.suite, &args.tasks) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("swarm-gym ab: {err}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "swarm-gym ab: A = {}; B = {}; {} task(s) x {} replicate(s), interleaved",
        gym::ab::describe(&arm_a),
        gym::ab::describe(&arm_b),
        tasks.len(),
        args.replicates
    );
    let base = RunConfig {
        tasks,
        sut: Sut::Single,
        fleet,
        fleet_name: args.fleet.display().to_string(),
        replicates: args.replicates,
        concurrency: args.concurrency,
        results: args.results,
        resume: false,
        max_actions: args.max_actions,
        judge_samples: args.judge_samples,
        first_replicate: 1,
        experiment: String::new(),
        simulate_user: false,
        knobs,
    };
    run_and_report(&runtime, base, (&arm_a, &arm_b))
}

/// Rows of result files, each with the directory its paths are relative to; unreadable
/// lines are reported on stderr and left out.
fn read_results(files: &[PathBuf]) -> Result<Vec<(PathBuf, gym::ResultRow)>, String> {
    let mut rows = Vec::new();
    for file in files {
        let (read, bad) = gym::read_rows(file).map_err(|err| err.to_string())?;
        for problem in bad {
            eprintln!(
                "warning: line {} of {} is unreadable: {}",
                problem.line,
                file.display(),
                problem.message
            );
        }
        let base = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        rows.extend(read.into_iter().map(|row| (base.clone(), row)));
    }
    Ok(rows)
}

fn report_command(files: &[PathBuf], only: Option<&str>) -> ExitCode {
    let rows: Vec<gym::ResultRow> = match read_results(files) {
        Ok(rows) => rows.into_iter().map(|(_, row)| row).collect(),
        Err(err) => {
            eprintln!("swarm-gym report: {err}");
            return ExitCode::from(2);
        }
    };
    let experiments: std::collections::BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.experiment.rsplit_once(':').map(|(id, _)| id.to_string()))
        .filter(|id| only.is_none_or(|wanted| wanted == id))
        .collect();
    if experiments.is_empty() {
        eprintln!(
            "swarm-gym report: no A/B rows{} in the given files",
            only.map(|id| format!(" for experiment {id}"))
                .unwrap_or_default()
        );
        return ExitCode::from(1);
    }
    for experiment in experiments {
        let arm = |label: &str| {
            rows.iter()
                .filter(|r| r.experiment == format!("{experiment}:{label}"))
                .cloned()
                .collect::<Vec<_>>()
        };
        let (a, b) = (arm("A"), arm("B"));
        let label = |rows: &[gym::ResultRow]| {
            let models: std::collections::BTreeSet<&str> =
                rows.iter().map(|r| r.builder_model.as_str()).collect();
            let knobs: std::collections::BTreeSet<&str> =
                rows.iter().map(|r| r.knobs.as_str()).collect();
            format!(
                "builder {} with knobs {}",
                models.into_iter().collect::<Vec<_>>().join("/"),
                knobs.into_iter().collect::<Vec<_>>().join(" | ")
            )
        };
        print!(
            "{}",
            gym::ab::render(
                &gym::ab::analyse(&experiment, &a, &b),
                &label(&a),
                &label(&b)
            )
        );
        println!();
    }
    ExitCode::SUCCESS
}

fn demo_command(replicates: u32, results: &Path) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    eprintln!("swarm-gym demo: a SIMULATED fleet (swarm-sim, scripted replies): `careful` replays the tasks' reference solutions; `sloppy` drifts from its own interfaces, leaves modules unwired, claims done without writing and crashes on realistic input. The code they write is real and is graded for real.");
    let tasks = match usable_tasks(&runtime, "smoke", &[]) {
        Ok(tasks) => tasks,
        Err(err) => {
            eprintln!("swarm-gym demo: {err} (run it from the repository root)");
            return ExitCode::from(2);
        }
    };
    // Both arms run the whole pipeline; every node of an arm's fleet serves that arm's model.
    let mut rules = gym::demo::swarm_rules(
        &tasks,
        Some("careful"),
        "careful",
        &gym::demo::careful_files,
    );
    rules.extend(gym::demo::swarm_rules(
        &tasks,
        Some("sloppy"),
        "sloppy",
        &gym::demo::sloppy_files,
    ));
    let scenario = swarm::sim::Scenario {
        nodes: vec![
            gym::demo::sim_node("careful", "sim-careful"),
            gym::demo::sim_node("sloppy", "sim-sloppy"),
        ],
        rules,
        // Past its script a scripted model claims it is done, as weak models do.
        default_reply: Some(gym::demo::claims_done()),
    };
    let sim = match runtime.block_on(swarm::sim::SimFleet::start(scenario, "127.0.0.1")) {
        Ok(sim) => sim,
        Err(err) => {
            eprintln!("swarm-gym demo: cannot start the simulated fleet: {err}");
            return ExitCode::from(2);
        }
    };
    let dir = results.parent().unwrap_or(Path::new("."));
    let mut arms = Vec::new();
    for node in &sim.nodes {
        let yaml = format!(
            "# SIMULATED: a swarm-sim node of `swarm-gym demo` (its URL lives as long as the demo)\nnodes:\n  - {{name: {}, url: '{}', model: {}, slots: 4, roles: [planner, worker, scout, brain]}}\n",
            node.name, node.url, node.model
        );
        let path = dir.join(format!("fleet-{}.yaml", node.name));
        if let Err(err) = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, yaml)) {
            eprintln!("swarm-gym demo: cannot write {}: {err}", path.display());
            return ExitCode::from(2);
        }
        arms.push(path);
    }
    let fleet = match Fleet::load(&arms[0]) {
        Ok(fleet) => fleet,
        Err(err) => {
            eprintln!("swarm-gym demo: {err}");
            return ExitCode::from(2);
        }
    };
    let base = RunConfig {
        tasks,
        sut: Sut::Swarm,
        fleet,
        fleet_name: "simulated demo fleet".into(),
        replicates,
        concurrency: 4,
        results: results.to_path_buf(),
        resume: false,
        max_actions: 10,
        judge_samples: 1,
        first_replicate: 1,
        experiment: String::new(),
        simulate_user: false,
        knobs: swarm::knobs::Knobs::default(),
    };
    let arm_a = [gym::ab::Setting::Fleet(arms[0].clone())];
    let arm_b = [gym::ab::Setting::Fleet(arms[1].clone())];
    println!("SIMULATED fleet: scripted models, real code, real grading. No judge node: requirements, code_quality and bugs stay empty.");
    let code = run_and_report(&runtime, base, (&arm_a, &arm_b));
    print_sloppy_catches(results);
    drop(sim);
    // The same rows as figures and one page (every title says SIMULATED).
    let report = dir.join("report");
    match notebooks::data::load(&[results.to_path_buf()])
        .and_then(|data| notebooks::report::write(&data, &report, &Default::default()))
    {
        Ok(written) => print_written(&written),
        Err(err) => eprintln!("swarm-gym demo: the report could not be written: {err}"),
    }
    code
}

/// What the graders caught in the sloppy arm, read back from each row's grades.json.
fn print_sloppy_catches(results: &Path) {
    let Ok((rows, _)) = gym::read_rows(results) else {
        return;
    };
    let Some(latest) = rows
        .iter()
        .rev()
        .find_map(|r| r.experiment.strip_suffix(":B").map(String::from))
    else {
        return;
    };
    let base = results.parent().unwrap_or(Path::new("."));
    let (mut false_greens, mut drift, mut crashes, mut unwired, mut total) = (0, 0, 0, 0, 0);
    for row in rows
        .iter()
        .filter(|r| r.experiment == format!("{latest}:B"))
    {
        total += 1;
        if matches!(row.claimed_verdict.as_str(), "done" | "pass") && row.hidden_verdict == "fail" {
            false_greens += 1;
        }
        let grades = Path::new(&row.events)
            .parent()
            .map(|dir| base.join(dir).join("grades.json"));
        let text = grades
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        drift += usize::from(text.contains("TypeError"));
        crashes += usize::from(text.contains("KeyError"));
        unwired += usize::from(text.contains("never imported"));
    }
    println!("\ngraders on the sloppy arm ({total} turns): {false_greens} false green(s) (claimed done or pass, hidden checks fail) scored swarm 0; {drift} interface drift(s) caught as TypeError by the hidden checks; {crashes} crash(es) on realistic input (KeyError); {unwired} turn(s) with a module built but never imported, found by diagnostics");
}

fn study_command(args: StudyArgs) -> ExitCode {
    let fail = |err: String| {
        eprintln!("swarm-gym study: {err}");
        ExitCode::from(2)
    };
    let design = match gym::study::design(&args.study) {
        Ok(design) => design,
        Err(err) => return fail(err),
    };
    if args.a_model.trim().is_empty()
        || args.b_model.trim().is_empty()
        || args.a_model == args.b_model
    {
        return fail("--a-model and --b-model must name two different models".into());
    }
    let knobs = match resolve_knobs(&args.knobs) {
        Ok(knobs) => knobs,
        Err(err) => return fail(err),
    };
    let (fleet, runtime, tasks) = match prepare(&args.fleet, design.suite, &args.tasks) {
        Ok(prepared) => prepared,
        Err(err) => return fail(err),
    };
    // The arms' fleets are written down: what each arm ran on is part of the record.
    let dir = args.results.parent().unwrap_or(Path::new("."));
    let mut arms = Vec::new();
    for (label, model) in [("a", &args.a_model), ("b", &args.b_model)] {
        let arm = gym::study::arm_fleet(&fleet, model);
        let path = dir.join(format!(
            "study-{}-{label}-{}.yaml",
            design.name,
            model.replace(['/', ' '], "_")
        ));
        let written = serde_yaml_ng::to_string(&arm)
            .map_err(|err| err.to_string())
            .and_then(|yaml| {
                std::fs::create_dir_all(dir)
                    .and_then(|_| std::fs::write(&path, yaml))
                    .map_err(|err| err.to_string())
            });
        if let Err(err) = written {
            return fail(format!("cannot write {}: {err}", path.display()));
        }
        arms.push(path);
    }
    let turns: usize = tasks.iter().map(|t| t.turns.len()).sum();
    eprintln!(
        "swarm-gym study {}: {}; A = {}, B = {}; {} app(s), {turns} turn(s) each arm and replicate, {} replicate(s), interleaved",
        design.name, design.about, args.a_model, args.b_model, tasks.len(), args.replicates
    );
    let base = RunConfig {
        tasks,
        sut: Sut::Swarm,
        fleet,
        fleet_name: args.fleet.display().to_string(),
        replicates: args.replicates,
        concurrency: args.concurrency,
        results: args.results.clone(),
        resume: false,
        max_actions: 40,
        judge_samples: args.judge_samples,
        first_replicate: 1,
        experiment: String::new(),
        simulate_user: false,
        knobs,
    };
    let arm_a = [gym::ab::Setting::Fleet(arms[0].clone())];
    let arm_b = [gym::ab::Setting::Fleet(arms[1].clone())];
    println!(
        "study {}: A = {}, B = {} (SUT swarm; every non-judge node serves the arm's model)",
        design.name, args.a_model, args.b_model
    );
    if !args.tasks.is_empty() {
        println!(
            "PARTIAL: only {} of the study's apps ran (--tasks); the reproduction runs all of them",
            args.tasks.join(", ")
        );
    }
    let started = experiment_id();
    let code = run_and_report(&runtime, base, (&arm_a, &arm_b));
    print_study_cost(&args.results, &started, args.replicates);
    code
}

/// What one replicate of each arm cost, from its rows: tokens and wall time summed over the
/// arm's turns, divided by the replicates. (Experiment ids sort by time, so the study's is
/// the newest at or after `since`.)
fn print_study_cost(results: &Path, since: &str, replicates: u32) {
    let Ok((rows, _)) = gym::read_rows(results) else {
        return;
    };
    let Some(experiment) = rows
        .iter()
        .filter_map(|r| r.experiment.split(':').next())
        .filter(|e| *e >= since)
        .max()
        .map(String::from)
    else {
        return;
    };
    for label in ["A", "B"] {
        let arm: Vec<&gym::ResultRow> = rows
            .iter()
            .filter(|r| r.experiment == format!("{experiment}:{label}"))
            .collect();
        let n = f64::from(replicates.max(1));
        let tokens_in: u64 = arm.iter().map(|r| r.tokens_in).sum();
        let tokens_out: u64 = arm.iter().map(|r| r.tokens_out).sum();
        let wall: f64 = arm.iter().map(|r| r.wall_seconds).sum();
        println!(
            "cost per replicate, arm {label}: {} turns, {:.0} prompt tokens, {:.0} generated tokens, {:.0} s of pipeline wall time",
            arm.len() as f64 / n,
            tokens_in as f64 / n,
            tokens_out as f64 / n,
            wall / n
        );
    }
}

/// Writes the full report; prints its paths and any regression.
fn html_report_command(files: &[PathBuf], out: &Path, window: usize) -> ExitCode {
    let data = match notebooks::data::load(files) {
        Ok(data) => data,
        Err(err) => {
            eprintln!("swarm-gym report: {err}");
            return ExitCode::from(2);
        }
    };
    for skipped in &data.skipped {
        eprintln!("warning: left out {skipped}");
    }
    let options = notebooks::report::ReportOptions {
        window,
        ..Default::default()
    };
    match notebooks::report::write(&data, out, &options) {
        Ok(written) => {
            print_written(&written);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("swarm-gym report: {err}");
            ExitCode::from(2)
        }
    }
}

fn print_written(written: &notebooks::report::Written) {
    for regression in &written.regressions {
        let c = &regression.comparison;
        println!(
            "REGRESSION {} {} on {}: {:.2} vs baseline {:.2} over {} night(s) (drop {:.2} > threshold {:.2}; noise: {})",
            regression.series, regression.dimension, c.night, c.newest, c.baseline, c.baseline_nights, c.drop, c.threshold, c.noise
        );
    }
    for err in &written.figure_errors {
        eprintln!("warning: {err}");
    }
    println!(
        "report: {} ({} figure(s), SVG and PNG) and {}",
        written.html.display(),
        written.figures.len(),
        written.markdown.display()
    );
}

fn nightly_command(args: NightlyArgs) -> ExitCode {
    let fail = |err: String| {
        eprintln!("swarm-gym nightly: {err}");
        ExitCode::from(2)
    };
    if let Some(night) = &args.night {
        if notebooks::data::night_of(&format!("nightly-{night}"), "") != *night {
            return fail(format!("--night `{night}` is not a date YYYY-MM-DD"));
        }
    }
    let plan = match gym::nightly::NightlyPlan::load(&args.plan) {
        Ok(plan) => plan,
        Err(err) => return fail(err),
    };
    let knobs = match resolve_knobs(&plan.knobs) {
        Ok(knobs) => knobs,
        Err(err) => return fail(err),
    };
    let fleet = match Fleet::load(&plan.fleet) {
        Ok(fleet) => fleet,
        Err(err) => return fail(err.to_string()),
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let mut suites = Vec::new();
    for suite in &plan.suites {
        match usable_tasks(&runtime, suite, &plan.tasks) {
            Ok(tasks) => suites.push((suite.clone(), tasks)),
            Err(err) => return fail(err),
        }
    }
    let base = RunConfig {
        tasks: Vec::new(),
        sut: Sut::Swarm,
        fleet,
        fleet_name: plan.fleet.display().to_string(),
        replicates: 1,
        concurrency: plan.concurrency,
        results: plan.results.clone(),
        resume: true,
        max_actions: plan.max_actions,
        judge_samples: plan.judge_samples,
        first_replicate: 1,
        experiment: String::new(),
        simulate_user: false,
        knobs,
    };
    let cells = match gym::nightly::cells(&plan, &base, &suites) {
        Ok(cells) => cells,
        Err(err) => return fail(err),
    };
    let hash = plan.hash();
    let now = gym::runner::now_rfc3339();
    let today: String = now.chars().take(10).collect();
    let recorded = gym::nightly::read_state(&plan.results);
    let (night, resumed) =
        gym::nightly::choose_night(args.night.as_deref(), recorded.as_ref(), &hash, &today);
    let state = gym::nightly::NightState {
        night: night.clone(),
        plan_hash: hash,
        started: recorded
            .filter(|_| resumed)
            .map(|s| s.started)
            .unwrap_or(now),
        finished: None,
    };
    if let Err(err) = gym::nightly::write_state(&plan.results, &state) {
        return fail(err);
    }
    let turns_per_replicate: usize = cells
        .iter()
        .map(|c| c.config.tasks.iter().map(|t| t.turns.len()).sum::<usize>())
        .sum();
    let total = turns_per_replicate * plan.replicates as usize;
    eprintln!(
        "swarm-gym nightly {night}{}: {} cell(s) x {} replicate(s) = {total} turn(s), results {}",
        if resumed {
            " (resuming the interrupted night)"
        } else {
            ""
        },
        cells.len(),
        plan.replicates,
        plan.results.display()
    );
    for cell in &cells {
        eprintln!("  cell: {}", cell.label);
    }
    let progress: gym::nightly::CellEvents = labelled_progress(Some(total));
    let summary = match runtime.block_on(gym::nightly::run_night(
        &cells,
        &night,
        plan.replicates,
        progress,
    )) {
        Ok(summary) => summary,
        Err(err) => return fail(err.to_string()),
    };
    if summary.abandoned.is_empty() {
        let finished = gym::nightly::NightState {
            finished: Some(gym::runner::now_rfc3339()),
            ..state
        };
        if let Err(err) = gym::nightly::write_state(&plan.results, &finished) {
            eprintln!("warning: {err}");
        }
    }
    let data = match notebooks::data::load(std::slice::from_ref(&plan.results)) {
        Ok(data) => data,
        Err(err) => return fail(err.to_string()),
    };
    for skipped in &data.skipped {
        eprintln!("warning: left out {skipped}");
    }
    let options = notebooks::report::ReportOptions {
        window: plan.baseline_nights,
        title: format!("swarm-gym nightly {night}"),
        night: Some(night.clone()),
    };
    let written = match notebooks::report::write(&data, &plan.report, &options) {
        Ok(written) => written,
        Err(err) => return fail(err.to_string()),
    };
    print_written(&written);
    let passed = summary
        .rows
        .iter()
        .filter(|r| r.hidden_verdict == "pass")
        .count();
    println!(
        "night {night}: {} turn(s) graded ({passed} passed the hidden checks), {} already recorded, {} abandoned; {:.0} s",
        summary.rows.len(),
        summary.skipped,
        summary.abandoned.len(),
        summary.wall_seconds
    );
    match summary.occupancy() {
        Some(occupancy) => println!(
            "fleet occupancy: {:.0}% ({:.0} model-busy slot-seconds over {:.0} s x {} worker slot(s))",
            occupancy * 100.0,
            summary.busy_seconds,
            summary.wall_seconds,
            summary.slots
        ),
        None => println!("fleet occupancy: unknown (nothing ran)"),
    }
    for line in &summary.abandoned {
        println!("abandoned: {line}");
    }
    println!("results: {}", plan.results.display());
    if !written.regressions.is_empty() {
        println!("{} regression(s): exit 1", written.regressions.len());
        ExitCode::from(1)
    } else if !summary.abandoned.is_empty() {
        println!("the night is incomplete; run the same command again to resume it: exit 3");
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}

fn tune_command(args: TuneArgs) -> ExitCode {
    use gym::tuner::{self, LogEntry};
    let fail = |err: String| {
        eprintln!("swarm-gym tune: {err}");
        ExitCode::from(2)
    };
    let out = args.out.clone().unwrap_or_else(|| {
        args.results[0]
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf()
    });
    let log_path = out.join("tune-log.jsonl");
    let rows = match read_results(&args.results) {
        Ok(rows) => rows,
        Err(err) => return fail(err),
    };
    let fleet = match Fleet::load(&args.fleet) {
        Ok(fleet) => fleet,
        Err(err) => return fail(err.to_string()),
    };
    let diagnosis = tuner::diagnose(&rows);
    let now = gym::runner::now_rfc3339;
    let logged = |entry: &LogEntry| {
        if let Err(err) = tuner::log(&log_path, entry) {
            eprintln!("warning: cannot write the tuner log: {err}");
        }
    };
    logged(&LogEntry::Diagnosis {
        time: now(),
        files: args
            .results
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        rows: diagnosis.rows,
        cluster: diagnosis
            .cluster
            .iter()
            .map(|(p, (r, n))| (p.knob().to_string() + " <- " + p.describe(), (r.len(), *n)))
            .collect(),
        review: diagnosis.review.len(),
    });
    println!(
        "diagnosed {} row(s) from {} file(s)",
        diagnosis.rows,
        args.results.len()
    );
    if diagnosis.cluster.is_empty() {
        println!("cluster problems: none");
    }
    for (problem, (indices, occurrences)) in &diagnosis.cluster {
        println!(
            "cluster problem: {} in {} row(s), {occurrences} occurrence(s) -> knob {}",
            problem.describe(),
            indices.len(),
            problem.knob()
        );
    }
    if diagnosis.untunable > 0 {
        println!(
            "{} row(s) of SUT single show cluster problems: not tunable with a pipeline knob",
            diagnosis.untunable
        );
    }
    let review_path = out.join("tune-review.md");
    if diagnosis.review.is_empty() {
        println!("behavioural problems: none");
    } else {
        if let Err(err) = std::fs::create_dir_all(&out)
            .and_then(|_| std::fs::write(&review_path, tuner::review_markdown(&diagnosis.review)))
        {
            return fail(format!("cannot write {}: {err}", review_path.display()));
        }
        let mut kinds: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for item in &diagnosis.review {
            *kinds.entry(item.kind.as_str()).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        println!(
            "behavioural problems: {} row(s) ({}), not a knob's to fix: listed for a human in {}",
            diagnosis.review.len(),
            kinds.join(", "),
            review_path.display()
        );
    }
    let slots = fleet.nodes.iter().map(|n| n.slots).max().unwrap_or(1);
    let Some(proposal) = tuner::propose(&diagnosis, &rows, slots) else {
        println!("no knob change to propose; log: {}", log_path.display());
        return ExitCode::SUCCESS;
    };
    println!(
        "proposal: {} = {} -> {} ({})",
        proposal.knob, proposal.from, proposal.to, proposal.reason
    );
    logged(&LogEntry::Proposal {
        time: now(),
        proposal: proposal.clone(),
    });

    // The confirming A/B: the stored settings against the change, on the affected tasks.
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let mut knobs = swarm::knobs::Knobs::default();
    for (name, value) in &proposal.baseline {
        if let Err(err) = knobs.set(name, value, swarm::knobs::Source::File, "stored rows") {
            return fail(err.to_string());
        }
    }
    let mut tasks = Vec::new();
    let suites: std::collections::BTreeSet<&String> =
        proposal.tasks.iter().map(|(s, _)| s).collect();
    for suite in suites {
        let only: Vec<String> = proposal
            .tasks
            .iter()
            .filter(|(s, _)| s == suite)
            .map(|(_, t)| t.clone())
            .collect();
        match usable_tasks(&runtime, suite, &only) {
            Ok(found) => tasks.extend(found),
            Err(err) => return fail(err),
        }
    }
    let trial_results = out.join("tune-trials.csv");
    let base = RunConfig {
        tasks,
        sut: Sut::Swarm,
        fleet,
        fleet_name: args.fleet.display().to_string(),
        replicates: args.replicates,
        concurrency: args.concurrency,
        results: trial_results.clone(),
        resume: false,
        max_actions: 40,
        judge_samples: 1,
        first_replicate: 1,
        experiment: String::new(),
        simulate_user: false,
        knobs,
    };
    let change = [gym::ab::Setting::Knob(
        proposal.knob.clone(),
        proposal.to.clone(),
    )];
    let experiment = format!("tune{}", experiment_id().trim_start_matches("ab"));
    eprintln!(
        "confirming with an A/B on {} task(s) x {} replicate(s): A = stored settings, B = {}={}",
        proposal.tasks.len(),
        args.replicates,
        proposal.knob,
        proposal.to
    );
    let ran = runtime.block_on(gym::ab::run_ab(
        &base,
        (&[], &change),
        &experiment,
        ab_progress(),
    ));
    let (done_a, done_b) = match ran {
        Ok(done) => done,
        Err(err) => return fail(err.to_string()),
    };
    let rows_a: Vec<gym::ResultRow> = done_a.into_iter().flat_map(|s| s.rows).collect();
    let rows_b: Vec<gym::ResultRow> = done_b.into_iter().flat_map(|s| s.rows).collect();
    let report = gym::ab::analyse(&experiment, &rows_a, &rows_b);
    let means = |name: &str| {
        report
            .dimensions
            .iter()
            .find(|d| d.dimension == name)
            .and_then(|d| d.comparison.as_ref())
            .map(|c| (c.mean_a, c.mean_b))
    };
    let trial = tuner::Trial {
        experiment: experiment.clone(),
        pairs: report.pairs,
        checks: means("checks"),
        cluster: means("cluster"),
    };
    let show = |v: Option<(f64, f64)>| {
        v.map(|(a, b)| format!("{a:.2} -> {b:.2}"))
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "trial {experiment}: {} paired turn(s); checks {}, cluster {} (rows in {})",
        trial.pairs,
        show(trial.checks),
        show(trial.cluster),
        trial_results.display()
    );
    logged(&LogEntry::Trial {
        time: now(),
        trial: trial.clone(),
    });
    let (kept, reason) = tuner::decide(&trial);
    let mut applied_to = None;
    if kept && args.apply {
        let config = args
            .config
            .clone()
            .or_else(|| swarm::settings::config_path(&|k: &str| std::env::var(k).ok()));
        let Some(config) = config else {
            return fail("--apply: no config file path (set --config or $SWARM_CONFIG)".into());
        };
        if let Err(err) = tuner::apply(&config, &proposal.knob, &proposal.to) {
            return fail(err);
        }
        applied_to = Some(config.display().to_string());
    }
    println!("decision: {} = {}: {reason}", proposal.knob, proposal.to);
    match (&applied_to, kept) {
        (Some(path), _) => println!(
            "applied: [knobs] \"{}\" = \"{}\" in {path}",
            proposal.knob, proposal.to
        ),
        (None, true) => println!("not applied (run with --apply to write it to the config file)"),
        (None, false) => {}
    }
    logged(&LogEntry::Decision {
        time: now(),
        knob: proposal.knob.clone(),
        value: proposal.to.clone(),
        kept,
        reason,
        applied_to,
    });
    println!("log: {}", log_path.display());
    ExitCode::SUCCESS
}

fn generate_command(args: GenerateArgs) -> ExitCode {
    use gym::generate::{self, DraftOutcome};
    let fail = |err: String| {
        eprintln!("swarm-gym generate: {err}");
        ExitCode::from(2)
    };
    if args.n == 0 || args.persona.trim().is_empty() {
        return fail("--n must be at least 1 and --persona must say who the user is".into());
    }
    let fleet = match Fleet::load(&args.fleet) {
        Ok(fleet) => fleet,
        Err(err) => return fail(err.to_string()),
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let brain = match runtime.block_on(gym::runner::probe_brain(&fleet)) {
        Ok(brain) => brain,
        Err(err) => return fail(err.to_string().replace("--simulate-user", "generate")),
    };
    let sandbox = Sandbox::detect();
    for missing in sandbox.missing_layers() {
        eprintln!(
            "WARNING: sandbox layer {} not applied: {}",
            missing.layer, missing.reason
        );
    }
    if let Err(err) = std::fs::create_dir_all(&args.out) {
        return fail(format!("{}: {err}", args.out.display()));
    }
    let mut known = generate::known_tasks(&args.existing);
    for task in generate::known_in_suite(&args.out) {
        if !known.iter().any(|k| k.name == task.name) {
            known.push(task);
        }
    }
    let max_drafts = args.max_drafts.unwrap_or(args.n * 3).max(args.n);
    eprintln!(
        "swarm-gym generate: {} {} task(s) by {} ({}), at most {max_drafts} draft(s); {} existing task(s) to avoid",
        args.n,
        serde_json::to_value(args.archetype)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        brain.model,
        args.persona,
        known.len()
    );
    let mut outcomes = Vec::new();
    let mut kept = 0;
    for attempt in 1..=max_drafts {
        if kept == args.n {
            break;
        }
        let avoid: Vec<String> = known.iter().map(|k| k.id.clone()).collect();
        let text = generate::prompt(args.archetype, &args.persona, &avoid);
        let outcome =
            match runtime.block_on(generate::ask_draft(&brain, text, args.max_reply_tokens)) {
                Ok(draft) => runtime.block_on(generate::judge_draft(
                    &draft,
                    args.archetype,
                    &args.persona,
                    &args.out,
                    attempt,
                    &mut known,
                    sandbox,
                )),
                Err(why) => DraftOutcome::Rejected(format!("unusable reply: {why}")),
            };
        match &outcome {
            DraftOutcome::Kept(path) => {
                kept += 1;
                eprintln!(
                    "  draft {attempt}: KEPT {} (proven by tasks check)",
                    path.display()
                );
            }
            DraftOutcome::Rejected(why) => eprintln!("  draft {attempt}: rejected: {why}"),
        }
        outcomes.push(outcome);
    }
    println!(
        "kept {kept} of {} draft(s) into {}",
        outcomes.len(),
        args.out.display()
    );
    for outcome in &outcomes {
        if let DraftOutcome::Kept(path) = outcome {
            println!("  kept: {}", path.display());
        }
    }
    for (kind, count) in generate::rejection_counts(&outcomes) {
        println!("  rejected {count}: {kind}");
    }
    if kept < args.n {
        println!(
            "fewer tasks than asked ({kept} of {}); rejected drafts are under {}",
            args.n,
            args.out.join(".rejected").display()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
