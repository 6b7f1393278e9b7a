//! `swarm`'s live progress: each pipeline event as one line on stderr.

use std::sync::{Arc, Mutex};
use swarm::pipeline::{Event, Record, Sink};

/// Renders pipeline events as progress lines on stderr, with tasks done/total.
pub fn progress() -> Sink {
    // Tasks merged, tasks planned, merged before this build, and when BUILD started.
    let counts = Arc::new(Mutex::new((0usize, 0usize)));
    let build_started = Arc::new(Mutex::new(None::<(std::time::Instant, usize)>));
    Arc::new(move |record: &Record| {
        let event = &record.event;
        let Ok(mut counts) = counts.lock() else {
            return;
        };
        let line = match event {
            Event::RunStarted {
                run_id,
                spec,
                nodes,
                resumed,
                language,
                language_reason,
                toolchain_missing,
                ..
            } => {
                let mut line = format!(
                    "[run] {} {run_id}: `{spec}` on {}; language {} ({language_reason})",
                    if *resumed { "resuming" } else { "starting" },
                    nodes.join(", "),
                    language.title()
                );
                for missing in toolchain_missing {
                    line.push_str(&format!(
                        "\n[run] WARNING: {missing}; the gates that need it will be inconclusive"
                    ));
                }
                line
            }
            Event::Phase {
                phase,
                status,
                reason,
            } => format!("[{phase}] {status}: {reason}"),
            Event::Node { node, ok, detail } => format!(
                "[fleet] {node}: {}{detail}",
                if *ok { "" } else { "DOWN, " }
            ),
            Event::NodeNotice { node, message } => format!("[fleet] {node}: {message}"),
            Event::NodeDown {
                node,
                reason,
                cooldown_s,
            } => format!("[fleet] {node} left out for {cooldown_s:.0}s: {reason}"),
            Event::AcceptanceDerived { block } => {
                format!("[acceptance] derived by the planner (check them):\n{block}")
            }
            Event::Scout {
                lens,
                node,
                ok,
                notes,
            } => format!(
                "[scout] {lens} on {node}: {}{}",
                if *ok { "" } else { "no notes, " },
                notes.chars().take(100).collect::<String>()
            ),
            Event::PlanDraft {
                round,
                draft,
                node,
                valid,
                score,
                problems,
                repairs,
            } => {
                let repaired = if repairs.is_empty() {
                    String::new()
                } else {
                    format!(" (repaired: {})", repairs.join("; "))
                };
                match (valid, score) {
                    (true, Some(score)) => format!("[plan] round {round} draft {draft} from {node}: valid, score {score}{repaired}"),
                    _ => format!("[plan] round {round} draft {draft} from {node}: REJECTED: {}{repaired}", problems.join("; ")),
                }
            }
            Event::PlanChosen {
                draft,
                tasks,
                reason,
                ..
            } => {
                counts.1 = *tasks;
                format!("[plan] chose draft {draft} ({tasks} tasks): {reason}")
            }
            Event::Contract {
                status,
                signatures,
                problems,
                ..
            } => format!(
                "[contract] {status}: {signatures} signature(s) frozen{}",
                if problems.is_empty() {
                    String::new()
                } else {
                    format!("; {}", problems.join("; "))
                }
            ),
            Event::Dispatch {
                task,
                node,
                attempt,
                reason,
            } => match reason.strip_prefix("fix; ") {
                Some(reason) => format!("[fix] {node} ← {task} (attempt {attempt}): {reason}"),
                None => format!("[build] {node} ← {task} (attempt {attempt}): {reason}"),
            },
            Event::Action {
                task,
                node,
                tool,
                target,
                wrote,
            } => format!(
                "        {node} · {task} · {tool} {target}{}",
                if *wrote { " (wrote)" } else { "" }
            ),
            Event::Judge {
                task,
                node,
                decision,
                reason,
                ..
            } => format!("[judge] {task} on {node}: {decision}: {reason}"),
            Event::TaskEnded {
                task,
                node,
                outcome,
                actions,
                ..
            } => format!("[build] {task} on {node}: {outcome} after {actions} action(s)"),
            Event::SentBack { task, reasons } => {
                format!("[build] {task} SENT BACK: {}", reasons.join("; "))
            }
            Event::Rerouted { task, from, reason } => {
                format!("[build] {task} leaves {from}: {reason}")
            }
            Event::Merged {
                task,
                stage,
                commit,
            } => {
                if stage == "build" {
                    counts.0 += 1;
                }
                let commit: String = commit.chars().take(8).collect();
                if stage == "build" {
                    format!(
                        "[build] {task} merged ({commit}) · {}/{} tasks done{}",
                        counts.0,
                        counts.1,
                        build_pace(&build_started, counts.0, counts.1)
                    )
                } else {
                    format!("[fix] {task} merged ({stage}, {commit})")
                }
            }
            Event::BuildPlanned {
                tasks,
                merged_before,
            } => {
                *counts = (*merged_before, *tasks);
                if let Ok(mut started) = build_started.lock() {
                    *started = Some((std::time::Instant::now(), *merged_before));
                }
                format!("[build] {merged_before}/{tasks} tasks merged before this build")
            }
            Event::MergeRecovered {
                task,
                commit,
                stage,
            } => {
                let commit: String = commit.chars().take(8).collect();
                format!("[resume] {task} ({stage}) was merged ({commit}) before the run stopped; git says so, the log had lost it")
            }
            Event::TaskFailed { task, reason } => format!("[build] {task} FAILED: {reason}"),
            Event::WarmUp {
                node,
                slot,
                stage,
                prompt_tokens,
                cached_tokens,
                ms,
                error,
            } => match error {
                Some(error) => format!("[{stage}] warm-up of {node} slot {slot} failed: {error}"),
                None => format!(
                    "[{stage}] {node} slot {slot} warmed: {prompt_tokens} prompt tokens ({cached_tokens} already cached) in {:.1} s",
                    *ms as f64 / 1000.0
                ),
            },
            Event::PreReview {
                stage,
                merged,
                failing,
                fixes,
                ms,
                error,
                ..
            } => match error {
                Some(error) => format!("[{stage}] early review could not run: {error}"),
                None => format!(
                    "[{stage}] early look at {merged} merged task(s): {failing} failing finding(s), {} in {:.1} s",
                    if fixes.is_empty() {
                        "none a merged task's own".to_string()
                    } else {
                        format!("early fix for {}", fixes.join(", "))
                    },
                    *ms as f64 / 1000.0
                ),
            },
            Event::EarlyFixDropped { task, reason } => {
                format!("[build] early fix of {task} not merged (kept as merged before): {reason}")
            }
            Event::Gate {
                round,
                gate,
                verdict,
                summary,
            } => format!("[verify {round}] {gate}: {verdict} — {summary}"),
            Event::Finding { finding, owner, .. } => format!(
                "[verify] {}/{} {}{}: {}{}",
                finding.gate,
                finding.kind,
                finding.file,
                finding.line.map(|l| format!(":{l}")).unwrap_or_default(),
                finding.message.lines().next().unwrap_or(""),
                owner
                    .as_ref()
                    .map(|o| format!(" → task {o}"))
                    .unwrap_or_default()
            ),
            Event::FixRound { round, tasks } => {
                format!("[fix] round {round}: {}", tasks.join(", "))
            }
            Event::Verdict { verdict, reason } => format!("[verdict] {verdict}: {reason}"),
            // Per-request figures are for the log and the viewer, not the terminal.
            Event::Agent { .. } => return,
        };
        eprintln!("{line}");
    })
}

/// ` · 1:02, ETA 3:10`: the time since BUILD started and, at the pace of the tasks merged in
/// this build, the time left (nothing before BUILD started).
fn build_pace(
    started: &Mutex<Option<(std::time::Instant, usize)>>,
    merged: usize,
    total: usize,
) -> String {
    let Some((at, before)) = started.lock().ok().and_then(|s| *s) else {
        return String::new();
    };
    let elapsed = at.elapsed().as_secs_f64();
    let left = swarm::clock::eta(
        elapsed,
        merged.saturating_sub(before),
        total.saturating_sub(before),
    )
    .filter(|_| merged < total)
    .map(|left| format!(", ETA {}", swarm::clock::duration_text(left)))
    .unwrap_or_default();
    format!(" · {}{left}", swarm::clock::duration_text(elapsed))
}
