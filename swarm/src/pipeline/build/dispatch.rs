//! The dispatch loop of BUILD and FIX: a queue of jobs, the fleet's free slots, and what
//! happens when a job comes back (merged, sent back with the reasons, re-routed off a node
//! that failed, or failed for good).
//!
//! Order: when `sched.priority` is on, ready jobs that unblock the most downstream work go
//! first, then those on the longest remaining chain, then plan order; hard tasks go to the
//! fastest free node (`sched.fastest_for_hard`), others to the least loaded.

use super::{
    heights, node_failure, placeholder, prepare, save_transcript, spawn, task_problems, Finished,
    Job, Shared,
};
use crate::agent::{AgentReport, Outcome};
use crate::fleet::live as nodes;
use crate::fleet::Role;
use crate::pipeline::context::Ctx;
use crate::pipeline::{git, Event, PipelineError, RunStats};
use crate::plan::{downstream_counts, Difficulty};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::task::JoinSet;

/// Runs `jobs` to the end; with `use_deps`, a build job waits for its dependencies to merge
/// (those in `already` count as merged). Returns the jobs merged now and those that failed.
pub(super) async fn run_jobs(
    ctx: &Ctx,
    shared: &Shared,
    jobs: Vec<Job>,
    already: &BTreeSet<String>,
    use_deps: bool,
    stats: &mut RunStats,
) -> Result<(BTreeSet<String>, BTreeSet<String>), PipelineError> {
    let mut queue = Queue::new(ctx, shared, jobs, already, use_deps);
    loop {
        if use_deps {
            queue.drop_blocked();
        }
        queue.dispatch(stats).await?;
        if queue.running.is_empty() {
            if queue.pending.is_empty() || !queue.wait_for_a_node().await {
                break;
            }
            continue;
        }
        let Some(joined) = queue.running.join_next().await else {
            continue;
        };
        let finished =
            joined.map_err(|err| PipelineError::Io(format!("a worker crashed: {err}")))?;
        queue.settle(finished, stats).await;
    }
    let Queue {
        mut merged, failed, ..
    } = queue;
    for id in already {
        merged.remove(id);
    }
    Ok((merged, failed))
}

/// The jobs of one BUILD or FIX and what became of them.
struct Queue<'a> {
    ctx: &'a Ctx,
    shared: &'a Shared,
    /// Jobs waiting for their dependencies or a free slot.
    pending: Vec<Job>,
    /// Tasks merged (including those merged before).
    merged: BTreeSet<String>,
    /// Tasks that failed for good.
    failed: BTreeSet<String>,
    /// Jobs on the fleet.
    running: JoinSet<Finished>,
    /// Whether build dependencies gate dispatch.
    use_deps: bool,
    /// Worker node indices.
    workers: Vec<usize>,
    /// Tasks each task unblocks, for priority.
    downstream: BTreeMap<String, usize>,
    /// Longest chain below each task, for priority.
    height: BTreeMap<String, usize>,
    /// Plan order, the last tie-break.
    order: BTreeMap<String, usize>,
    /// Attempts a task gets (`build.attempts`).
    max_attempts: u32,
    /// How long a failed node sits out (`node.cooldown_s`).
    cooldown: Duration,
}

impl<'a> Queue<'a> {
    fn new(
        ctx: &'a Ctx,
        shared: &'a Shared,
        pending: Vec<Job>,
        already: &BTreeSet<String>,
        use_deps: bool,
    ) -> Self {
        let tasks = &shared.plan.tasks;
        Queue {
            ctx,
            shared,
            pending,
            merged: already.clone(),
            failed: BTreeSet::new(),
            running: JoinSet::new(),
            use_deps,
            workers: nodes::with_role(&ctx.nodes, Role::Worker),
            downstream: downstream_counts(tasks),
            height: heights(tasks),
            order: tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.clone(), i))
                .collect(),
            max_attempts: ctx.knobs.get(crate::knobs::BUILD_ATTEMPTS).max(1),
            cooldown: ctx.knobs.get(crate::knobs::NODE_COOLDOWN_S),
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

