//! The dispatch loop of BUILD and FIX: a queue of jobs, the fleet's free slots, and what
//! happens when a job comes back (merged, sent back with the reasons, re-routed off a node
//! that failed, or failed for good).
//!
//! Which ready job starts, where and when is the scheduler's ([`crate::fleet::sched`]): the
//! same policy the simulator runs on virtual time, asked here on real time whenever a job
//! comes back or a node rejoins. It sees each task's work (its difficulty: easy 1, medium 2,
//! hard 4 units), each node's speed as the run has measured it, and how long each running
//! job should still take. A node's slots are permits (`acquire` at dispatch, `release` when
//! the job comes back). Making a job's git worktree happens in the job's own task, and
//! committing and merging a finished job in a task of its own, both off this loop (one git
//! command that changes the repository at a time: git locks it).

use super::prereview::{is_early, Looked};
use super::{node_failure, save_transcript, spawn, task_problems, Finished, Job, Shared};
use crate::agent::{AgentReport, Outcome};
use crate::fleet::live as nodes;
use crate::fleet::sched::Scheduler;
use crate::fleet::Role;
use crate::pipeline::context::Ctx;
use crate::pipeline::{git, Event, PipelineError, RunStats};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

mod early;
mod fleet_view;
use fleet_view::{scheduler_for, work_units};

/// One BUILD or one FIX round, as the dispatch loop runs it.
pub(super) struct Round<'a> {
    /// `build` or `fix-N`.
    pub stage: String,
    /// A build job waits for its dependencies to merge (FIX jobs are independent).
    pub use_deps: bool,
    /// Tasks merged before: they count as merged and are not returned.
    pub merged_before: &'a BTreeSet<String>,
    /// Tasks whose work is in main as this round starts (an early look acts only on those and
    /// on the tasks merged since).
    pub in_main: &'a BTreeSet<String>,
}

/// Runs `jobs` to the end. Returns the jobs merged now and those that failed.
pub(super) async fn run_jobs(
    ctx: &Ctx,
    shared: &Shared,
    jobs: Vec<Job>,
    round: Round<'_>,
    stats: &mut RunStats,
) -> Result<(BTreeSet<String>, BTreeSet<String>), PipelineError> {
    let use_deps = round.use_deps;
    let mut queue = Queue::new(ctx, shared, jobs, &round);
    let mut first = use_deps;
    loop {
        if use_deps {
            queue.drop_blocked();
        }
        queue.dispatch(stats);
        if std::mem::take(&mut first) {
            queue.warm_free_slots();
        }
        queue.look_if_idle(stats);
        // Nothing on the fleet: the round is over (an early look still running is dropped:
        // VERIFY looks at everything next).
        if queue.running.is_empty() && queue.merging.is_empty() {
            if queue.pending.is_empty() || !queue.wait_for_a_node().await {
                break;
            }
            continue;
        }
        // Wake for whichever comes first: a job back, a merge done, an early look done, or
        // a node rejoining that a waiting job may want.
        let rejoin = queue.next_rejoin();
        tokio::select! {
            Some(joined) = queue.running.join_next() => {
                let finished =
                    joined.map_err(|err| PipelineError::Io(format!("a worker crashed: {err}")))?;
                if let Some(fatal) = finished.fatal {
                    return Err(fatal);
                }
                queue.settle(finished, stats);
            }
            Some(joined) = queue.merging.join_next() => {
                let (task, merged) =
                    joined.map_err(|err| PipelineError::Io(format!("a merge crashed: {err}")))?;
                queue.merged_or_failed(task, merged, stats);
            }
            Some(joined) = queue.looking.join_next() => {
                if let Ok(looked) = joined {
                    queue.looked(looked, stats);
                }
            }
            () = sleep_or_never(rejoin) => {}
        }
    }
    let Queue {
        mut merged, failed, ..
    } = queue;
    for id in round.merged_before {
        merged.remove(id);
    }
    Ok((merged, failed))
}

