//! `swarm-gym nightly`: the plan's matrix for one night, then the report; exit 1 on a regression.

use crate::{labelled_progress, print_written, resolve_knobs, runtime, sandbox_gate, NightlyArgs};
use gym::nightly::{NightEvent, NightOutcome};
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
    let sandbox = match sandbox_gate() {
        Ok(sandbox) => sandbox,
        Err(refusal) => return fail(refusal),
    };
    let Some(runtime) = runtime() else {
        return ExitCode::from(2);
    };
    let options = gym::nightly::NightOptions {
        plan: &plan,
        knobs,
        fleet,
        night: args.night.as_deref(),
        sandbox,
        progress: Box::new(|turns| labelled_progress(Some(turns))),
    };
    let show = |event: &NightEvent| match event {
        NightEvent::Skipped(line) => eprintln!("{line}"),
        NightEvent::Warning(line) => eprintln!("warning: {line}"),
        NightEvent::Calibrated(line) => eprintln!("{line}"),
        NightEvent::Starting {
            night,
            resumed,
            cells,
            turns,
        } => {
            eprintln!(
                "swarm-gym nightly {night}{}: {} cell(s) x {} replicate(s) = {turns} turn(s), results {}",
                if *resumed { " (resuming the interrupted night)" } else { "" },
                cells.len(),
                plan.replicates,
                plan.results.display()
            );
            for cell in cells {
                eprintln!("  cell: {cell}");
            }
        }
    };
    let NightOutcome {
        night,
        summary,
        written,
    } = match runtime.block_on(gym::nightly::night(options, &show)) {
        Ok(outcome) => outcome,
        Err(err) => return fail(err),
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
    match summary.occupancy_line() {
        Some(line) => println!("{line}"),
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