    /// Indices of the pending jobs that may start, best first.
    fn ready(&self) -> Vec<usize> {
        let mut ready: Vec<usize> = (0..self.pending.len())
            .filter(|i| {
                !self.use_deps
                    || self.pending[*i]
                        .task
                        .depends_on
                        .iter()
                        .all(|d| self.merged.contains(d))
            })
            .collect();
        let rank = |id: &String| {
            (
                std::cmp::Reverse(self.downstream.get(id).copied().unwrap_or(0)),
                std::cmp::Reverse(self.height.get(id).copied().unwrap_or(0)),
                self.order.get(id).copied().unwrap_or(0),
            )
        };
        if self.ctx.knobs.get(crate::knobs::SCHED_PRIORITY) {
            ready.sort_by_key(|i| rank(&self.pending[*i].task.id));
        } else {
            ready.sort_by_key(|i| {
                self.order
                    .get(&self.pending[*i].task.id)
                    .copied()
                    .unwrap_or(0)
            });
        }
        ready
    }

    /// Starts ready jobs, best first, while a worker has a free slot.
    async fn dispatch(&mut self, stats: &mut RunStats) -> Result<(), PipelineError> {
        let ctx = self.ctx;
        let mut taken: Vec<usize> = Vec::new();
        for i in self.ready() {
            let job = &self.pending[i];
            let hard = job.task.difficulty == Difficulty::Hard;
            let fastest = ctx.knobs.get(crate::knobs::SCHED_FASTEST_FOR_HARD);
            let Some((index, why)) =
                nodes::pick(&ctx.nodes, &self.workers, hard, fastest, job.last_node)
            else {
                break;
            };
            let priority = if ctx.knobs.get(crate::knobs::SCHED_PRIORITY) {
                let unblocks = self.downstream.get(&job.task.id).copied().unwrap_or(0);
                format!("unblocks {unblocks} task(s); ")
            } else {
                String::new()
            };
            let fix = if job.stage == "build" { "" } else { "fix; " };
            ctx.emit(Event::Dispatch {
                task: job.task.id.clone(),
                node: ctx.nodes[index].node.name.clone(),
                attempt: job.attempts + 1,
                reason: format!("{fix}{priority}{why}"),
            });
            stats.dispatches += 1;
            taken.push(i);
            let mut job = std::mem::replace(&mut self.pending[i], placeholder());
            prepare(ctx, &mut job).await?;
            spawn(ctx, self.shared, &mut self.running, job, index);
        }
        taken.sort_unstable();
        for i in taken.into_iter().rev() {
            self.pending.remove(i);
        }
        Ok(())
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
    async fn settle(&mut self, finished: Finished, stats: &mut RunStats) {
        let Finished {
            mut job,
            node,
            report,
        } = finished;
        let live = &self.ctx.nodes[node];
        live.release();
        if report.model_ms > 0 && report.tokens_out > 0 {
            live.observe_speed(report.tokens_out as f64 * 1000.0 / report.model_ms as f64);
        }
        count(stats, &report);
        save_transcript(self.ctx, &job, &live.node.name, &report);
        self.ctx.emit(Event::TaskEnded {
            task: job.task.id.clone(),
            node: live.node.name.clone(),
            outcome: report.outcome,
            summary: report.summary.chars().take(300).collect(),
            actions: report.actions.len(),
            tokens_in: report.tokens_in,
            tokens_out: report.tokens_out,
            wall_ms: report.wall_ms,
            error_kind: report.error_kind,
        });
        job.last_node = Some(node);
        if node_failure(&report) {
            self.reroute(job, node, &report, stats);
            return;
        }
        let problems = self.problems(&job, &report);
        if problems.is_empty() {
            self.merge(job).await;
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
            self.fail(&job.task.id, reason);
            return;
        }
        self.ctx.emit(Event::Rerouted {
            task: job.task.id.clone(),
            from: name,
            reason: format!("{}; its worktree keeps what was written", report.summary),
        });
        self.pending.push(job);
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
    /// commit carries the run, stage and task).
    async fn merge(&mut self, job: Job) {
        let ctx = self.ctx;
        let message = format!("{} {}: {}", job.stage, job.task.id, job.task.title);
        let trailers = git::merge_trailers(&ctx.run_id(), &job.stage, &job.task.id);
        let merged_commit = async {
            git::commit_files(&job.worktree, &job.task.files, &message).await?;
            git::merge(&ctx.out, &job.branch, &format!("merge {message}{trailers}")).await
        }
        .await;
        match merged_commit {
            Ok(commit) => {
                ctx.emit(Event::Merged {
                    task: job.task.id.clone(),
                    commit,
                    stage: job.stage.clone(),
                });
                git::remove_worktree(&ctx.out, &job.worktree).await;
                self.merged.insert(job.task.id.clone());
            }
            Err(err) => self.fail(&job.task.id, format!("merge failed: {err}")),
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
            self.fail(&job.task.id, reason);
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
