//! `swarm-gym tune`: diagnose stored rows, confirm one knob change by A/B, list the rest for a human.

use crate::ab::{ab_progress, experiment_id};
use crate::{read_results, runtime, usable_tasks, TuneArgs};
use gym::{RunConfig, Sut};
use std::path::Path;
use std::process::ExitCode;
use swarm::Fleet;

pub(crate) fn tune_command(args: TuneArgs) -> ExitCode {
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
    let now = swarm::now_rfc3339;
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
        replicates: args.replicates,
        concurrency: args.concurrency,
        judge_samples: 1,
        knobs,
        ..RunConfig::new(
            tasks,
            Sut::Swarm,
            fleet,
            args.fleet.display().to_string(),
            trial_results.clone(),
        )
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
