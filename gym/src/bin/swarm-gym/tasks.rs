//! `swarm-gym tasks check`: proves suites (checks pass on the reference, fail without the work).

use crate::{sandbox_gate, suite_dirs};
use gym::{load_task, suite_task_dirs, validate_task, TaskReport};
use std::process::ExitCode;

pub(crate) fn tasks_check(suites: &[String], json: bool) -> ExitCode {
    let dirs = match suite_dirs(suites) {
        Ok(dirs) => dirs,
        Err(err) => {
            eprintln!("swarm-gym tasks check: {err}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match sandbox_gate() {
        Ok(sandbox) => sandbox,
        Err(refusal) => {
            eprintln!("swarm-gym tasks check: {refusal}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("swarm-gym: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let proofs = gym::validate::Proofs::from_env();
    let mut reports: Vec<TaskReport> = Vec::new();
    let mut malformed = 0;
    let mut all_dirs = Vec::new();
    for suite in dirs {
        match suite_task_dirs(&suite) {
            Ok(task_dirs) => all_dirs.extend(task_dirs),
            Err(err) => {
                eprintln!("{err}");
                malformed += 1;
            }
        }
    }
    let total = all_dirs.len();
    let started = std::time::Instant::now();
    {
        for (index, dir) in all_dirs.into_iter().enumerate() {
            let elapsed = started.elapsed().as_secs_f64();
            let left = swarm::clock::eta(elapsed, index, total)
                .map(|left| format!(", ETA {}", swarm::clock::duration_text(left)))
                .unwrap_or_default();
            eprint!(
                "[{}/{total} {}{left}] ",
                index + 1,
                swarm::clock::duration_text(elapsed)
            );
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
                    // `tasks check` always proves; a sound task's proof is kept for runs.
                    if let Err(err) = proofs.keep(&task, sandbox, &report) {
                        eprint!("(cannot keep the proof: {err}) ");
                    }
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
