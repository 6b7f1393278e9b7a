//! BUILD and FIX: tasks run on the fleet as the DAG allows, each in its own git worktree
//! writing only its owned files; a finished task is checked (owned files changed, frozen
//! signatures kept, no stub left) and merged, or sent back with the reason. A worker the
//! judge stops, or whose node stalls or dies, loses its task to the queue; its worktree — and
//! so whatever it wrote — stays for the next attempt.
//!
//! Dispatch is the scheduler's (`fleet::sched`, see `build/dispatch.rs`): upward rank first,
//! each task where it would finish earliest, which may mean waiting for a busy faster node
//! (`sched.eft`; off, any free slot takes the next ready task).

use super::context::{agent_config, forward, Ctx};
use super::{git, prompts, Contracts, Event, Phase, PhaseStatus, PipelineError, Record, RunStats};
use crate::agent::{run_agent, AgentReport, JudgeRules, Outcome, Workspace};
use crate::plan::{Plan, PlanTask};
use crate::verify::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::task::JoinSet;

mod checks;
mod dispatch;
mod prereview;
use checks::{done_gate, task_problems};
use dispatch::{run_jobs, Round};

/// What every task of a run shares.
pub(crate) struct Shared {
    pub plan: Plan,
    pub contracts: Contracts,
    pub preamble: Arc<String>,
}

/// What BUILD ended with.
pub(crate) struct Built {
    pub merged: BTreeSet<String>,
    pub failed: BTreeSet<String>,
}

struct Job {
    task: PlanTask,
    /// build, or fix-N.
    stage: String,
    branch: String,
    worktree: PathBuf,
    findings: Vec<Finding>,
    attempts: u32,
    reroutes: u32,
    /// Node and slot of its last attempt (a retry prefers them: its prompt is cached there).
    last_node: Option<usize>,
    last_slot: Option<u32>,
    /// The node its last attempt lost to a failure (a retry avoids it).
    failed_node: Option<usize>,
    sent_back: Vec<String>,
    /// Owned files' content when the worktree was made (None: absent).
    base: BTreeMap<String, Option<String>>,
}

fn snapshot(worktree: &Path, files: &[String]) -> BTreeMap<String, Option<String>> {
    files
        .iter()
        .map(|f| (f.clone(), std::fs::read_to_string(worktree.join(f)).ok()))
        .collect()
}

/// Server failures that mean the node, not the task, is the problem.
fn node_failure(report: &AgentReport) -> bool {
    report.outcome == Outcome::Failed && report.error_kind.is_some_and(|k| k.is_node_failure())
}

struct Finished {
    job: Job,
    node: usize,
    /// The node's slot it held.
    slot: u32,
    report: AgentReport,
    /// The job could not even be set up: the run cannot go on.
    fatal: Option<PipelineError>,
}

/// Makes the job's worktree (or finds the one a killed run left) and notes what its owned
/// files held at the start.
async fn prepare(out: &Path, job: &mut Job) -> Result<(), PipelineError> {
    if !job.worktree.join(".git").exists() {
        git::worktree(out, &job.worktree, &job.branch)
            .await
            .map_err(|err| {
                PipelineError::Io(format!(
                    "cannot create the worktree of task {}: {err}",
                    job.task.id
                ))
            })?;
        job.base = snapshot(&job.worktree, &job.task.files);
    } else if job.base.is_empty() {
        // A worktree left by a killed run: compare against main, where the task started.
        let mut base = BTreeMap::new();
        for file in &job.task.files {
            let content = git::git(out, &["show", &format!("HEAD:{file}")]).await.ok();
            base.insert(file.clone(), content.map(|c| format!("{c}\n")));
        }
        job.base = base;
    }
    Ok(())
}

fn spawn(
    ctx: &Ctx,
    shared: &Shared,
    running: &mut JoinSet<Finished>,
    mut job: Job,
    index: usize,
    git_lock: Arc<tokio::sync::Mutex<()>>,
) {
    let node = &ctx.nodes[index];
    let prefer = job.last_slot.filter(|_| job.last_node == Some(index));
    let slot = node.acquire(prefer);
    let client = node.client.clone();
    let mut config = agent_config(ctx, index, ctx.knobs.get(crate::knobs::BUILD_MAX_ACTIONS));
    config.cache_slot = node.cache_slot(slot);
    config.preamble = Some(shared.preamble.as_str().to_string());
    if ctx.knobs.get(crate::knobs::JUDGE_ENABLED) {
        config.judge = Some(JudgeRules {
            max_idle_actions: ctx.knobs.get(crate::knobs::JUDGE_MAX_IDLE_ACTIONS),
            max_repeats: ctx.knobs.get(crate::knobs::JUDGE_MAX_REPEATS),
            // Set once the worktree exists (the gate compares with its start).
            done_gate: None,
        });
    }
    let text = if job.stage == "build" {
        prompts::task(&job.task, &shared.plan, &job.sent_back)
    } else {
        // An early fix (`early-…`) comes before any fix round: round 0.
        let round = job
            .stage
            .strip_prefix("fix-")
            .and_then(|r| r.parse().ok())
            .unwrap_or(0);
        prompts::fix(
            &job.task,
            round,
            &job.findings,
            &shared.plan,
            &job.sent_back,
        )
    };
    let events = forward(ctx, &job.task.id, index);
    let out = ctx.out.clone();
    let reject_empty_done = ctx.knobs.get(crate::knobs::JUDGE_REJECT_EMPTY_DONE);
    running.spawn(async move {
        let prepared = {
            let _one_at_a_time = git_lock.lock().await;
            prepare(&out, &mut job).await
        };
        if let Err(fatal) = prepared {
            return Finished {
                job,
                node: index,
                slot,
                report: AgentReport::empty(Outcome::Failed, "the worktree cannot be made"),
                fatal: Some(fatal),
            };
        }
        if let Some(judge) = config.judge.as_mut() {
            // The gate compares with the owned files as the worktree began.
            judge.done_gate = reject_empty_done.then(|| done_gate(&job.task, &job.base));
        }
        let report = match Workspace::new(&job.worktree) {
            Ok(workspace) => {
                let workspace = workspace.with_owned_files(job.task.files.clone());
                run_agent(&client, &workspace, &config, &text, &events).await
            }
            Err(err) => AgentReport::empty(
                Outcome::Failed,
                format!("the worktree cannot be used: {err}"),
            ),
        };
        Finished {
            job,
            node: index,
            slot,
            report,
            fatal: None,
        }
    });
}

