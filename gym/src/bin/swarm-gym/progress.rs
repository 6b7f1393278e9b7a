//! The progress lines of runs on stderr: each turn started, graded or skipped, counted
//! `[n/N elapsed, ETA left]` when the total is known. On a terminal a bar below the lines
//! shows the same count; off a terminal (a log file, a pipe) only the lines are written, so
//! logs hold no escape codes. No colours are used anywhere (NO_COLOR holds trivially).

use gym::summary::{clock, eta};
use gym::RunEvent;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;

/// A bar of `total` turns on stderr, or None off a terminal.
fn terminal_bar(total: usize) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} turns · {elapsed} · ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// Progress of labelled runs (an A/B arm, a nightly cell; `swarm-gym run` has no label) on
/// stderr; with `total`, graded and skipped turns are counted `[n/total elapsed, ETA]`.
pub(crate) fn labelled_progress(total: Option<usize>) -> gym::ab::ArmEvents {
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let bar = total.and_then(terminal_bar);
    Arc::new(move |label: &str, event: &RunEvent| {
        let say = |line: String| match &bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        };
        let plain = match (label.is_empty(), total) {
            (true, _) => String::new(),
            (false, Some(_)) => format!("{label} | "),
            (false, None) => format!("[{label}] "),
        };
        let counted = || match total {
            Some(total) => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if let Some(bar) = &bar {
                    bar.set_position(n as u64);
                }
                let elapsed = started.elapsed().as_secs_f64();
                let left = eta(elapsed, n, total)
                    .filter(|_| n < total)
                    .map(|left| format!(", ETA {}", clock(left)))
                    .unwrap_or_default();
                format!("[{n}/{total} {}{left}] {plain}", clock(elapsed))
            }
            None => plain.clone(),
        };
        let show = |v: &Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        match event {
            RunEvent::TurnStarted {
                task,
                replicate,
                turn,
                node,
            } => say(format!("  {plain}{task} r{replicate} turn {turn}: building on {node}")),
            RunEvent::TurnGraded {
                task,
                replicate,
                turn,
                hidden,
                claimed,
                checks,
                overall,
            } => say(format!(
                "  {}{task} r{replicate} turn {turn}: hidden {hidden}, claimed {claimed}, checks {}, overall {}",
                counted(),
                show(checks),
                show(overall)
            )),
            RunEvent::TurnSkipped {
                task,
                replicate,
                turn,
            } => say(format!(
                "  {}{task} r{replicate} turn {turn}: already recorded, skipped",
                counted()
            )),
            RunEvent::Abandoned {
                task,
                replicate,
                reason,
            } => say(format!("  {plain}{task} r{replicate}: ABANDONED: {reason}")),
            RunEvent::SetAside {
                task,
                replicate,
                turns,
                file,
            } => say(format!(
                "  {plain}{task} r{replicate}: turn(s) {turns:?} moved to {file}: an earlier turn's row is missing, so the conversation is re-run from there"
            )),
            RunEvent::Retrying { task, turn, reason } => {
                say(format!("  {plain}{task} turn {turn}: infrastructure failure, retrying: {reason}"))
            }
            RunEvent::UserMove {
                task,
                replicate,
                turn,
                persona,
                chosen,
                reason,
                proven,
                unproven,
                discarded,
                rejected,
            } => say(format!(
                "  {plain}{task} r{replicate} turn {turn}: the user ({persona}) chose {chosen}: {reason}{}{}",
                if chosen == "stop" {
                    String::new()
                } else {
                    format!(" — checks {proven} proven, {unproven} unproven, {discarded} discarded")
                },
                if *rejected > 0 {
                    format!(" ({rejected} brain repl(ies) rejected first)")
                } else {
                    String::new()
                }
            )),
            RunEvent::UserFallback { task, turn, reason } => say(format!(
                "  {plain}{task} turn {turn}: simulated user unusable ({reason}); the scripted request is used"
            )),
            // Of the live stream, the terminal shows the swarm's phases; the rest (every
            // request, action and merge) is in the turn's events.jsonl.
            RunEvent::Progress {
                task,
                replicate,
                turn,
                record,
            } => {
                if let swarm::Event::Phase { phase, status, reason } = &record.event {
                    say(format!("  {plain}{task} r{replicate} turn {turn}: [{phase}] {status}: {reason}"));
                }
            }
        }
    })
}
