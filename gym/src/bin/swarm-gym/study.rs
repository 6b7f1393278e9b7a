//! `swarm-gym study`: a published A/B study on your fleet — the arms' fleets, the judge's
//! calibration, the run, the four published scores and the cost.

use crate::ab::{choose_experiment, print_estimate, run_and_report};
use crate::{prepare, resolve_knobs, StudyArgs};
use gym::{RunConfig, Sut};
use std::path::Path;
use std::process::ExitCode;

pub(crate) fn study_command(args: StudyArgs) -> ExitCode {
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
    if args.fleet.model.is_some() {
        return fail("the study's models are --a-model and --b-model; leave out --model (--url alone names the server)".into());
    }
    let knobs = match resolve_knobs(&args.knobs) {
        Ok(knobs) => knobs,
        Err(err) => return fail(err),
    };
    let suite = args.suite.as_deref().unwrap_or(design.suite);
    let (fleet, runtime, tasks) = match prepare(&args.fleet, suite, &args.select, None) {
        Ok(prepared) => prepared,
        Err(err) => return fail(err),
    };
    let experiment = match choose_experiment(&args.results, args.resume.as_deref()) {
        Ok(experiment) => experiment,
        Err(err) => return fail(err),
    };
    // The arms' fleets are written down: what each arm ran on is part of the record.
    let dir = args.results.parent().unwrap_or(Path::new("."));
    let mut arms = Vec::new();
    for (label, model) in [("a", &args.a_model), ("b", &args.b_model)] {
        let mut arm = gym::study::arm_fleet(&fleet, model);
        for (name, value) in [
            ("temperature", &args.temperature),
            ("top_p", &args.top_p),
            ("seed", &args.seed),
        ] {
            if let Some(value) = value {
                if let Err(err) = gym::ab::set_builder_sampling(&mut arm, name, value) {
                    return fail(err);
                }
            }
        }
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
    let base = args.user.apply(RunConfig {
        resume: args.resume.is_some(),
        replicates: args.replicates,
        concurrency: args.concurrency,
        judge_samples: args.grading.judge_samples,
        test_depth: args.grading.test_depth(),
        knobs,
        ..RunConfig::new(
            tasks,
            Sut::Swarm,
            fleet,
            args.fleet.label(),
            args.results.clone(),
        )
    });
    let arm_a = [gym::ab::Setting::Fleet(arms[0].clone())];
    let arm_b = [gym::ab::Setting::Fleet(arms[1].clone())];
    println!(
        "study {}: A = {}, B = {} (SUT swarm; every non-judge node serves the arm's model)",
        design.name, args.a_model, args.b_model
    );
    if args.select.partial() {
        let ran: Vec<&str> = base.tasks.iter().map(|t| t.id.as_str()).collect();
        println!(
            "PARTIAL: only {} of the study's apps ran (--tasks/--limit); the reproduction runs all of them",
            ran.join(", ")
        );
    }
    if suite != design.suite {
        println!(
            "NOT THE PUBLISHED APPS: suite {suite} ran instead of {} (--suite)",
            design.suite
        );
    }
    print_estimate(&base, 2);
    let untrusted = match judge_trust(&runtime, &base, &args, &experiment) {
        Ok(untrusted) => untrusted,
        Err(err) => return fail(err),
    };
    let code = run_and_report(
        "study",
        &runtime,
        base,
        (&arm_a, &arm_b),
        &experiment,
        untrusted.as_deref(),
        false,
    );
    if let Some((arm_a_rows, arm_b_rows)) = experiment_rows(&args.results, &experiment) {
        let table = gym::study::study_table_with(&arm_a_rows, &arm_b_rows, untrusted.as_deref());
        print!(
            "{}",
            gym::study::render_study(&table, &args.a_model, &args.b_model)
        );
        print_study_cost(&arm_a_rows, &arm_b_rows, args.replicates);
    }
    code
}

/// Calibrates the fleet's judge before the study (unless told not to) and says the result;
/// returns why the judged scores must be left out of the verdicts, if they must. The
/// calibration is written beside the results (`study-EXPERIMENT-judge-calibration.json`).
fn judge_trust(
    runtime: &tokio::runtime::Runtime,
    base: &RunConfig,
    args: &StudyArgs,
    experiment: &str,
) -> Result<Option<String>, String> {
    if args.no_calibration {
        let why = "the judge was not calibrated (--no-calibration)".to_string();
        eprintln!("{why}: its scores are recorded but left out of the verdicts");
        return Ok(Some(why));
    }
    eprintln!("calibrating the judge on the suite's references and planted-bug twins of them...");
    let calibration = runtime.block_on(gym::study::judge::calibrate_judges(
        &base.fleet,
        &base.knobs,
        &base.tasks,
        args.calibration_share,
    ))?;
    let Some(calibration) = calibration else {
        eprintln!("no judge node: the judged scores stay empty");
        return Ok(None);
    };
    for pair in &calibration.pairs {
        let show = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.1}"));
        eprintln!(
            "  {} {}: reference {} vs twin {}{} ({})",
            pair.task,
            pair.kind.name(),
            show(pair.reference),
            show(pair.twin),
            if pair.ranked_right() { "" } else { " WRONG" },
            pair.change
        );
    }
    for missing in &calibration.not_made {
        eprintln!("  {missing}: no twin failed the hidden checks, so none was made");
    }
    println!("{}", calibration.summary());
    let dir = args.results.parent().unwrap_or(Path::new("."));
    let path = dir.join(format!("study-{experiment}-judge-calibration.json"));
    if let Ok(json) = serde_json::to_string_pretty(&calibration) {
        if let Err(err) = std::fs::write(&path, json) {
            eprintln!("warning: cannot write {}: {err}", path.display());
        }
    }
    Ok((!calibration.calibrated()).then(|| {
        format!(
            "the judge is UNCALIBRATED ({}/{} reference-versus-twin pairs ranked right, {:.0}% needed)",
            calibration.right(),
            calibration.pairs.len(),
            100.0 * calibration.required
        )
    }))
}

/// The rows of `experiment`'s two arms in `results`.
fn experiment_rows(
    results: &Path,
    experiment: &str,
) -> Option<(Vec<gym::ResultRow>, Vec<gym::ResultRow>)> {
    let (rows, _) = gym::read_rows(results).ok()?;
    Some(gym::ab::arms_of(&rows, experiment))
}

/// What one replicate of each arm cost, from its rows: tokens and wall time summed over the
/// arm's turns, divided by the replicates.
pub(crate) fn print_study_cost(
    arm_a: &[gym::ResultRow],
    arm_b: &[gym::ResultRow],
    replicates: u32,
) {
    for (label, arm) in [("A", arm_a), ("B", arm_b)] {
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
