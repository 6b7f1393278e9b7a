//! A plan's DAG as the scheduler sees it: each task's estimated work and its dependencies,
//! with what is derived from them once (successors, a topological order, how many tasks each
//! one unblocks) and the measures a schedule is judged by (critical path, lower bound).

use std::fmt;

/// One task for [`Dag::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    /// Estimated work, in work units (the simulator: tokens; the pipeline: a difficulty's
    /// nominal size). Must be positive and finite.
    pub work: f64,
    /// Indices of the tasks it waits for.
    pub deps: Vec<usize>,
    /// Marked hard by the plan (the old policy's only notion of size).
    pub hard: bool,
}

/// Why a DAG was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DagError {
    /// A dependency index past the end.
    UnknownDependency { task: usize, dep: usize },
    /// A task that waits for itself.
    SelfDependency(usize),
    /// Work that is not a positive finite number.
    BadWork(usize),
    /// A cycle through this task.
    Cycle(usize),
}

impl fmt::Display for DagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DagError::UnknownDependency { task, dep } => {
                write!(f, "task {task} depends on task {dep}, which does not exist")
            }
            DagError::SelfDependency(task) => write!(f, "task {task} depends on itself"),
            DagError::BadWork(task) => {
                write!(f, "task {task} has work that is not a positive number")
            }
            DagError::Cycle(task) => write!(f, "the dependencies form a cycle through task {task}"),
        }
    }
}

impl std::error::Error for DagError {}

/// A validated DAG.
#[derive(Debug, Clone)]
pub struct Dag {
    tasks: Vec<TaskSpec>,
    successors: Vec<Vec<usize>>,
    /// Every task after all of its dependencies.
    topo: Vec<usize>,
    /// How many tasks (transitively) wait for each one.
    unblocks: Vec<usize>,
}

impl Dag {
    /// Checks the tasks (dependencies exist, no cycle, positive work) and derives the rest.
    pub fn new(tasks: Vec<TaskSpec>) -> Result<Dag, DagError> {
        let n = tasks.len();
        let mut successors = vec![Vec::new(); n];
        let mut missing = vec![0usize; n];
        for (i, task) in tasks.iter().enumerate() {
            if !(task.work.is_finite() && task.work > 0.0) {
                return Err(DagError::BadWork(i));
            }
            for &dep in &task.deps {
                if dep >= n {
                    return Err(DagError::UnknownDependency { task: i, dep });
                }
                if dep == i {
                    return Err(DagError::SelfDependency(i));
                }
                successors[dep].push(i);
                missing[i] += 1;
            }
        }
        let mut topo: Vec<usize> = (0..n).filter(|i| missing[*i] == 0).collect();
        let mut next = 0;
        while next < topo.len() {
            let done = topo[next];
            next += 1;
            for &succ in &successors[done] {
                missing[succ] -= 1;
                if missing[succ] == 0 {
                    topo.push(succ);
                }
            }
        }
        if topo.len() < n {
            let stuck = (0..n).find(|i| missing[*i] > 0).unwrap_or(0);
            return Err(DagError::Cycle(stuck));
        }
        let unblocks = descendant_counts(n, &successors, &topo);
        Ok(Dag {
            tasks,
            successors,
            topo,
            unblocks,
        })
    }

    /// The tasks with their dependencies left out (work that is not a positive number
    /// counts as 1): what a scheduler falls back on for a plan that is not a DAG.
    pub fn independent(tasks: Vec<TaskSpec>) -> Dag {
        let n = tasks.len();
        let tasks: Vec<TaskSpec> = tasks
            .into_iter()
            .map(|t| TaskSpec {
                work: if t.work.is_finite() && t.work > 0.0 {
                    t.work
                } else {
                    1.0
                },
                deps: Vec::new(),
                hard: t.hard,
            })
            .collect();
        Dag {
            tasks,
            successors: vec![Vec::new(); n],
            topo: (0..n).collect(),
            unblocks: vec![0; n],
        }
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether it has no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Task `i`.
    pub fn task(&self, i: usize) -> &TaskSpec {
        &self.tasks[i]
    }

    /// Tasks waiting directly for `i`.
    pub fn successors(&self, i: usize) -> &[usize] {
        &self.successors[i]
    }

    /// Every task after its dependencies.
    pub fn topological(&self) -> &[usize] {
        &self.topo
    }

    /// How many tasks wait for `i`, directly or not.
    pub fn unblocks(&self, i: usize) -> usize {
        self.unblocks[i]
    }

    /// Upward rank of every task: its cost plus the costliest chain of successors below it
    /// (HEFT's rank_u, without communication costs: workers share one repository).
    pub fn upward_ranks(&self, cost: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut rank = vec![0.0; self.len()];
        for &i in self.topo.iter().rev() {
            let below = self.successors[i]
                .iter()
                .map(|s| rank[*s])
                .fold(0.0, f64::max);
            rank[i] = cost(i) + below;
        }
        rank
    }

    /// The costliest chain of the DAG under `cost`.
    pub fn critical_path(&self, cost: impl Fn(usize) -> f64) -> f64 {
        self.upward_ranks(cost).into_iter().fold(0.0, f64::max)
    }

    /// Tasks with no dependency left once `done` are done, among those not `done`.
    pub fn ready_after(&self, done: &[bool]) -> Vec<usize> {
        (0..self.len())
            .filter(|i| !done[*i] && self.tasks[*i].deps.iter().all(|d| done[*d]))
            .collect()
    }
}

/// Descendants per task, as bit sets merged in reverse topological order.
fn descendant_counts(n: usize, successors: &[Vec<usize>], topo: &[usize]) -> Vec<usize> {
    let words = n.div_ceil(64);
    let mut below = vec![vec![0u64; words]; n];
    for &i in topo.iter().rev() {
        let mut set = vec![0u64; words];
        for &s in &successors[i] {
            set[s / 64] |= 1 << (s % 64);
            for (word, other) in set.iter_mut().zip(&below[s]) {
                *word |= other;
            }
        }
        below[i] = set;
    }
    below
        .iter()
        .map(|set| set.iter().map(|w| w.count_ones() as usize).sum())
        .collect()
}

/// The two lower bounds on a makespan, seconds: no schedule beats either.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowerBound {
    /// The critical path with every task on the fastest node, alone there.
    pub critical_path: f64,
    /// All the work spread perfectly over the fleet's whole throughput.
    pub work_over_capacity: f64,
}

