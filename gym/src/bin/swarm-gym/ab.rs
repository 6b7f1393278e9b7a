//! `swarm-gym ab`, `report` and `demo`: paired comparisons and their reports (the study is in `study.rs`).

use crate::{
    labelled_progress, prepare, print_written, read_results, resolve_knobs, runtime, usable_tasks,
    AbArgs,
};
use gym::{RunConfig, Sut};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use swarm::Fleet;

/// Progress of an A/B: each arm's `[A n/N]` over the whole experiment (every replicate), the
/// time since it started and, once a turn was graded, the time left at the rate so far.
pub(crate) fn counted_ab_progress(turns_per_arm: usize) -> gym::ab::ArmEvents {
    struct Counts {
        per_arm: std::collections::BTreeMap<String, usize>,
        graded: usize,
        skipped: usize,
    }
    let plain = labelled_progress(None);
    let started = std::time::Instant::now();
    let counts = std::sync::Mutex::new(Counts {
        per_arm: std::collections::BTreeMap::new(),
        graded: 0,
        skipped: 0,
    });
    use gym::summary::{clock, eta};
    std::sync::Arc::new(move |label: &str, event: &gym::RunEvent| {
        let (graded, skipped) = match event {
            gym::RunEvent::TurnGraded { .. } => (1, 0),
            gym::RunEvent::TurnSkipped { .. } => (0, 1),
            _ => return plain(label, event),
        };
        let Ok(mut counts) = counts.lock() else {
            return plain(label, event);
        };
        counts.graded += graded;
        counts.skipped += skipped;
        let n = {
            let entry = counts.per_arm.entry(label.to_string()).or_default();
            *entry += 1;
            *entry
        };
        let elapsed = started.elapsed().as_secs_f64();
        let total = 2 * turns_per_arm - counts.skipped.min(2 * turns_per_arm);
        let left = eta(elapsed, counts.graded, total)
            .filter(|left| *left > 0.0)
            .map(|left| format!(", about {} left", clock(left)))
            .unwrap_or_default();
        eprint!(
            "  [{label} {n}/{turns_per_arm} | {} elapsed{left}] ",
            clock(elapsed)
        );
        drop(counts);
        plain("", event);
    })
}

pub(crate) fn experiment_id() -> String {
    gym::ab::experiment_id()
}

/// Which experiment an A/B writes: a fresh one, or, with `--resume`, one already in the
/// results file (the newest when no id is given), whose finished turns are skipped.
pub(crate) fn choose_experiment(results: &Path, resume: Option<&str>) -> Result<String, String> {
    let Some(wanted) = resume else {
        return Ok(experiment_id());
    };
    let (rows, _) =
        gym::read_rows(results).map_err(|err| format!("--resume needs the results file: {err}"))?;
    let known: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter_map(|r| r.experiment.rsplit_once(':').map(|(id, _)| id))
        .collect();
    if wanted == LATEST {
        return known
            .iter()
            .next_back()
            .map(|id| id.to_string())
            .ok_or_else(|| {
                format!(
                    "--resume: {} holds no A/B experiment to continue",
                    results.display()
                )
            });
    }
    if known.contains(wanted) {
        Ok(wanted.to_string())
    } else {
        Err(format!(
            "--resume {wanted}: no such experiment in {} (it holds: {})",
            results.display(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.into_iter().collect::<Vec<_>>().join(", ")
            }
        ))
    }
}

/// What `--resume` without an id stands for.
pub(crate) const LATEST: &str = "latest";

