//! The plan and the fleet as the scheduler sees them: each task's work in units (from its
//! difficulty), and each node's speed as the run has measured it, its slots, when it is
//! available again and how long each job on it should still take.

use super::Queue;
use crate::fleet::sched::{Dag, NodeView, Policy, Scheduler, TaskSpec};
use crate::pipeline::context::Ctx;
use crate::plan::{Difficulty, PlanTask};
use std::collections::BTreeMap;
use std::time::Instant;

/// Work units the scheduler is told per difficulty.
pub(crate) fn work_units(difficulty: Difficulty) -> f64 {
    match difficulty {
        Difficulty::Easy => 1.0,
        Difficulty::Medium => 2.0,
        Difficulty::Hard => 4.0,
    }
}

/// How much each extra busy slot slows the streams of a node, as the scheduler assumes it
/// (llama-server on a GPU: two streams at about 1.6× one stream's throughput).
const ASSUMED_SHARE: f64 = 0.25;

/// The plan as the scheduler sees it (without dependencies for FIX, whose jobs are
/// independent).
pub(super) fn scheduler_for(ctx: &Ctx, tasks: &[PlanTask], use_deps: bool) -> Scheduler {
    let index: BTreeMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let specs: Vec<TaskSpec> = tasks
        .iter()
        .map(|t| TaskSpec {
            work: work_units(t.difficulty),
            deps: if use_deps {
                t.depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            } else {
                Vec::new()
            },
            hard: t.difficulty == Difficulty::Hard
                && ctx.knobs.get(crate::knobs::SCHED_FASTEST_FOR_HARD),
        })
        .collect();
    let policy = if ctx.knobs.get(crate::knobs::SCHED_EFT) {
        Policy::Eft
    } else {
        Policy::Greedy
    };
    let mean = ctx.estimator.lock().map(|e| e.mean_speed()).unwrap_or(1.0);
    // A plan is validated acyclic before BUILD; should it not be, the queue still gates
    // on merged dependencies and the scheduler ranks as if there were none.
    let dag = Dag::new(specs.clone()).unwrap_or_else(|_| Dag::independent(specs));
    let scheduler = Scheduler::new(dag, policy, mean);
    if ctx.knobs.get(crate::knobs::SCHED_PRIORITY) {
        scheduler
    } else {
        scheduler.in_plan_order()
    }
}

impl Queue<'_> {
    /// The fleet as the scheduler sees it now.
    pub(super) fn views(&self) -> Vec<NodeView> {
        let estimator = self.ctx.estimator.lock().ok();
        let now = Instant::now();
        self.ctx
            .nodes
            .iter()
            .enumerate()
            .map(|(i, live)| {
                let speed = estimator.as_ref().map_or(1.0, |e| e.speed(i));
                let busy = self
                    .on_fleet
                    .iter()
                    .filter(|r| r.node == i)
                    .map(|r| {
                        let work = self.scheduler.dag().task(r.task).work;
                        let elapsed = now.duration_since(r.since).as_secs_f64();
                        estimator
                            .as_ref()
                            .map_or(0.0, |e| e.remaining(i, work, elapsed))
                    })
                    .collect();
                let available_in = if !self.workers.contains(&i) {
                    None
                } else {
                    Some(live.rejoins_in().map_or(0.0, |d| d.as_secs_f64()))
                };
                NodeView {
                    speed,
                    slots: live.slots,
                    available_in,
                    busy,
                    share: ASSUMED_SHARE,
                }
            })
            .collect()
    }
}
