//! The dispatch loop's side of the early looks ([`crate::pipeline::build::prereview`]): when
//! one is taken (a merge landed, worker slots sit idle, nothing ready waits), what is done
//! with what it found (an early fix per merged task with a failing finding of its own,
//! waiting for an idle slot), and an early fix that comes to nothing (the task stays as it
//! was merged).

use super::super::job;
use super::super::prereview::{self, is_early, Looked, EARLY};
use super::{Job, Queue};
use crate::pipeline::{Event, RunStats};

impl Queue<'_> {
    /// A job that will not run again: its task fails, unless the job was an early fix (the
    /// task stays as it was merged, for VERIFY to judge).
    pub(super) fn give_up(&mut self, job: &Job, reason: String) {
        if is_early(&job.stage) {
            self.ctx.emit(Event::EarlyFixDropped {
                task: job.task.id.clone(),
                reason,
            });
        } else {
            self.fail(&job.task.id, reason);
        }
    }

    /// Worker slots free now (of nodes that are up).
    pub(super) fn free_slots(&self) -> usize {
        self.workers
            .iter()
            .map(|i| &self.ctx.nodes[*i])
            .filter(|live| !live.down())
            .map(|live| (live.slots as usize).saturating_sub(live.taken_slots().len()))
            .sum()
    }

    /// After a merge, with worker slots left idle and no early look under way: takes one.
    pub(super) fn look_if_idle(&mut self, stats: &mut RunStats) {
        if !self.prereview || !self.look_due || !self.looking.is_empty() {
            return;
        }
        if self.free_slots() == 0 || !self.ready().is_empty() {
            return;
        }
        self.look_due = false;
        stats.early_reviews += 1;
        let ctx = self.ctx;
        let merged = self.in_main.union(&self.merged).cloned().collect();
        self.looking.spawn(prereview::look(
            ctx.out.clone(),
            ctx.spec.clone(),
            crate::pipeline::verify_fix::verify_options(ctx, self.shared),
            ctx.sandbox,
            self.git_lock.clone(),
            merged,
        ));
    }

    /// An early look came back: the merged tasks with a failing finding of their own get an
    /// early fix, which waits for an idle slot.
    pub(super) fn looked(&mut self, looked: Looked, stats: &mut RunStats) {
        let failing = looked
            .findings
            .iter()
            .filter(|f| f.severity == crate::verify::Severity::Fail)
            .count();
        let in_main = |task: &str| looked.in_main.contains(task);
        let busy = |task: &str| {
            self.early_fixed.contains(task)
                || self.merging_tasks.contains(task)
                || self.failed.contains(task)
                || self
                    .pending
                    .iter()
                    .chain(&self.early)
                    .any(|j| j.task.id == task)
                || self.on_fleet.iter().any(|r| {
                    self.shared
                        .plan
                        .tasks
                        .get(r.task)
                        .is_some_and(|t| t.id == task)
                })
        };
        let fixes = prereview::early_fixes(&self.shared.plan, &looked.findings, &in_main, &busy);
        self.ctx.emit(Event::PreReview {
            stage: self.stage.clone(),
            merged: looked.in_main.len(),
            failing,
            fixes: fixes.keys().cloned().collect(),
            acted_on: fixes
                .iter()
                .flat_map(|(task, findings)| {
                    findings.iter().map(move |f| {
                        let line = f.line.map(|l| format!(":{l}")).unwrap_or_default();
                        format!("{} {}{line} ({task})", f.kind, f.file)
                    })
                })
                .collect(),
            ms: looked.ms,
            error: looked.error,
        });
        let stage = format!("{EARLY}{}", self.stage);
        for (id, findings) in fixes {
            let Some(task) = self.shared.plan.tasks.iter().find(|t| t.id == id) else {
                continue;
            };
            stats.early_fixes += 1;
            self.early_fixed.insert(id);
            self.early.push(job(self.ctx, task, &stage, findings));
        }
    }
}
