//! `swarm-gym tune`: diagnose stored rows, confirm one knob change by A/B, list the rest for a human.

use crate::ab::counted_ab_progress;
use crate::{read_results, runtime, sandbox_gate, TuneArgs};
use gym::tuner::TuneEvent;
use std::path::Path;
use std::process::ExitCode;

pub(crate) fn tune_command(args: TuneArgs) -> ExitCode {
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
    let rows = match read_results(&args.results) {
        Ok(rows) => rows,
        Err(err) => return fail(err),
    };
    // Where a kept change goes, settled before any trial runs.
    let apply_to = if args.apply {
        let config = args
            .config
            .clone()
            .or_else(|| swarm::config_path(&|k: &str| std::env::var(k).ok()));
        match config {
            Some(config) => Some(config),
            None => {
                return fail("--apply: no config file path (set --config or $SWARM_CONFIG)".into())
            }
        }
    } else {
        None
    };
    let sandbox = match sandbox_gate() {
        Ok(sandbox) => sandbox,
        Err(refusal) => return fail(refusal),
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let fleet = match args.fleet.load(&runtime) {
        Ok(fleet) => fleet,
        Err(err) => return fail(err),
    };
    let options = gym::tuner::TuneOptions {
        results: args.results.clone(),
        fleet,
        fleet_name: args.fleet.label(),
        out,
        replicates: args.replicates,
        concurrency: args.concurrency,
        apply_to,
        arm_events: Box::new(counted_ab_progress),
        sandbox,
    };
    let files = args.results.len();
    let render = move |event: &TuneEvent| show(event, files);
    let outcome = match runtime.block_on(gym::tuner::tune(&rows, options, &render)) {
        Ok(outcome) => outcome,
        Err(err) => return fail(err),
    };
    match (&outcome.proposal, &outcome.decision) {
        (Some(proposal), Some((kept, reason))) => {
            println!("decision: {} = {}: {reason}", proposal.knob, proposal.to);
            match (&outcome.applied_to, kept) {
                (Some(path), _) => println!(
                    "applied: [knobs] \"{}\" = \"{}\" in {path}",
                    proposal.knob, proposal.to
                ),
                (None, true) => {
                    println!("not applied (run with --apply to write it to the config file)")
                }
                (None, false) => {}
            }
            println!("log: {}", outcome.log.display());
        }
        _ => println!("no knob change to propose; log: {}", outcome.log.display()),
    }
    ExitCode::SUCCESS
}

/// One line (or a few) per step of the tuner.
fn show(event: &TuneEvent, files: usize) {
    match event {
        TuneEvent::Diagnosed(diagnosis) => show_diagnosis(diagnosis, files),
        TuneEvent::Review { path } => println!(
            "behavioural problems: not a knob's to fix: listed for a human in {}",
            path.display()
        ),
        TuneEvent::Proposed(proposal) => println!(
            "proposal: {} = {} -> {} ({})",
            proposal.knob, proposal.from, proposal.to, proposal.reason
        ),
        TuneEvent::Confirming { tasks, experiment } => eprintln!(
            "confirming with an A/B ({experiment}) on {tasks} task(s): A = stored settings, B = the proposal"
        ),
        TuneEvent::Tried { trial, rows } => {
            let show = |v: Option<(f64, f64)>| {
                v.map(|(a, b)| format!("{a:.2} -> {b:.2}"))
                    .unwrap_or_else(|| "-".into())
            };
            println!(
                "trial {}: {} paired turn(s); checks {}, cluster {} (rows in {})",
                trial.experiment,
                trial.pairs,
                show(trial.checks),
                show(trial.cluster),
                rows.display()
            );
        }
        TuneEvent::LogFailed(err) => eprintln!("warning: cannot write the tuner log: {err}"),
    }
}

fn show_diagnosis(diagnosis: &gym::tuner::Diagnosis, files: usize) {
    println!("diagnosed {} row(s) from {files} file(s)", diagnosis.rows);
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
    if diagnosis.review.is_empty() {
        println!("behavioural problems: none");
        return;
    }
    let mut kinds: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for item in &diagnosis.review {
        *kinds.entry(item.kind.as_str()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "behavioural problems: {} row(s) ({})",
        diagnosis.review.len(),
        kinds.join(", ")
    );
}