impl LowerBound {
    /// `critical_path(dag, seconds on the fastest node)` and `total ÷ capacity`.
    pub fn new(dag: &Dag, fastest_seconds: impl Fn(usize) -> f64, capacity: f64) -> Self {
        let total: f64 = (0..dag.len()).map(&fastest_seconds).sum::<f64>();
        let fastest_share = if capacity > 0.0 {
            total / capacity
        } else {
            0.0
        };
        LowerBound {
            critical_path: dag.critical_path(fastest_seconds),
            work_over_capacity: fastest_share,
        }
    }

    /// The larger of the two.
    pub fn value(&self) -> f64 {
        self.critical_path.max(self.work_over_capacity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(work: f64, deps: &[usize]) -> TaskSpec {
        TaskSpec {
            work,
            deps: deps.to_vec(),
            hard: false,
        }
    }

    #[test]
    fn a_diamond_has_its_ranks_unblocks_and_bound() {
        // 0 -> {1, 2} -> 3
        let dag = Dag::new(vec![
            task(1.0, &[]),
            task(5.0, &[0]),
            task(2.0, &[0]),
            task(1.0, &[1, 2]),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dag.topological()[0], 0);
        assert_eq!(dag.topological()[3], 3);
        assert_eq!(
            (0..4).map(|i| dag.unblocks(i)).collect::<Vec<_>>(),
            [3, 1, 1, 0]
        );
        let ranks = dag.upward_ranks(|i| dag.task(i).work);
        assert_eq!(ranks, vec![7.0, 6.0, 3.0, 1.0]);
        // Two nodes of speed 1: work 9 over capacity 2 is 4.5; the path 0-1-3 is 7.
        let bound = LowerBound::new(&dag, |i| dag.task(i).work, 2.0);
        assert_eq!((bound.critical_path, bound.work_over_capacity), (7.0, 4.5));
        assert_eq!(bound.value(), 7.0);
        assert_eq!(dag.ready_after(&[true, false, true, false]), vec![1]);
    }

    #[test]
    fn broken_dags_are_refused_with_the_task_named() {
        let cycle = Dag::new(vec![task(1.0, &[1]), task(1.0, &[0])]);
        assert!(matches!(cycle, Err(DagError::Cycle(_))));
        assert_eq!(
            Dag::new(vec![task(1.0, &[3])]).err(),
            Some(DagError::UnknownDependency { task: 0, dep: 3 })
        );
        assert_eq!(
            Dag::new(vec![task(1.0, &[0])]).err(),
            Some(DagError::SelfDependency(0))
        );
        assert_eq!(
            Dag::new(vec![task(f64::NAN, &[])]).err(),
            Some(DagError::BadWork(0))
        );
        let message = DagError::Cycle(4).to_string();
        assert!(
            message.contains("cycle") && message.contains('4'),
            "{message}"
        );
    }

    #[test]
    fn unblocks_counts_each_descendant_once_past_a_word_of_bits() {
        // A chain of 130 tasks: the first unblocks 129, shared paths counted once.
        let mut tasks: Vec<TaskSpec> = (0..130).map(|_| task(1.0, &[])).collect();
        for (i, t) in tasks.iter_mut().enumerate().skip(1) {
            t.deps = vec![i - 1];
        }
        tasks.push(task(1.0, &[0, 129]));
        let dag = Dag::new(tasks).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dag.unblocks(0), 130);
        assert_eq!(dag.unblocks(129), 1);
        assert_eq!(dag.critical_path(|_| 1.0), 131.0);
    }
}
