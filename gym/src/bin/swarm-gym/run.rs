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
    let (fleet, runtime, tasks) = match prepare(&args.fleet, &args.suite, &args.tasks, Some(&knobs))
    {
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
    eprintln!(
        "swarm-gym run: {} task(s) x {} replicate(s) = {total_turns} turn(s), SUT {}, fleet {}, results {}",
        tasks.len(), args.replicates, args.sut, args.fleet.display(), args.results.display()
    );
    let config = RunConfig {
        replicates: args.replicates,
        concurrency: args.concurrency,
        resume: args.resume,
        judge_samples: args.grading.judge_samples,
        test_depth: args.grading.test_depth(),
        simulate_user: args.simulate_user,
        knobs,
        ..RunConfig::new(
            tasks,
            args.sut,
            fleet,
            args.fleet.display().to_string(),
            args.results.clone(),
        )
    };
    let print = labelled_progress(Some(total_turns));
    let progress = Arc::new(move |event: &RunEvent| print("", event));
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
    for line in [summary.grading_line(), summary.occupancy_line()]
        .into_iter()
        .flatten()
    {
        println!("{line}");
    }
    if summary.abandoned.is_empty() {
        ExitCode::SUCCESS
    } else {
        for line in &summary.abandoned {
            println!("abandoned: {line}");
        }
        ExitCode::from(1)
    }
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

pub(crate) fn print_run_table(summary: &gym::RunSummary) {
    let mut by_task: std::collections::BTreeMap<(String, u32), Vec<&gym::ResultRow>> =
        std::collections::BTreeMap::new();
    for row in &summary.rows {
        by_task
            .entry((row.task.clone(), row.turn))
            .or_default()
            .push(row);
    }
    println!(
        "{:<14} {:>4} {:>5} {:>9} {:>7} {:>7} {:>7} {:>7} {:>11} {:>8}",
        "task",
        "turn",
        "runs",
        "hidden ok",
        "checks",
        "swarm",
        "diagn.",
        "tests",
        "false green",
        "overall"
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
        let passed = rows.iter().filter(|r| r.hidden_pass()).count();
        let false_green = rows.iter().filter(|r| r.false_green()).count();
        println!(
            "{:<14} {:>4} {:>5} {:>9} {:>7} {:>7} {:>7} {:>7} {:>11} {:>8}",
            task,
            turn,
            rows.len(),
            format!("{passed}/{}", rows.len()),
            mean(|r| r.checks),
            mean(|r| r.swarm),
            mean(|r| r.diagnostics),
            mean(|r| r.test_depth),
            false_green,
            mean(|r| r.overall)
        );
    }
}

/// The turn's hidden checks that did not pass, each with its evidence, read from the
/// grades.json beside the row's events: why the turn failed, before anything else.
fn print_failed_checks(base: &Path, row: &gym::ResultRow, full: bool) {
    let Some(path) = row.grades_file(base) else {
        return;
    };
    let grades = std::fs::read_to_string(&path)
        .map_err(|err| err.to_string())
        .and_then(|text| {
            serde_json::from_str::<serde_json::Value>(&text).map_err(|err| err.to_string())
        });
    let checks = match grades {
        Ok(grades) => grades["checks"].as_array().cloned().unwrap_or_default(),
        Err(err) => {
            println!("hidden checks: cannot read {}: {err}", path.display());
            return;
        }
    };
    let failed: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| c["verdict"].as_str() != Some("pass"))
        .collect();
    println!(
        "hidden checks: {} of {} did not pass",
        failed.len(),
        checks.len()
    );
    let limit = if full { usize::MAX } else { 20 };
    for check in failed {
        println!(
            "  {} {}",
            check["verdict"].as_str().unwrap_or("?").to_uppercase(),
            check["label"].as_str().unwrap_or("?")
        );
        let evidence = check["evidence"].as_str().unwrap_or("");
        let lines: Vec<&str> = evidence.lines().collect();
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

pub(crate) fn show_command(row: usize, results: &Path, full: bool) -> ExitCode {
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
