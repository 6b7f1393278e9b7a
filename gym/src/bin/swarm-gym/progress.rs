//! The progress lines of runs on stderr: each turn started, graded or skipped, counted
//! `[n/N]` when the total is known.

use gym::RunEvent;
use std::sync::Arc;

/// Progress of labelled runs (an A/B arm, a nightly cell; `swarm-gym run` has no label) on
/// stderr; with `total`, graded and skipped turns are counted `[n/total]`.
pub(crate) fn labelled_progress(total: Option<usize>) -> gym::ab::ArmEvents {
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Arc::new(move |label: &str, event: &RunEvent| {
        let plain = match (label.is_empty(), total) {
            (true, _) => String::new(),
            (false, Some(_)) => format!("{label} | "),
            (false, None) => format!("[{label}] "),
        };
        let counted = || match total {
            Some(total) => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                format!("[{n}/{total}] {plain}")
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
            } => eprintln!("  {plain}{task} r{replicate} turn {turn}: building on {node}"),
            RunEvent::TurnGraded {
                task,
                replicate,
                turn,
                hidden,
                claimed,
                checks,
                overall,
            } => eprintln!(
                "  {}{task} r{replicate} turn {turn}: hidden {hidden}, claimed {claimed}, checks {}, overall {}",
                counted(),
                show(checks),
                show(overall)
            ),
            RunEvent::TurnSkipped {
                task,
                replicate,
                turn,
            } => eprintln!(
                "  {}{task} r{replicate} turn {turn}: already recorded, skipped",
                counted()
            ),
            RunEvent::Abandoned {
                task,
                replicate,
                reason,
            } => eprintln!("  {plain}{task} r{replicate}: ABANDONED: {reason}"),
            RunEvent::SetAside {
                task,
                replicate,
                turns,
                file,
            } => eprintln!(
                "  {plain}{task} r{replicate}: turn(s) {turns:?} moved to {file}: an earlier turn's row is missing, so the conversation is re-run from there"
            ),
            RunEvent::Retrying { task, turn, reason } => {
                eprintln!("  {plain}{task} turn {turn}: infrastructure failure, retrying: {reason}")
            }
            RunEvent::UserFallback { task, turn, reason } => eprintln!(
                "  {plain}{task} turn {turn}: simulated user unusable ({reason}); the scripted request is used"
            ),
            // Of the live stream, the terminal shows the swarm's phases; the rest (every
            // request, action and merge) is in the turn's events.jsonl.
            RunEvent::Progress {
                task,
                replicate,
                turn,
                record,
            } => {
                if let swarm::Event::Phase { phase, status, reason } = &record.event {
                    eprintln!("  {plain}{task} r{replicate} turn {turn}: [{phase}] {status}: {reason}");
                }
            }
        }
    })
}
