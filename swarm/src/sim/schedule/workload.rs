//! Generated plans for the scheduling simulator: DAG shapes that real plans have, each task
//! with a difficulty (what the scheduler is told) and its true conversation (what the
//! simulator runs): a task prompt, then requests whose replies and tool outputs grow the
//! conversation.

use crate::fleet::sched::{Dag, DagError, TaskSpec};
use crate::rng::SplitMix64;
use std::fmt;

/// A DAG shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One foundation, everything else on it, one task joining them all.
    Wide,
    /// Four long chains side by side.
    Deep,
    /// Diamonds in a row: one task, a fan of eight, one join, again.
    Diamond,
    /// Random layers of random width, each task on one to three of the layer above.
    Layered,
    /// What plans look like: models first, services on them, commands on those, tests last.
    Plan,
}

impl Shape {
    /// Every shape.
    pub const ALL: [Shape; 5] = [
        Shape::Wide,
        Shape::Deep,
        Shape::Diamond,
        Shape::Layered,
        Shape::Plan,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Wide => "wide",
            Shape::Deep => "deep",
            Shape::Diamond => "diamond",
            Shape::Layered => "layered",
            Shape::Plan => "plan",
        }
    }

    /// The shape named `name`.
    pub fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Work units the scheduler is told per difficulty (easy, medium, hard).
pub const DIFFICULTY_UNITS: [f64; 3] = [1.0, 2.0, 4.0];

/// Tokens a worker generates per work unit, on average.
pub const TOKENS_PER_UNIT: f64 = 1200.0;

/// One task's true conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// Tokens of the task's own prompt (after the shared prefix).
    pub task_prompt: u32,
    /// Reply tokens of each request.
    pub replies: Vec<u32>,
    /// Tool output tokens after each request but the last.
    pub tool_outputs: Vec<u32>,
}

impl Conversation {
    /// Tokens generated in all.
    pub fn generated(&self) -> u64 {
        self.replies.iter().map(|r| u64::from(*r)).sum()
    }
}

/// A generated plan: the DAG the scheduler sees and each task's truth.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Shape it was drawn from.
    pub shape: Shape,
    /// Tasks with their estimated work.
    pub dag: Dag,
    /// Each task's true conversation.
    pub truth: Vec<Conversation>,
    /// Tokens of the stable prefix every worker prompt of a plan starts with (system prompt,
    /// spec, contracts).
    pub prefix_tokens: u32,
    /// The plan each task belongs to (several plans run at once share the fleet, each with
    /// its own prefix); all 0 for one plan.
    pub plan_of: Vec<u32>,
}

/// Several plans run at once on one fleet (`--concurrency`): one DAG of their tasks, side by
/// side, each task keeping its plan (and so its plan's prefix).
pub fn together(plans: &[Workload]) -> Result<Workload, DagError> {
    let mut specs = Vec::new();
    let mut truth = Vec::new();
    let mut plan_of = Vec::new();
    for (k, plan) in plans.iter().enumerate() {
        let offset = specs.len();
        for t in 0..plan.dag.len() {
            let spec = plan.dag.task(t);
            specs.push(TaskSpec {
                work: spec.work,
                deps: spec.deps.iter().map(|d| d + offset).collect(),
                hard: spec.hard,
            });
            plan_of.push(k as u32);
        }
        truth.extend(plan.truth.iter().cloned());
    }
    Ok(Workload {
        shape: plans.first().map_or(Shape::Plan, |p| p.shape),
        dag: Dag::new(specs)?,
        truth,
        prefix_tokens: plans.first().map_or(0, |p| p.prefix_tokens),
        plan_of,
    })
}

/// Dependencies per task for `shape` with `n` tasks (always acyclic: only earlier tasks).
fn edges(shape: Shape, n: usize, rng: &mut SplitMix64) -> Vec<Vec<usize>> {
    let mut deps = vec![Vec::new(); n];
    match shape {
        Shape::Wide => {
            for d in deps.iter_mut().skip(1).take(n.saturating_sub(2)) {
                d.push(0);
            }
            if n > 2 {
                deps[n - 1] = (1..n - 1).collect();
            }
        }
        Shape::Deep => {
            let chains = 4.min(n.max(1));
            for (i, d) in deps.iter_mut().enumerate().skip(chains) {
                d.push(i - chains);
            }
        }
        Shape::Diamond => {
            // Blocks of 1 + 8 + join, chained: the join of one block is the next's head.
            let mut head = 0;
            let mut i = 1;
            while i < n {
                let fan = 8.min(n - i);
                let members: Vec<usize> = (i..i + fan).collect();
                for m in &members {
                    deps[*m].push(head);
                }
                i += fan;
                if i < n {
                    deps[i] = members;
                    head = i;
                    i += 1;
                }
            }
        }
        Shape::Layered | Shape::Plan => {
            let layers = layer_sizes(shape, n, rng);
            let mut previous: Vec<usize> = Vec::new();
            let mut next = 0;
            for size in layers {
                let members: Vec<usize> = (next..next + size).collect();
                next += size;
                for m in &members {
                    if previous.is_empty() {
                        continue;
                    }
                    let wanted = 1 + rng.below(3) as usize;
                    let mut pool = previous.clone();
                    rng.shuffle(&mut pool);
                    pool.truncate(wanted.min(previous.len()));
                    pool.sort_unstable();
                    deps[*m] = pool;
                }
                previous = members;
            }
        }
    }
    deps
}

