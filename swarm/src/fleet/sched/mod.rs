//! The scheduler: which ready task starts now, and on which node. One policy, with no clock
//! of its own: the pipeline asks it on real time (`pipeline/build/dispatch.rs`, at every
//! task that ends and every node that rejoins), the simulator on virtual time
//! (`sim::schedule`). It sees estimates, never the truth — each task's work, each node's
//! speed, how long each busy slot's task should still take — and decides again at every
//! event, so nothing is bound to a node before it starts (an idle slot takes any waiting
//! task it would finish first: work stealing without a steal step).
//!
//! [`Policy::Eft`]: ready tasks in order of upward rank (the costliest chain below them, in
//! seconds at the fleet's mean speed), then how many tasks they unblock, then plan order;
//! each goes where it would finish earliest, counting the wait for a busy node's soonest
//! slot. When that is a busy faster node the task waits (its place there is held for the
//! rest of this decision) and a later task may take the free slower slot. Running work is
//! never cut: a slow node's task runs to its end.
//!
//! [`Policy::Greedy`]: what the pipeline did before, kept for comparison: any free slot
//! takes the next ready task (most unblocked first); hard tasks go to the fastest free node,
//! others to the least loaded.

mod dag;
mod eft;
mod estimate;

pub use dag::{Dag, DagError, LowerBound, TaskSpec};
pub use estimate::{Estimator, DEFAULT_SPEED};

use std::fmt;

/// How ready tasks are placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Upward rank, earliest finish time, may wait for a faster node.
    Eft,
    /// Any free slot takes the next ready task (the pipeline's policy before `sched.eft`).
    Greedy,
}

impl Policy {
    /// Its name in tables and events.
    pub fn name(self) -> &'static str {
        match self {
            Policy::Eft => "eft",
            Policy::Greedy => "greedy",
        }
    }
}

/// A node as the scheduler sees it at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    /// Estimated speed of one request alone on it, work units per second (> 0).
    pub speed: f64,
    /// Parallel slots.
    pub slots: u32,
    /// Seconds until it can take work: 0 when up, the cooldown left when down, `None`
    /// when it will not (no such role, gone).
    pub available_in: Option<f64>,
    /// For each busy slot, the seconds its task should still take (never negative).
    pub busy: Vec<f64>,
    /// How much each extra busy slot slows every stream on the node: a stream's speed with
    /// `k` busy is `speed ÷ (1 + share × (k − 1))` (0: slots are independent; 1: they split
    /// one stream's throughput).
    pub share: f64,
}

impl NodeView {
    /// Seconds one task of `work` takes on this node with `busy` slots in use besides it.
    pub fn seconds(&self, work: f64, busy: usize) -> f64 {
        work * (1.0 + self.share * busy as f64) / self.speed.max(f64::MIN_POSITIVE)
    }
}

/// A task to start now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Task index in the DAG.
    pub task: usize,
    /// Node index in the views.
    pub node: usize,
    /// Estimated seconds until it ends.
    pub finish: f64,
    /// Why there.
    pub why: Why,
}

/// Why a task went to its node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Why {
    /// The earliest finish among the nodes free now.
    EarliestFinish {
        /// Upward rank, seconds.
        rank: f64,
        /// How many tasks wait for it.
        unblocks: usize,
    },
    /// The old policy: the fastest free node for a hard task.
    FastestFree,
    /// The old policy: the least loaded free node.
    LeastLoaded,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.why {
            Why::EarliestFinish { rank, unblocks } => write!(
                f,
                "earliest finish (~{:.0} s); critical path below {:.0} s; unblocks {unblocks} task(s)",
                self.finish, rank
            ),
            Why::FastestFree => write!(f, "hard task: fastest free node"),
            Why::LeastLoaded => write!(f, "least loaded free node"),
        }
    }
}

/// Tasks held back this decision for a busy node that should finish them sooner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Waiting {
    /// Task index.
    pub task: usize,
    /// The busy node it waits for.
    pub node: usize,
    /// Seconds until that node's slot frees.
    pub start: f64,
}

/// What one decision starts, and what it holds back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decisions {
    /// Start now.
    pub start: Vec<Decision>,
    /// Ready but better off waiting.
    pub waiting: Vec<Waiting>,
}

/// The policy over one DAG: priorities are computed once.
#[derive(Debug, Clone)]
pub struct Scheduler {
    dag: Dag,
    policy: Policy,
    /// Upward rank, seconds at the mean speed.
    rank: Vec<f64>,
    /// Position of each task in priority order.
    priority: Vec<usize>,
}

