//! `swarm-gym run` and `show`: a suite against a system under test, and one stored row.

use crate::{labelled_progress, prepare, resolve_knobs, RunArgs};
use gym::{run_suite, RunConfig, RunEvent};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use swarm::Fleet;

pub(crate) fn run_command(args: RunArgs) -> ExitCode {
    let knobs = match resolve_knobs(&args.knobs) {
        Ok(knobs) => knobs,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    let (fleet, runtime, tasks) =
        match prepare(&args.fleet, &args.suite, &args.select, Some(&knobs)) {
            Ok(prepared) => prepared,
            Err(err) => {
                eprintln!("swarm-gym run: {err}");
                return ExitCode::from(2);
            }
        };
    if !args.resume && !args.new_run {
        if let Some(refusal) = earlier_rows_of(&args, &fleet, &tasks) {
            eprintln!("swarm-gym run: {refusal}");
            return ExitCode::from(2);
        }
    }
    let total_turns: usize =
        tasks.iter().map(|t| t.turns.len()).sum::<usize>() * args.replicates as usize;
    let open = if args.user.simulate_user {
        format!(
            " (then the simulated user's own turns, up to {} a session)",
            args.user.max_turns
        )
    } else {
        String::new()
    };
    eprintln!(
        "swarm-gym run: {} task(s) x {} replicate(s) = {total_turns} turn(s){open}, SUT {}, fleet {}, results {}",
        tasks.len(), args.replicates, args.sut, args.fleet.label(), args.results.display()
    );
    let config = args.user.apply(RunConfig {
        replicates: args.replicates,
        concurrency: args.concurrency,
        resume: args.resume,
        judge_samples: args.grading.judge_samples,
        test_depth: args.grading.test_depth(),
        knobs,
        ..RunConfig::new(
            tasks,
            args.sut,
            fleet,
            args.fleet.label(),
            args.results.clone(),
        )
    });
    // A simulated session may stop early: its count is the most turns it can take.
    let most_turns = if args.user.simulate_user {
        let per_replicate: usize = config
            .tasks
            .iter()
            .map(|t| t.turns.len().max(args.user.max_turns))
            .sum();
        per_replicate * args.replicates as usize
    } else {
        total_turns
    };
    let print = labelled_progress(Some(most_turns));
    let progress = Arc::new(move |event: &RunEvent| print("", event));
    let summary = match runtime.block_on(run_suite(config, progress)) {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("swarm-gym run: {err}");
            return ExitCode::from(2);
        }
    };
    let numbers = show_numbers(&args.results, &summary.run_id);
    let base = args.results.parent().unwrap_or(Path::new("."));
    let failures = gym::summary::failures(base, &summary.rows, &|row| {
        numbers
            .get(&(row.task.clone(), row.turn, row.replicate))
            .copied()
    });
    let totals = gym::summary::Totals::of(
        &summary.rows,
        summary.abandoned.len(),
        summary.skipped,
        summary.wall_seconds,
    );
    let code = if summary.abandoned.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if args.json {
        let value = serde_json::json!({
            "run_id": summary.run_id,
            "results": args.results,
            "totals": totals,
            "tasks": gym::summary::task_lines(&summary.rows),
            "failures": failures,
            "abandoned": summary.abandoned,
            "grading": summary.grading_line(),
            "occupancy": summary.occupancy_line(),
            "simulated_user": summary.user.line(),
            "rows": summary.rows,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return code;
    }
    print!(
        "{}",
        gym::summary::render_task_table(&gym::summary::task_lines(&summary.rows))
    );
    println!(
        "results: {} ({} row(s) appended, {} turn(s) skipped as already present)",
        args.results.display(),
        summary.rows.len(),
        summary.skipped
    );
    for line in [
        summary.grading_line(),
        summary.occupancy_line(),
        summary.user.line(),
    ]
    .into_iter()
    .flatten()
    {
        println!("{line}");
    }
    for line in &summary.abandoned {
        println!("abandoned: {line}");
    }
    print!(
        "{}",
        gym::summary::render_failures(&failures, &args.results, &totals)
    );
    code
}

/// The `show` number (1-based readable row of the file) of each row of run `run_id`, by
/// (task, turn, replicate).
fn show_numbers(
    results: &Path,
    run_id: &str,
) -> std::collections::HashMap<(String, u32, u32), usize> {
    let rows = gym::read_rows(results)
        .map(|(rows, _)| rows)
        .unwrap_or_default();
    rows.iter()
        .enumerate()
        .filter(|(_, row)| row.run_id == run_id)
        .map(|(index, row)| ((row.task.clone(), row.turn, row.replicate), index + 1))
        .collect()
}

/// Why this run would duplicate rows already in its results file: plain runs (no experiment)
/// of the same suite, tasks, SUT and builder models. `None` when there are none.
fn earlier_rows_of(args: &RunArgs, fleet: &Fleet, tasks: &[gym::Task]) -> Option<String> {
    if !args.results.exists() {
        return None;
    }
    let (rows, _) = gym::read_rows(&args.results).ok()?;
    let models: Vec<&str> = fleet
        .with_role(swarm::Role::Worker)
        .into_iter()
        .map(|node| node.model.as_str())
        .collect();
    let sut = args.sut.to_string();
    let matching: Vec<&gym::ResultRow> = rows
        .iter()
        .filter(|row| {
            row.experiment.is_empty()
                && row.sut == sut
                && models.contains(&row.builder_model.as_str())
                && tasks
                    .iter()
                    .any(|task| task.suite == row.suite && task.id == row.task)
        })
        .collect();
    let first = matching.first()?;
    Some(format!(
        "{} already holds {} row(s) of these tasks with this SUT and model (run {} first); \
         pass --resume to continue that run, --new-run to add another beside it, or \
         --results NEW.csv to write elsewhere",
        args.results.display(),
        matching.len(),
        first.run_id
    ))
}

/// The turn's hidden checks that did not pass, each with its evidence, read from the
/// grades.json beside the row's events: why the turn failed, before anything else.
fn print_failed_checks(base: &Path, row: &gym::ResultRow, full: bool) {
    if row.events.is_empty() {
        return;
    }
    let grades = match gym::view::turn::read_grades(base, row) {
        Ok(grades) => grades,
        Err(err) => {
            println!("hidden checks: {err}");
            return;
        }
    };
    let failed = grades.failed_checks();
    println!(
        "hidden checks: {} of {} did not pass",
        failed.len(),
        grades.checks.len()
    );
    let limit = if full { usize::MAX } else { 20 };
    for check in failed {
        println!("  {} {}", check.verdict.to_uppercase(), check.label);
        let lines: Vec<&str> = check.evidence.lines().collect();
        for line in lines.iter().take(limit) {
            println!("      {line}");
        }
        if lines.len() > limit {
            println!(
                "      [... {} more line(s); --full shows everything]",
                lines.len() - limit
            );
        }
    }
}

/// `N`, or `FILE:N` (as `list` prints rows): the results file and the 1-based row.
fn parse_row_ref<'a>(text: &'a str, results: &'a Path) -> Result<(&'a Path, usize), String> {
    let (file, number) = match text.rsplit_once(':') {
        Some((file, number)) => (Path::new(file), number),
        None => (results, text),
    };
    match number.trim().parse::<usize>() {
        Ok(row) if row > 0 => Ok((file, row)),
        _ => Err(format!(
            "`{text}` is not a row: give N (a row of --results, from 1) or FILE:N as `swarm-gym list` prints them"
        )),
    }
}

pub(crate) fn show_command(row: &str, results: &Path, full: bool) -> ExitCode {
    let (results, row) = match parse_row_ref(row, results) {
        Ok(found) => found,
        Err(err) => {
            eprintln!("swarm-gym show: {err}");
            return ExitCode::from(2);
        }
    };
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
    let base = results.parent().unwrap_or(Path::new("."));
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
    print_failed_checks(base, found, full);
    let scores: Vec<String> = graders::DIMENSIONS
        .iter()
        .chain(["overall"].iter())
        .map(|name| format!("{name} {}", show(found.dimension(name))))
        .collect();
    println!(
        "hidden {} | claimed {} | {}",
        found.hidden_verdict,
        found.claimed_verdict,
        scores.join(" ")
    );
    if !found.test_depth_detail.is_empty() {
        println!("test_depth: {}", found.test_depth_detail);
    }
    if let Some(contradiction) = found.judge_contradiction() {
        println!("JUDGE CONTRADICTS THE CHECKS: {contradiction}; trust the checks, not the judge, on this row");
    }
    println!(
        "wall {:.1}s | tokens {}/{} | malformed {} | tool errors {} | overflows {}",
        found.wall_seconds,
        found.tokens_in,
        found.tokens_out,
        found.malformed_replies,
        found.tool_errors,
        found.context_overflows
    );
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