async fn sleep_or_never(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// What a merge left: the stage, and the merge commit or why the task could not merge.
type MergeResult = (String, Result<String, String>);

/// A job on the fleet, as the scheduler sees it.
struct Running {
    task: usize,
    node: usize,
    since: Instant,
}

/// The jobs of one BUILD or FIX and what became of them.
struct Queue<'a> {
    ctx: &'a Ctx,
    shared: &'a Shared,
    /// Jobs waiting for their dependencies or a slot.
    pending: Vec<Job>,
    /// Tasks merged (including those merged before).
    merged: BTreeSet<String>,
    /// Tasks that failed for good.
    failed: BTreeSet<String>,
    /// Jobs on the fleet.
    running: JoinSet<Finished>,
    /// Finished jobs being committed and merged into main, off this loop: the task and its
    /// merge commit, or why it could not merge.
    merging: JoinSet<(String, MergeResult)>,
    /// The tasks being merged.
    merging_tasks: BTreeSet<String>,
    /// `build` or `fix-N`.
    stage: String,
    /// Tasks whose work was in main when the round started.
    in_main: BTreeSet<String>,
    /// Early looks are on (`sched.prereview`).
    prereview: bool,
    /// The early look under way (one at a time).
    looking: JoinSet<Looked>,
    /// A merge landed since the last early look began.
    look_due: bool,
    /// Early fixes waiting for an idle slot.
    early: Vec<Job>,
    /// Tasks given an early fix this round (one each).
    early_fixed: BTreeSet<String>,
    /// What each running job is.
    on_fleet: Vec<Running>,
    /// Whether build dependencies gate dispatch.
    use_deps: bool,
    /// Worker node indices.
    workers: Vec<usize>,
    /// The policy over the plan.
    scheduler: Scheduler,
    /// Plan index of each task.
    index: BTreeMap<String, usize>,
    /// Attempts a task gets (`build.attempts`).
    max_attempts: u32,
    /// How long a failed node sits out (`node.cooldown_s`).
    cooldown: Duration,
    /// One git command that changes the repository at a time (worktrees, merges).
    git_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl<'a> Queue<'a> {
    fn new(ctx: &'a Ctx, shared: &'a Shared, pending: Vec<Job>, round: &Round<'_>) -> Self {
        let tasks = &shared.plan.tasks;
        let use_deps = round.use_deps;
        Queue {
            ctx,
            shared,
            pending,
            merged: round.merged_before.clone(),
            failed: BTreeSet::new(),
            running: JoinSet::new(),
            merging: JoinSet::new(),
            merging_tasks: BTreeSet::new(),
            stage: round.stage.clone(),
            in_main: round.in_main.clone(),
            prereview: ctx.knobs.get(crate::knobs::SCHED_PREREVIEW),
            looking: JoinSet::new(),
            look_due: false,
            early: Vec::new(),
            early_fixed: BTreeSet::new(),
            on_fleet: Vec::new(),
            use_deps,
            workers: nodes::with_role(&ctx.nodes, Role::Worker),
            scheduler: scheduler_for(ctx, tasks, use_deps),
            index: tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.clone(), i))
                .collect(),
            max_attempts: ctx.knobs.get(crate::knobs::BUILD_ATTEMPTS).max(1),
            cooldown: ctx.knobs.get(crate::knobs::NODE_COOLDOWN_S),
            git_lock: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    fn fail(&mut self, task: &str, reason: String) {
        self.ctx.emit(Event::TaskFailed {
            task: task.to_string(),
            reason,
        });
        self.failed.insert(task.to_string());
    }

    /// Tasks whose dependencies failed can never run.
    fn drop_blocked(&mut self) {
        let mut blocked = Vec::new();
        let failed = &self.failed;
        self.pending.retain(
            |job| match job.task.depends_on.iter().find(|d| failed.contains(*d)) {
                Some(dep) => {
                    blocked.push((job.task.id.clone(), dep.clone()));
                    false
                }
                None => true,
            },
        );
        for (task, dep) in blocked {
            self.fail(&task, format!("blocked: its dependency `{dep}` failed"));
        }
    }

    fn task_index(&self, job: &Job) -> usize {
        self.index.get(&job.task.id).copied().unwrap_or(0)
    }

    /// Plan indices of the pending jobs that may start.
    fn ready(&self) -> Vec<usize> {
        self.pending
            .iter()
            .filter(|job| {
                !self.use_deps || job.task.depends_on.iter().all(|d| self.merged.contains(d))
            })
            .map(|job| self.task_index(job))
            .collect()
    }

    /// Starts what the scheduler says starts now: the ready jobs, then early fixes on the
    /// slots they left free.
    fn dispatch(&mut self, stats: &mut RunStats) {
        let ready = self.ready();
        if !ready.is_empty() {
            self.start(ready, false, stats);
        }
        if !self.early.is_empty() && self.free_slots() > 0 && self.ready().is_empty() {
            let early: Vec<usize> = self.early.iter().map(|job| self.task_index(job)).collect();
            self.start(early, true, stats);
        }
    }

    /// Starts those of `tasks` (pending jobs, or early fixes) the scheduler places now.
    fn start(&mut self, tasks: Vec<usize>, early: bool, stats: &mut RunStats) {
        let views = self.views();
        let waiting = if early { &self.early } else { &self.pending };
        // A job that lost its node to a failure avoids it; one sent back may go anywhere
        // (it prefers its old slot when it lands on that node again).
        let failed_on: BTreeMap<usize, usize> = waiting
            .iter()
            .filter_map(|job| job.failed_node.map(|n| (self.task_index(job), n)))
            .collect();
        let avoid = |task: usize| failed_on.get(&task).copied();
        let decided = self.scheduler.decide(&tasks, &views, &avoid);
        let ctx = self.ctx;
        for decision in decided.start {
            let waiting = if early {
                &mut self.early
            } else {
                &mut self.pending
            };
            let Some(at) = waiting.iter().position(|job| {
                self.index.get(&job.task.id).copied().unwrap_or(0) == decision.task
            }) else {
                continue;
            };
            let job = waiting.remove(at);
            let fix = if job.stage == "build" {
                ""
            } else if early {
                "early fix on an idle slot; "
            } else {
                "fix; "
            };
            ctx.emit(Event::Dispatch {
                task: job.task.id.clone(),
                node: ctx.nodes[decision.node].node.name.clone(),
                attempt: job.attempts + 1,
                reason: format!("{fix}{decision}"),
            });
            stats.dispatches += 1;
            self.on_fleet.push(Running {
                task: decision.task,
                node: decision.node,
                since: Instant::now(),
            });
            spawn(
                ctx,
                self.shared,
                &mut self.running,
                job,
                decision.node,
                self.git_lock.clone(),
            );
        }
    }

    /// BUILD's first dispatch is out: every worker slot it left free gets the workers'
    /// stable prefix in its cache before a task comes to it.
    fn warm_free_slots(&self) {
        let taken: Vec<(usize, u32)> = self
            .workers
            .iter()
            .flat_map(|i| {
                self.ctx.nodes[*i]
                    .taken_slots()
                    .into_iter()
                    .map(move |slot| (*i, slot))
            })
            .collect();
        crate::pipeline::prewarm::warm(self.ctx, "build", &self.shared.preamble, &taken);
    }

    /// When the soonest down worker rejoins, if a job is waiting.
    fn next_rejoin(&self) -> Option<Duration> {
        if self.pending.is_empty() {
            return None;
        }
        self.workers
            .iter()
            .filter_map(|i| self.ctx.nodes[*i].rejoins_in())
            .filter(|d| !d.is_zero())
            .min()
            .map(|d| d + Duration::from_millis(50))
    }

    /// Nothing runs and nothing could start: waits for a node to rejoin (true), or fails
    /// every pending job when none will (false).
    async fn wait_for_a_node(&mut self) -> bool {
        let nodes = &self.ctx.nodes;
        let wait = self
            .workers
            .iter()
            .filter_map(|i| nodes[*i].rejoins_in())
            .min();
        if let Some(wait) = wait {
            tokio::time::sleep(wait + Duration::from_millis(50)).await;
            return true;
        }
        for job in std::mem::take(&mut self.pending) {
            self.fail(&job.task.id, "no worker node can take it".into());
        }
        false
    }

    /// A job came back: counted, logged, then re-routed, merged, sent back or failed.
    fn settle(&mut self, finished: Finished, stats: &mut RunStats) {
        let Finished {
            mut job,
            node,
            slot,
            report,
            ..
        } = finished;
        let live = &self.ctx.nodes[node];
        live.release(slot);
        let task = self.task_index(&job);
        if let Some(at) = self
            .on_fleet
            .iter()
            .position(|r| r.task == task && r.node == node)
        {
            self.on_fleet.remove(at);
        }
        if let Ok(mut estimator) = self.ctx.estimator.lock() {
            if report.model_ms > 0 && report.tokens_out > 0 {
                let speed = report.tokens_out as f64 * 1000.0 / report.model_ms as f64;
                live.observe_speed(speed);
                estimator.observe_generation(node, speed);
            }
            if !node_failure(&report) {
                estimator.observe_task(
                    node,
                    work_units(job.task.difficulty),
                    report.wall_ms as f64 / 1000.0,
                    report.model_ms as f64 / 1000.0,
                );
            }
        }
        count(stats, &report);
        save_transcript(self.ctx, &job, &live.node.name, &report);
        self.ctx.emit(Event::TaskEnded {
            task: job.task.id.clone(),
            node: live.node.name.clone(),
            slot: Some(slot),
            outcome: report.outcome,
            summary: report.summary.chars().take(300).collect(),
            actions: report.actions.len(),
            tokens_in: report.tokens_in,
            tokens_out: report.tokens_out,
            wall_ms: report.wall_ms,
            error_kind: report.error_kind,
        });
        job.last_node = Some(node);
        job.last_slot = Some(slot);
        if node_failure(&report) {
            job.failed_node = Some(node);
            self.reroute(job, node, &report, stats);
            return;
        }
        let problems = self.problems(&job, &report);
        if problems.is_empty() {
            self.merge(job);
        } else {
            self.send_back(job, &report, problems, stats);
        }
    }

    /// The node failed, not the task: the node sits out its cooldown and the job goes back to
    /// the queue (its worktree keeps what was written), unless it lost its node too often.
    fn reroute(&mut self, mut job: Job, node: usize, report: &AgentReport, stats: &mut RunStats) {
        if report.error_kind.is_some_and(|k| k.is_stall()) {
            stats.stalls += 1;
        } else {
            stats.server_errors += 1;
        }
        let live = &self.ctx.nodes[node];
        live.mark_down(self.cooldown);
        let name = live.node.name.clone();
        self.ctx.emit(Event::NodeDown {
            node: name.clone(),
            reason: report.summary.clone(),
            cooldown_s: self.cooldown.as_secs_f64(),
        });
        stats.rerouted += 1;
        job.reroutes += 1;
        if job.reroutes > self.max_attempts * 2 {
            let reason = format!("lost its node {} times", job.reroutes);
            self.give_up(&job, reason);
            return;
        }
        self.ctx.emit(Event::Rerouted {
            task: job.task.id.clone(),
            from: name,
            reason: format!("{}; its worktree keeps what was written", report.summary),
        });
        if is_early(&job.stage) {
            self.early.push(job);
        } else {
            self.pending.push(job);
        }
    }

    /// Why a returned job cannot merge (none: it can).
    fn problems(&self, job: &Job, report: &AgentReport) -> Vec<String> {
        match report.outcome {
            Outcome::Done if self.ctx.knobs.get(crate::knobs::BUILD_CHECK_FINISHED) => {
                task_problems(
                    &job.worktree,
                    &job.task,
                    &job.base,
                    &self.shared.contracts.signatures,
                )
            }
            Outcome::Done => Vec::new(),
            Outcome::Stopped => vec![report.summary.clone()],
            Outcome::OutOfBudget => vec![format!(
                "you ran out of actions before done: {}",
                report.summary
            )],
            Outcome::Failed => vec![format!("your run failed: {}", report.summary)],
        }
    }

    /// Commits the job's files in its worktree and merges its branch into main (the merge
    /// commit carries the run, stage and task), in a task of its own: the loop goes on
    /// dispatching, and the tasks that depend on this one wait for the merge to land.
    fn merge(&mut self, job: Job) {
        let ctx = self.ctx;
        let message = format!("{} {}: {}", job.stage, job.task.id, job.task.title);
        let trailers = git::merge_trailers(&ctx.run_id(), &job.stage, &job.task.id);
        let out = ctx.out.clone();
        let git_lock = self.git_lock.clone();
        self.merging_tasks.insert(job.task.id.clone());
        self.merging.spawn(async move {
            let _one_at_a_time = git_lock.lock().await;
            let merged = async {
                git::commit_files(&job.worktree, &job.task.files, &message).await?;
                git::merge(&out, &job.branch, &format!("merge {message}{trailers}")).await
            }
            .await;
            if merged.is_ok() {
                git::remove_worktree(&out, &job.worktree).await;
            }
            let merged = merged.map_err(|err| format!("merge failed: {err}"));
            (job.task.id, (job.stage, merged))
        });
    }

    /// A merge came back: the task is merged (its dependents may start) or failed (an
    /// early fix that does not merge leaves the task as it was).
    fn merged_or_failed(
        &mut self,
        task: String,
        (stage, merged): MergeResult,
        stats: &mut RunStats,
    ) {
        self.merging_tasks.remove(&task);
        match merged {
            Ok(commit) => {
                if is_early(&stage) {
                    stats.early_fixes_merged += 1;
                }
                self.ctx.emit(Event::Merged {
                    task: task.clone(),
                    commit,
                    stage,
                });
                self.merged.insert(task);
                self.look_due = true;
            }
            Err(reason) if is_early(&stage) => {
                self.ctx.emit(Event::EarlyFixDropped { task, reason });
            }
            Err(reason) => self.fail(&task, reason),
        }
    }

    /// Another attempt with the reasons, or failure when the attempts are used up.
    fn send_back(
        &mut self,
        mut job: Job,
        report: &AgentReport,
        problems: Vec<String>,
        stats: &mut RunStats,
    ) {
        job.attempts += 1;
        // An early fix gets one try: it is extra work on an idle slot, never owed.
        if is_early(&job.stage) {
            self.give_up(&job, problems.join("; "));
            return;
        }
        if report.outcome == Outcome::Done {
            stats.sent_back += 1;
            self.ctx.emit(Event::SentBack {
                task: job.task.id.clone(),
                reasons: problems.clone(),
            });
        }
        if job.attempts >= self.max_attempts {
            let reason = format!(
                "{} attempt(s) used; last: {}",
                job.attempts,
                problems.join("; ")
            );
            self.give_up(&job, reason);
        } else {
            job.sent_back = problems;
            self.pending.push(job);
        }
    }
}

/// Adds a finished job's figures to the run's.
fn count(stats: &mut RunStats, report: &AgentReport) {
    stats.requests += u64::from(report.requests);
    stats.malformed_replies += u64::from(report.malformed_replies);
    stats.tool_errors += u64::from(report.tool_errors);
    stats.tokens_in += report.tokens_in;
    stats.tokens_out += report.tokens_out;
    stats.model_ms += report.model_ms;
    stats.judge_interventions += report.judge_interventions as usize;
    stats.context_overflows += report.context_overflows as usize;
}