/// Two times closer than this are the same moment.
pub(crate) const EPS: f64 = 1e-9;

impl Scheduler {
    /// The policy over `dag`, ranking with `mean_speed` (work units per second).
    pub fn new(dag: Dag, policy: Policy, mean_speed: f64) -> Self {
        let speed = mean_speed.max(f64::MIN_POSITIVE);
        let rank = dag.upward_ranks(|i| dag.task(i).work / speed);
        let mut order: Vec<usize> = (0..dag.len()).collect();
        match policy {
            Policy::Eft => order.sort_by(|a, b| {
                rank[*b]
                    .total_cmp(&rank[*a])
                    .then_with(|| dag.unblocks(*b).cmp(&dag.unblocks(*a)))
                    .then_with(|| a.cmp(b))
            }),
            Policy::Greedy => {
                let height = dag.upward_ranks(|_| 1.0);
                order.sort_by(|a, b| {
                    dag.unblocks(*b)
                        .cmp(&dag.unblocks(*a))
                        .then_with(|| height[*b].total_cmp(&height[*a]))
                        .then_with(|| a.cmp(b))
                })
            }
        }
        let mut priority = vec![0; dag.len()];
        for (place, task) in order.into_iter().enumerate() {
            priority[task] = place;
        }
        Scheduler {
            dag,
            policy,
            rank,
            priority,
        }
    }

    /// The same policy with ready tasks taken in plan order (`sched.priority` off).
    pub fn in_plan_order(mut self) -> Self {
        self.priority = (0..self.dag.len()).collect();
        self
    }

    /// The DAG.
    pub fn dag(&self) -> &Dag {
        &self.dag
    }

    /// The policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Upward rank of `task`, seconds at the mean speed.
    pub fn rank(&self, task: usize) -> f64 {
        self.rank[task]
    }

    /// `ready` in priority order.
    pub fn by_priority(&self, ready: &[usize]) -> Vec<usize> {
        let mut sorted = ready.to_vec();
        sorted.sort_unstable_by_key(|t| self.priority[*t]);
        sorted
    }

    /// What starts now among `ready` on `nodes`; `avoid(task)` names a node to use only when
    /// no other could take the task (the node it just failed on).
    pub fn decide(
        &self,
        ready: &[usize],
        nodes: &[NodeView],
        avoid: &dyn Fn(usize) -> Option<usize>,
    ) -> Decisions {
        let ready = self.by_priority(ready);
        match self.policy {
            Policy::Eft => eft::decide(self, &ready, nodes, avoid),
            Policy::Greedy => greedy(&self.dag, &ready, nodes, avoid),
        }
    }
}

/// The old policy: free slots only, never waiting.
fn greedy(
    dag: &Dag,
    ready: &[usize],
    nodes: &[NodeView],
    avoid: &dyn Fn(usize) -> Option<usize>,
) -> Decisions {
    let mut busy: Vec<usize> = nodes.iter().map(|n| n.busy.len()).collect();
    let mut decisions = Decisions::default();
    let usable = |n: usize, busy: &[usize]| {
        nodes[n].available_in.is_some_and(|w| w <= EPS) && busy[n] < nodes[n].slots as usize
    };
    for &task in ready {
        let free: Vec<usize> = (0..nodes.len()).filter(|n| usable(*n, &busy)).collect();
        if free.is_empty() {
            break;
        }
        let pool: Vec<usize> = match avoid(task) {
            Some(a) if free.iter().any(|n| *n != a) => {
                free.into_iter().filter(|n| *n != a).collect()
            }
            _ => free,
        };
        let load = |n: usize| busy[n] as f64 / f64::from(nodes[n].slots.max(1));
        let hard = dag.task(task).hard;
        let chosen = if hard {
            pool.iter().copied().max_by(|a, b| {
                nodes[*a]
                    .speed
                    .total_cmp(&nodes[*b].speed)
                    .then_with(|| load(*b).total_cmp(&load(*a)))
                    .then_with(|| b.cmp(a))
            })
        } else {
            pool.iter()
                .copied()
                .min_by(|a, b| load(*a).total_cmp(&load(*b)).then_with(|| a.cmp(b)))
        };
        let Some(node) = chosen else { break };
        let finish = nodes[node].seconds(dag.task(task).work, busy[node]);
        busy[node] += 1;
        decisions.start.push(Decision {
            task,
            node,
            finish,
            why: if hard {
                Why::FastestFree
            } else {
                Why::LeastLoaded
            },
        });
    }
    decisions
}

#[cfg(test)]
mod tests;
