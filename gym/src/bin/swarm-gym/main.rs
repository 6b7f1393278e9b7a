//! `swarm-gym`: the benchmark harness — tasks, runs, A/B comparisons, the study, nightly
//! runs, reports, the tuner and the task generator. The library does the work; this file
//! parses flags, prints progress on stderr and results on stdout, and chooses exit codes.

use clap::{Args, Parser, Subcommand};
use gym::{Sut, Task};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use swarm::Fleet;
use swarm::Sandbox;

mod ab;
mod args;
mod generate;
mod list;
mod nightly;
mod progress;
mod run;
mod study;
mod tasks;
mod tune;
mod view;

pub(crate) use args::{FleetArgs, GradingArgs, TaskSelection, UserArgs};
pub(crate) use progress::labelled_progress;

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
    /// Print one result row: its failed hidden checks with their output first, then its
    /// scores, then its transcript.
    Show {
        /// The row: N (1-based data row of --results) or FILE:N, as `list` prints it.
        row: String,
        /// The results CSV.
        #[arg(long, default_value = "results/results.csv")]
        results: PathBuf,
        /// Print every message and every check's output whole (default: long ones are cut).
        #[arg(long, visible_alias = "transcript")]
        full: bool,
    },
    /// List result rows, newest first, with filters; each line starts with the FILE:N that
    /// `show` takes.
    List(list::ListArgs),
    /// Browse results in a local web page on 127.0.0.1 (works offline): runs and rows with
    /// filters, each turn (failed checks, scores with evidence, diff, timeline, transcript),
    /// A/B experiments, nightly trends, and live runs. Prints the address and opens it.
    View {
        /// Result CSVs, or directories holding them (searched a few levels deep).
        #[arg(default_value = "results")]
        results: Vec<PathBuf>,
        /// Port on 127.0.0.1 (taken: the next free one; 0: any free one).
        #[arg(long, default_value_t = 8750)]
        port: u16,
        /// Only print the address; do not open a browser.
        #[arg(long)]
        no_open: bool,
    },
    /// Compare two arms on the same tasks: exactly the stated settings changed.
    Ab(AbArgs),
    /// Reproduce a published A/B study on your fleet (qwopus-vs-vanilla).
    Study(StudyArgs),
    /// Run a nightly matrix (models x suites x SUTs x replicates), append its rows, render the
    /// trend report; exit 1 when a regression is found.
    Nightly(NightlyArgs),
    /// Print the A/B reports of stored rows (rows of plain runs: a per-task summary); with --html, write the analyses (trends,
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
        /// Print the reports (or the per-task summary) as JSON on stdout.
        #[arg(long, conflicts_with = "html")]
        json: bool,
    },
    /// Have the brain model invent tasks; keep only those `tasks check` proves, deduplicated
    /// against the existing suites.
    Generate(GenerateArgs),
    /// Diagnose stored results: one cluster-knob change proposed, confirmed by a short A/B
    /// and kept only if checks hold and cluster improves; behavioural problems listed for a human.
    Tune(TuneArgs),
    /// Check the A/B statistics on SIMULATED experiments: how often an A/A test calls an arm
    /// better (goal: at most 5%), and how often a planted effect is found against the power
    /// the reports claim. Exit 1 when the A/A rate is over 5%.
    StatsCheck {
        /// Experiments of each kind.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        experiments: u32,
        /// Tasks per experiment (the clusters; the study has 5).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..))]
        tasks: u32,
        /// Turns per task.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        turns: u32,
        /// Replicates per arm.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
        replicates: u32,
        /// The planted difference in checks (A − B, points of 10).
        #[arg(long, default_value_t = 2.0)]
        effect: f64,
        /// Seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A/B of a careful and a sloppy scripted model over a smoke suite on a SIMULATED fleet.
    Demo {
        /// The suite: smoke (Python), smoke-rust or smoke-ts (the scripted models know these).
        #[arg(long, default_value = "smoke", value_parser = ["smoke", "smoke-rust", "smoke-ts"])]
        suite: String,
        /// Replicates per arm.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
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
    #[command(flatten)]
    fleet: FleetArgs,
    /// Replicates per task.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    replicates: u32,
    #[command(flatten)]
    select: TaskSelection,
    /// Task replicates run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Results CSV to append to.
    #[arg(long, default_value = "results/results.csv")]
    results: PathBuf,
    /// Print the outcome (totals, per-task table, failures with their checks, rows) as JSON
    /// on stdout.
    #[arg(long)]
    json: bool,
    /// Skip turns whose rows are already in the results file.
    #[arg(long)]
    resume: bool,
    /// Add a new run beside rows of the same tasks already in the results file (without it,
    /// such rows make the run refuse: pass --resume to continue them instead).
    #[arg(long, conflicts_with = "resume")]
    new_run: bool,
    #[command(flatten)]
    grading: GradingArgs,
    #[command(flatten)]
    user: UserArgs,
    /// A knob, NAME=VALUE (repeatable; `swarm knobs` lists them): the pipeline's for SUT
    /// swarm; `build.max_actions` is also the single agent's budget per turn; `node.*` the
    /// fleet's clients for both.
    #[arg(long = "knob")]
    knobs: Vec<String>,
}

#[derive(Args)]
struct AbArgs {
    /// Suite, as a path or a name.
    #[arg(long)]
    suite: String,
    #[command(flatten)]
    fleet: FleetArgs,
    /// Arm A's settings: model=, judge_model=, brain_model=, action_mode=, max_actions=, sut=, fleet=.
    #[arg(long = "a", num_args = 1.., required = true)]
    arm_a: Vec<String>,
    /// Arm B's settings.
    #[arg(long = "b", num_args = 1.., required = true)]
    arm_b: Vec<String>,
    /// Replicates per arm.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    replicates: u32,
    #[command(flatten)]
    select: TaskSelection,
    /// Task replicates run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Results CSV to append to.
    #[arg(long, default_value = "results/results.csv")]
    results: PathBuf,
    /// Print the A/B report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Continue an experiment a kill interrupted: its id (`ab…`, printed with its rows), or
    /// none for the newest in the results file. Finished turns are skipped; the settings
    /// must be the ones it started with.
    #[arg(long, num_args = 0..=1, default_missing_value = ab::LATEST, value_name = "EXPERIMENT")]
    resume: Option<String>,
    #[command(flatten)]
    grading: GradingArgs,
    #[command(flatten)]
    user: UserArgs,
    /// A pipeline knob both arms share, NAME=VALUE (an arm changes one with knob:NAME=VALUE).
    #[arg(long = "knob")]
    knobs: Vec<String>,
}

#[derive(Args)]
struct StudyArgs {
    /// The study: qwopus-vs-vanilla.
    study: String,
    /// The fleet; every node that is not only a judge serves the arm's model in turn.
    #[command(flatten)]
    fleet: FleetArgs,
    /// Arm A's model id (as the servers list it), e.g. qwopus3.6-27b.
    #[arg(long)]
    a_model: String,
    /// Arm B's model id, e.g. qwen3.6-27b.
    #[arg(long)]
    b_model: String,
    /// Replicates per arm (the original study ran one).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    replicates: u32,
    /// Task replicates run at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Results CSV to append to; the arms' fleet files are written beside it.
    #[arg(long, default_value = "results/results.csv")]
    results: PathBuf,
    /// Continue an experiment a kill interrupted: its id (`ab…`, printed with its rows), or
    /// none for the newest in the results file. Finished turns are skipped; the settings
    /// must be the ones it started with.
    #[arg(long, num_args = 0..=1, default_missing_value = ab::LATEST, value_name = "EXPERIMENT")]
    resume: Option<String>,
    /// The builders' sampling temperature in both arms (default: each request's own).
    #[arg(long)]
    temperature: Option<String>,
    /// The builders' top_p in both arms (default: the servers').
    #[arg(long)]
    top_p: Option<String>,
    /// The builders' sampling seed in both arms (default: none sent).
    #[arg(long)]
    seed: Option<String>,
    /// The share of reference-versus-twin pairs the judge must rank right before its scores
    /// count (the judge is calibrated on the suite's references before the study runs).
    #[arg(long, default_value_t = graders::calibration::DEFAULT_SHARE)]
    calibration_share: f64,
    /// Skip the judge's calibration: its scores are then shown as uncalibrated and left out
    /// of the verdicts.
    #[arg(long)]
    no_calibration: bool,
    #[command(flatten)]
    grading: GradingArgs,
    #[command(flatten)]
    user: UserArgs,
    /// A pipeline knob both arms share, NAME=VALUE (the same knobs for both: only the model changes).
    #[arg(long = "knob")]
    knobs: Vec<String>,
    /// Only some apps (--tasks ids, --limit N), for a quick check of a fleet; the
    /// reproduction is all five, and the report says when it is not.
    #[command(flatten)]
    select: TaskSelection,
    /// Run another suite under the study's design (e.g. `ab-study`, the earlier five apps);
    /// default: the study's own suite (`qwopus-study`, the published apps).
    #[arg(long)]
    suite: Option<String>,
}

#[derive(Args)]
struct GenerateArgs {
    /// The kind of task.
    #[arg(long, value_parser = parse_archetype)]
    archetype: gym::task::Archetype,
    /// Who the user is, in a sentence.
    #[arg(long)]
    persona: String,
    /// The language of the app: python, typescript or rust (the spec states it; a task is
    /// kept only when its checks are proven here, so its toolchain must be reachable).
    #[arg(long, default_value = "python", value_parser = parse_language)]
    language: swarm::spec::Language,
    /// Tasks to keep.
    #[arg(long, default_value_t = 1)]
    n: usize,
    /// Where kept tasks go (a suite directory).
    #[arg(long, default_value = "tasks/generated")]
    out: PathBuf,
    /// The fleet; its `brain` node writes the drafts.
    #[command(flatten)]
    fleet: FleetArgs,
    /// Most drafts to ask for (default: 3 per task wanted).
    #[arg(long)]
    max_drafts: Option<usize>,
    /// The suites a new task must not duplicate (every suite under this directory, and --out).
    #[arg(long, default_value = "tasks")]
    existing: PathBuf,
    /// Most tokens the brain may write for one draft (spec, checks and every reference file).
    #[arg(long, default_value_t = 8192)]
    max_reply_tokens: u32,
    /// continue-existing only: start from the project of a turn that passed its hidden checks
    /// in this results file (the newest such row, or --row), not from files the brain invents.
    #[arg(long, value_name = "RESULTS")]
    from_results: Option<PathBuf>,
    /// With --from-results: the row to continue (1-based, as `swarm-gym show` counts).
    #[arg(long, requires = "from_results")]
    row: Option<usize>,
}

pub(crate) fn parse_language(text: &str) -> Result<swarm::spec::Language, String> {
    swarm::spec::Language::from_name(text)
        .ok_or_else(|| format!("`{text}`: expected python, typescript or rust"))
}

pub(crate) fn parse_archetype(text: &str) -> Result<gym::task::Archetype, String> {
    serde_yaml_ng::from_str(text)
        .map_err(|_| format!("`{text}`: expected heavy-spec, minimal-spec or continue-existing"))
}

#[derive(Args)]
struct TuneArgs {
    /// Result CSVs to diagnose.
    #[arg(long, num_args = 1.., required = true)]
    results: Vec<PathBuf>,
    /// The fleet the confirming A/B runs on.
    #[command(flatten)]
    fleet: FleetArgs,
    /// Write a kept change into the config file ([knobs] table); never otherwise.
    #[arg(long)]
    apply: bool,
    /// The config file --apply writes (default: $SWARM_CONFIG, else ~/.config/swarm/config.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Replicates per arm of the confirming A/B.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
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
    swarm::quiet_on_broken_pipe();
    match Cli::parse().command {
        Command::Tasks(TasksCommand::Check { suites, json }) => tasks::tasks_check(&suites, json),
        Command::Run(args) => run::run_command(args),
        Command::Show { row, results, full } => run::show_command(&row, &results, full),
        Command::List(args) => list::list_command(args),
        Command::View {
            results,
            port,
            no_open,
        } => view::view_command(&results, port, !no_open),
        Command::Ab(args) => ab::ab_command(args),
        Command::Demo {
            suite,
            replicates,
            results,
        } => ab::demo_command(&suite, replicates, &results),
        Command::Study(args) => study::study_command(args),
        Command::Nightly(args) => nightly::nightly_command(args),
        Command::Report {
            files,
            experiment,
            html,
            out,
            baseline_nights,
            json,
        } => {
            if html {
                ab::html_report_command(&files, &out, baseline_nights)
            } else {
                ab::report_command(&files, experiment.as_deref(), json)
            }
        }
        Command::Generate(args) => generate::generate_command(args),
        Command::Tune(args) => tune::tune_command(args),
        Command::StatsCheck {
            experiments,
            tasks,
            turns,
            replicates,
            effect,
            seed,
        } => {
            let check = gym::stats_check::check_statistics(gym::stats_check::StatsPlan {
                experiments,
                tasks,
                turns,
                replicates,
                effect,
                seed,
            });
            print!("{}", check.render());
            if check.keeps_alpha() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Suite directories named on the command line, or every suite under `tasks/`.
pub(crate) fn suite_dirs(suites: &[String]) -> Result<Vec<PathBuf>, String> {
    gym::task::suite_dirs(suites)
}

pub(crate) fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => Some(runtime),
        Err(err) => {
            eprintln!("swarm-gym: cannot start the async runtime: {err}");
            None
        }
    }
}

/// The usable tasks of a suite ([`gym::validate::usable_tasks`]); each task left out is said
/// on stderr with its reason.
pub(crate) fn usable_tasks(
    runtime: &tokio::runtime::Runtime,
    suite: &str,
    select: &TaskSelection,
) -> Result<Vec<Task>, String> {
    let suite = suite_dirs(&[suite.to_string()])?.remove(0);
    let sandbox = sandbox_gate()?;
    let proofs = gym::validate::Proofs::from_env();
    let usable = runtime.block_on(gym::validate::usable_tasks(
        &suite,
        &select.tasks,
        sandbox,
        &proofs,
    ))?;
    for line in &usable.skipped {
        eprintln!("{line}");
    }
    eprintln!("{}", usable.summary());
    let mut tasks = usable.tasks;
    if let Some(limit) = select.limit {
        if tasks.len() > limit as usize {
            tasks.truncate(limit as usize);
            let kept: Vec<&str> = tasks.iter().map(|t| t.id.as_str()).collect();
            eprintln!("--limit {limit}: running {}", kept.join(", "));
        }
    }
    Ok(tasks)
}

/// What `run` and `ab` need first: the fleet, a runtime, and the suite's proven tasks. With
/// `probe`, the fleet is probed before any task is proven, so a dead fleet is said at once,
/// not after the proofs.
pub(crate) fn prepare(
    fleet: &FleetArgs,
    suite: &str,
    only: &TaskSelection,
    probe: Option<&swarm::knobs::Knobs>,
) -> Result<(Fleet, tokio::runtime::Runtime, Vec<Task>), String> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let fleet = fleet.load(&runtime)?;
    if let Some(knobs) = probe {
        runtime.block_on(gym::sut::connect_fleet(&fleet, knobs))?;
    }
    let tasks = usable_tasks(&runtime, suite, only)?;
    Ok((fleet, runtime, tasks))
}

/// Knobs from the config file, `SWARM_*` variables and `--knob` flags.
pub(crate) fn resolve_knobs(flags: &[String]) -> Result<swarm::knobs::Knobs, String> {
    swarm::resolve_knobs(flags)
}

/// Before any generated code runs: the sandbox's warnings on stderr, or its refusal to run
/// unsealed (the caller exits 2 with it).
pub(crate) fn sandbox_gate() -> Result<&'static Sandbox, String> {
    let sandbox = Sandbox::detect();
    for line in sandbox.preflight().map_err(|refusal| refusal.to_string())? {
        eprintln!("{line}");
    }
    Ok(sandbox)
}

/// Rows of result files, each with the directory its paths are relative to; unreadable
/// lines are reported on stderr and left out.
pub(crate) fn read_results(files: &[PathBuf]) -> Result<Vec<(PathBuf, gym::ResultRow)>, String> {
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

pub(crate) fn print_written(written: &notebooks::report::Written) {
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