/// Layer widths: random for `Layered`; a plan's rhythm (few models, many services and
/// commands, a few test tasks at the end) for `Plan`.
fn layer_sizes(shape: Shape, n: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut left = n;
    if shape == Shape::Plan {
        let fractions = [0.08, 0.22, 0.32, 0.24, 0.14];
        for (k, f) in fractions.iter().enumerate() {
            let size = if k + 1 == fractions.len() {
                left
            } else {
                ((n as f64 * f).round() as usize).clamp(1, left.saturating_sub(1).max(1))
            };
            let size = size.min(left);
            if size > 0 {
                sizes.push(size);
                left -= size;
            }
        }
        return sizes;
    }
    let typical = ((n as f64).sqrt() as u64).max(2);
    while left > 0 {
        let size = (1 + rng.below(2 * typical) as usize).min(left);
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// A plan of `n` tasks of `shape`, drawn with `seed`.
pub fn generate(shape: Shape, n: usize, seed: u64) -> Result<Workload, DagError> {
    let mut rng = SplitMix64::new(seed ^ (shape as u64).wrapping_mul(0x1000_0001));
    let deps = edges(shape, n, &mut rng);
    let mut specs = Vec::with_capacity(n);
    let mut truth = Vec::with_capacity(n);
    for d in deps {
        let class = match rng.below(10) {
            0..=2 => 0,
            3..=7 => 1,
            _ => 2,
        };
        let units = DIFFICULTY_UNITS[class];
        // The truth strays from the class: between 0.6× and 1.6× its tokens.
        let tokens = units * TOKENS_PER_UNIT * rng.between(0.6, 1.6);
        let requests = ((tokens / 350.0).ceil() as usize).max(1);
        let per = (tokens / requests as f64).round() as u32;
        truth.push(Conversation {
            task_prompt: 300 + rng.below(500) as u32,
            replies: vec![per.max(1); requests],
            tool_outputs: (1..requests).map(|_| 80 + rng.below(400) as u32).collect(),
        });
        specs.push(TaskSpec {
            work: units,
            deps: d,
            hard: class == 2,
        });
    }
    Ok(Workload {
        shape,
        dag: Dag::new(specs)?,
        plan_of: vec![0; truth.len()],
        truth,
        prefix_tokens: 3900,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_at_every_size_is_a_valid_dag_drawn_the_same_for_a_seed() {
        for shape in Shape::ALL {
            for n in [1, 2, 3, 20, 200] {
                let w = generate(shape, n, 7).unwrap_or_else(|e| panic!("{shape} {n}: {e}"));
                assert_eq!(w.dag.len(), n);
                assert_eq!(w.truth.len(), n);
                let again = generate(shape, n, 7).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(again.truth, w.truth, "{shape} {n}");
                for c in &w.truth {
                    assert_eq!(c.tool_outputs.len() + 1, c.replies.len());
                }
            }
            assert_eq!(Shape::parse(shape.name()), Some(shape));
        }
    }

    #[test]
    fn plans_run_together_side_by_side() {
        let a = generate(Shape::Plan, 16, 1).unwrap_or_else(|e| panic!("{e}"));
        let b = generate(Shape::Plan, 16, 2).unwrap_or_else(|e| panic!("{e}"));
        let both = together(&[a.clone(), b.clone()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(both.dag.len(), 32);
        assert_eq!(&both.plan_of[..16], &[0; 16]);
        assert_eq!(&both.plan_of[16..], &[1; 16]);
        // The second plan's dependencies point into its own tasks.
        for t in 16..32 {
            assert!(both.dag.task(t).deps.iter().all(|d| *d >= 16));
        }
        let unit = |_| 1.0;
        assert_eq!(
            both.dag.critical_path(unit),
            a.dag.critical_path(unit).max(b.dag.critical_path(unit))
        );
    }

    #[test]
    fn shapes_have_their_character() {
        let width = |w: &Workload| {
            let cp = w.dag.critical_path(|_| 1.0);
            w.dag.len() as f64 / cp
        };
        let wide = generate(Shape::Wide, 200, 1).unwrap_or_else(|e| panic!("{e}"));
        let deep = generate(Shape::Deep, 200, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(wide.dag.critical_path(|_| 1.0), 3.0);
        assert_eq!(deep.dag.critical_path(|_| 1.0), 50.0);
        assert!(width(&wide) > 60.0 && width(&deep) < 5.0);
        let plan = generate(Shape::Plan, 20, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.dag.critical_path(|_| 1.0), 5.0);
    }
}