/// Runs an A/B as experiment `experiment` and prints its report; returns the exit code.
pub(crate) fn run_and_report(
    command: &str,
    runtime: &tokio::runtime::Runtime,
    base: RunConfig,
    arms: (&[gym::ab::Setting], &[gym::ab::Setting]),
    experiment: &str,
    untrusted_judge: Option<&str>,
    json: bool,
) -> ExitCode {
    let results = base.results.clone();
    let turns_per_arm =
        base.tasks.iter().map(|t| t.turns.len()).sum::<usize>() * base.replicates as usize;
    match runtime.block_on(gym::ab::run_ab(
        &base,
        arms,
        experiment,
        counted_ab_progress(turns_per_arm),
    )) {
        Ok((a, b)) => {
            for (label, runs) in [("A", a), ("B", b)] {
                let total = gym::RunSummary::total(&runs);
                for line in [total.grading_line(), total.occupancy_line()]
                    .into_iter()
                    .flatten()
                {
                    eprintln!("arm {label} {line}");
                }
            }
        }
        Err(err) => {
            eprintln!("swarm-gym {command}: {err}");
            if base.resume || results.exists() {
                eprintln!("rows written so far are kept; continue with --resume {experiment}");
            }
            return ExitCode::from(2);
        }
    }
    let (rows, bad) = match gym::read_rows(&results) {
        Ok(read) => read,
        Err(err) => {
            eprintln!("swarm-gym {command}: {err}");
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
    let (rows_a, rows_b) = gym::ab::arms_of(&rows, experiment);
    let report = gym::ab::analyse_with(experiment, &rows_a, &rows_b, untrusted_judge);
    let (a, b) = (gym::ab::describe(arms.0), gym::ab::describe(arms.1));
    if json {
        let mut value = report.to_json(&a, &b);
        value["results"] = serde_json::json!(results);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    print!("{}", gym::ab::render(&report, &a, &b));
    println!("rows: {} (experiment {experiment})", results.display());
    ExitCode::SUCCESS
}

pub(crate) fn parse_arm(settings: &[String]) -> Result<Vec<gym::ab::Setting>, String> {
    settings.iter().map(|s| gym::ab::parse_setting(s)).collect()
}

pub(crate) fn ab_command(args: AbArgs) -> ExitCode {
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
    let (fleet, runtime, tasks) = match prepare(&args.fleet, &args.suite, &args.select, None) {
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
    let base = args.user.apply(RunConfig {
        replicates: args.replicates,
        concurrency: args.concurrency,
        judge_samples: args.grading.judge_samples,
        test_depth: args.grading.test_depth(),
        knobs,
        ..RunConfig::new(tasks, Sut::Single, fleet, args.fleet.label(), args.results)
    });
    let experiment = match choose_experiment(&base.results, args.resume.as_deref()) {
        Ok(experiment) => experiment,
        Err(err) => {
            eprintln!("swarm-gym ab: {err}");
            return ExitCode::from(2);
        }
    };
    let base = RunConfig {
        resume: args.resume.is_some(),
        ..base
    };
    print_estimate(&base, 2);
    run_and_report(
        "ab",
        &runtime,
        base,
        (&arm_a, &arm_b),
        &experiment,
        None,
        args.json,
    )
}

/// Says before a run what one replicate of each arm should cost, from the results file's
/// earlier rows of the same apps.
pub(crate) fn print_estimate(base: &RunConfig, arms: u32) {
    let rows = gym::read_rows(&base.results)
        .map(|(rows, _)| rows)
        .unwrap_or_default();
    let estimate = gym::study::estimate_cost(&rows, &base.tasks);
    eprintln!("{}", estimate.render(base.replicates, arms));
}

pub(crate) fn report_command(files: &[PathBuf], only: Option<&str>, json: bool) -> ExitCode {
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
    if let (Some(id), true) = (only, experiments.is_empty()) {
        eprintln!("swarm-gym report: no A/B rows for experiment {id} in the given files");
        return ExitCode::from(1);
    }
    // Rows of plain runs and nightlies (no A/B arm): a per-task summary.
    let plain: Vec<gym::ResultRow> = rows
        .iter()
        .filter(|r| only.is_none() && r.experiment.rsplit_once(':').is_none())
        .cloned()
        .collect();
    if rows.is_empty() {
        eprintln!("swarm-gym report: the given files hold no rows");
        return ExitCode::from(1);
    }
    if json {
        return report_json(&rows, &experiments, &plain);
    }
    if !plain.is_empty() {
        let runs: std::collections::BTreeSet<&str> =
            plain.iter().map(|r| r.run_id.as_str()).collect();
        let totals =
            gym::summary::Totals::of(&plain, 0, 0, plain.iter().map(|r| r.wall_seconds).sum());
        println!(
            "rows outside A/B experiments: {} row(s) of {} run(s); per task and turn:",
            plain.len(),
            runs.len()
        );
        print!(
            "{}",
            gym::summary::render_task_table(&gym::summary::task_lines(&plain))
        );
        println!("{} (turn wall summed)\n", totals.line());
    }
    for experiment in experiments {
        let (a, b) = gym::ab::arms_of(&rows, &experiment);
        print!(
            "{}",
            gym::ab::render(
                &gym::ab::analyse(&experiment, &a, &b),
                &arm_label(&a),
                &arm_label(&b)
            )
        );
        // A study's experiment (its suite's rows) also gets the four published scores.
        let study_suite = gym::study::STUDIES
            .iter()
            .any(|design| a.iter().chain(&b).all(|r| r.suite == design.suite));
        if study_suite && !a.is_empty() {
            let models = |rows: &[gym::ResultRow]| {
                rows.iter()
                    .map(|r| r.builder_model.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join("/")
            };
            let table = gym::study::study_table(&a, &b);
            print!(
                "{}",
                gym::study::render_study(&table, &models(&a), &models(&b))
            );
        }
        println!();
    }
    ExitCode::SUCCESS
}

/// `report --json`: each experiment's report and the per-task summary of plain rows.
fn report_json(
    rows: &[gym::ResultRow],
    experiments: &std::collections::BTreeSet<String>,
    plain: &[gym::ResultRow],
) -> ExitCode {
    let reports: Vec<serde_json::Value> = experiments
        .iter()
        .map(|experiment| {
            let (a, b) = gym::ab::arms_of(rows, experiment);
            gym::ab::analyse(experiment, &a, &b).to_json(&arm_label(&a), &arm_label(&b))
        })
        .collect();
    let value = serde_json::json!({
        "experiments": reports,
        "plain": {
            "rows": plain.len(),
            "totals": gym::summary::Totals::of(plain, 0, 0, plain.iter().map(|r| r.wall_seconds).sum()),
            "tasks": gym::summary::task_lines(plain),
        },
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
    ExitCode::SUCCESS
}

/// An arm as its rows say: builder model(s) and knobs.
fn arm_label(rows: &[gym::ResultRow]) -> String {
    let models: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.builder_model.as_str()).collect();
    let knobs: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.knobs.as_str()).collect();
    format!(
        "builder {} with knobs {}",
        models.into_iter().collect::<Vec<_>>().join("/"),
        knobs.into_iter().collect::<Vec<_>>().join(" | ")
    )
}

/// Writes the full report; prints its paths and any regression.
pub(crate) fn html_report_command(files: &[PathBuf], out: &Path, window: usize) -> ExitCode {
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

pub(crate) fn demo_command(suite: &str, replicates: u32, results: &Path) -> ExitCode {
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    eprintln!("swarm-gym demo: a SIMULATED fleet (swarm-sim, scripted replies): `careful` replays the tasks' reference solutions; `sloppy` drifts from its own interfaces, leaves modules unwired, claims done without writing and crashes on realistic input. The code they write is real and is graded for real.");
    if let Some(note) = swarm::accept_unsealed_for_scripted_demo() {
        eprintln!("{note}");
    }
    let tasks = match usable_tasks(&runtime, suite, &crate::TaskSelection::default()) {
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
        replicates,
        concurrency: 4,
        judge_samples: 1,
        ..RunConfig::new(tasks, Sut::Swarm, fleet, "simulated demo fleet", results)
    };
    let arm_a = [gym::ab::Setting::Fleet(arms[0].clone())];
    let arm_b = [gym::ab::Setting::Fleet(arms[1].clone())];
    println!("SIMULATED fleet: scripted models, real code, real grading. No judge node: requirements, code_quality and bugs stay empty.");
    let code = run_and_report(
        "demo",
        &runtime,
        base,
        (&arm_a, &arm_b),
        &experiment_id(),
        None,
        false,
    );
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
pub(crate) fn print_sloppy_catches(results: &Path) {
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
        if row.false_green() {
            false_greens += 1;
        }
        let grades = row.grades_file(base);
        let text = grades
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default();
        drift += usize::from(text.contains("TypeError"));
        crashes += usize::from(text.contains("KeyError"));
        unwired +=
            usize::from(text.contains("never imported") || text.contains("is never declared"));
    }
    println!("\ngraders on the sloppy arm ({total} turns): {false_greens} false green(s) (claimed done or pass, hidden checks fail) scored swarm 0; {drift} interface drift(s) caught as TypeError by the hidden checks; {crashes} crash(es) on realistic input (KeyError); {unwired} turn(s) with a module built but never wired in (imported, or declared with `mod`), found by diagnostics");
}