/// Keeps a worker's whole conversation: `transcripts/<task>.<stage>.<attempt>.jsonl`.
fn save_transcript(ctx: &Ctx, job: &Job, node: &str, report: &AgentReport) {
    let dir = ctx.run_dir.join("transcripts");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let mut text = serde_json::json!({"task": job.task.id, "stage": job.stage, "attempt": job.attempts + 1 + job.reroutes, "node": node}).to_string();
    text.push('\n');
    for message in &report.transcript {
        if let Ok(line) = serde_json::to_string(message) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    let name = format!(
        "{}.{}.{}.jsonl",
        job.task.id.replace('/', "-"),
        job.stage,
        job.attempts + 1 + job.reroutes
    );
    let _ = std::fs::write(dir.join(name), text);
}

fn job(ctx: &Ctx, task: &PlanTask, stage: &str, findings: Vec<Finding>) -> Job {
    let slug: String = task
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let (branch, dir) = if stage == "build" {
        (format!("swarm/task/{slug}"), format!("task-{slug}"))
    } else {
        (format!("swarm/{stage}/{slug}"), format!("{stage}-{slug}"))
    };
    Job {
        task: task.clone(),
        stage: stage.into(),
        branch,
        worktree: ctx.out.join(".swarm/worktrees").join(dir),
        findings,
        attempts: 0,
        reroutes: 0,
        last_node: None,
        last_slot: None,
        failed_node: None,
        sent_back: Vec::new(),
        base: BTreeMap::new(),
    }
}

/// The BUILD phase: what merged before is what git says merged (the log is brought to
/// agree), then every other task of the plan. Returns what FIX shares with it and the tasks
/// that never merged.
pub(crate) async fn build_phase(
    ctx: &Ctx,
    plan: Plan,
    contracts: Contracts,
    previous: &[Record],
    stats: &mut RunStats,
) -> Result<(Shared, BTreeSet<String>), PipelineError> {
    let merged_before = super::merges::reconcile_merges(ctx, previous).await?;
    ctx.emit(Event::BuildPlanned {
        tasks: plan.tasks.len(),
        merged_before: merged_before.len(),
    });
    let preamble = Arc::new(prompts::preamble(&ctx.spec, &plan.entry, &contracts.files));
    let shared = Shared {
        plan,
        contracts,
        preamble,
    };
    let planned = format!(
        "{} task(s), {} merged before",
        shared.plan.tasks.len(),
        merged_before.len()
    );
    ctx.phase(Phase::Build, PhaseStatus::Started, planned);
    let built = run_build(ctx, &shared, &merged_before, stats).await?;
    stats.tasks_merged = built.merged.len();
    stats.tasks_failed = built.failed.len();
    let summary = format!(
        "{} merged, {} failed",
        built.merged.len(),
        built.failed.len()
    );
    ctx.phase(Phase::Build, PhaseStatus::Finished, summary);
    Ok((shared, built.failed))
}

/// BUILD: every task not merged before.
pub(crate) async fn run_build(
    ctx: &Ctx,
    shared: &Shared,
    merged_before: &BTreeSet<String>,
    stats: &mut RunStats,
) -> Result<Built, PipelineError> {
    let jobs: Vec<Job> = shared
        .plan
        .tasks
        .iter()
        .filter(|t| !merged_before.contains(&t.id))
        .map(|t| job(ctx, t, "build", Vec::new()))
        .collect();
    let round = Round {
        stage: "build".into(),
        use_deps: true,
        merged_before,
        in_main: merged_before,
    };
    let (merged, failed) = run_jobs(ctx, shared, jobs, round, stats).await?;
    let mut all = merged_before.clone();
    all.extend(merged);
    Ok(Built {
        merged: all,
        failed,
    })
}

/// FIX: one targeted task per owner of failing findings (`in_main`: the tasks whose work is
/// in main).
pub(crate) async fn run_fix(
    ctx: &Ctx,
    shared: &Shared,
    round: u32,
    by_owner: &BTreeMap<String, Vec<Finding>>,
    in_main: &BTreeSet<String>,
    stats: &mut RunStats,
) -> Result<BTreeSet<String>, PipelineError> {
    let stage = format!("fix-{round}");
    let jobs: Vec<Job> = by_owner
        .iter()
        .filter_map(|(id, findings)| {
            shared
                .plan
                .tasks
                .iter()
                .find(|t| &t.id == id)
                .map(|t| job(ctx, t, &stage, findings.clone()))
        })
        .collect();
    let round = Round {
        stage,
        use_deps: false,
        merged_before: &BTreeSet::new(),
        in_main,
    };
    let (merged, _) = run_jobs(ctx, shared, jobs, round, stats).await?;
    Ok(merged)
}
