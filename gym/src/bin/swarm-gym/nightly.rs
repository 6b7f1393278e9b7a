//! `swarm-gym nightly`: the plan's matrix for one night, then the report; exit 1 on a regression.

use crate::{labelled_progress, print_written, resolve_knobs, runtime, usable_tasks, NightlyArgs};
use gym::{RunConfig, Sut};
use std::process::ExitCode;
use swarm::Fleet;

pub(crate) fn nightly_command(args: NightlyArgs) -> ExitCode {
    let fail = |err: String| {
        eprintln!("swarm-gym nightly: {err}");
        ExitCode::from(2)
    };
    if let Some(night) = &args.night {
        if let Err(why) = gym::nightly::parse_night(night) {
            return fail(format!("--night {why}"));
        }
    }
    let plan = match gym::nightly::NightlyPlan::load(&args.plan) {
        Ok(plan) => plan,
        Err(err) => return fail(err),
    };
    let knobs = match resolve_knobs(&plan.knob_flags()) {
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
        concurrency: plan.concurrency,
        resume: true,
        judge_samples: plan.judge_samples,
        knobs,
        ..RunConfig::new(
            Vec::new(),
            Sut::Swarm,
            fleet,
            plan.fleet.display().to_string(),
            plan.results.clone(),
        )
    };
    let cells = match gym::nightly::cells(&plan, &base, &suites) {
        Ok(cells) => cells,
        Err(err) => return fail(err),
    };
    let hash = plan.hash();
    let now = swarm::now_rfc3339();
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
            finished: Some(swarm::now_rfc3339()),
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
    let passed = summary.rows.iter().filter(|r| r.hidden_pass()).count();
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
