//! The best schedule there is, for a small plan on nodes of one slot each: depth-first search
//! over every schedule, each task at its solo seconds on the node it runs on (warm cache,
//! alone: no schedule in the simulation does better, so the optimum is itself a lower bound
//! on any makespan there, and the tightest one this model allows).
//!
//! Schedules are built task by task in order of start time (ties by task index), each task
//! started as early as its node and its dependencies allow: every schedule with no needless
//! wait is built this way exactly once, and one of them is optimal. A branch is cut when even
//! its best completion cannot beat the best schedule found: the longest chain still to run
//! (every task at its fastest, none starting before the last start), and the work left spread
//! over the nodes from when each is free, at the best speed each has relative to the fastest.

use super::fleet::{Calibration, NodeModel};
use super::heft::solo_seconds;
use super::workload::Workload;

/// The largest plan searched.
pub const MAX_TASKS: usize = 24;

/// What the search found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Optimum {
    /// The best makespan found, seconds.
    pub makespan: f64,
    /// Whether the search finished (the makespan is the optimum) or ran out of its budget
    /// (the makespan is the best found, and the optimum lies between `floor` and it).
    pub proven: bool,
    /// What no schedule beats, seconds: the optimum when proven, else the search's bound at
    /// its root.
    pub floor: f64,
    /// Branches explored.
    pub explored: u64,
}

struct Search<'a> {
    seconds: Vec<Vec<f64>>,
    fastest: Vec<f64>,
    /// The costliest chain from each task to the end, the task included, at fastest.
    tail: Vec<f64>,
    /// Per node, its best speed relative to the fastest node (fastest seconds ÷ its seconds).
    relative: Vec<f64>,
    deps: Vec<Vec<usize>>,
    topo: &'a [usize],
    best: f64,
    explored: u64,
    budget: u64,
    out_of_budget: bool,
}

/// The optimum of `work` on `fleet` (None where the search does not apply: a node of more
/// than one slot, a fault, or more than [`MAX_TASKS`] tasks). `budget` caps the branches.
pub fn optimum(
    work: &Workload,
    fleet: &[NodeModel],
    cal: &Calibration,
    budget: u64,
) -> Option<Optimum> {
    let n = work.dag.len();
    if n == 0
        || n > MAX_TASKS
        || fleet.is_empty()
        || fleet.iter().any(|m| m.slots != 1 || m.fault.is_some())
    {
        return None;
    }
    let seconds: Vec<Vec<f64>> = (0..n)
        .map(|t| {
            fleet
                .iter()
                .map(|m| solo_seconds(work, t, m, cal))
                .collect()
        })
        .collect();
    let fastest: Vec<f64> = seconds
        .iter()
        .map(|row| row.iter().copied().fold(f64::INFINITY, f64::min))
        .collect();
    let tail = work.dag.upward_ranks(|t| fastest[t]);
    let relative = (0..fleet.len())
        .map(|m| {
            (0..n)
                .map(|t| fastest[t] / seconds[t][m])
                .fold(0.0, f64::max)
        })
        .collect();
    let deps = (0..n).map(|t| work.dag.task(t).deps.clone()).collect();
    let mut search = Search {
        seconds,
        fastest,
        tail,
        relative,
        deps,
        topo: work.dag.topological(),
        best: f64::INFINITY,
        explored: 0,
        budget,
        out_of_budget: false,
    };
    let mut state = State {
        placed: vec![false; n],
        finish: vec![0.0; n],
        free: vec![0.0; fleet.len()],
        last: None,
    };
    search.best = search.earliest_finish_first(&mut state.clone());
    let floor = search.floor(&state);
    search.descend(&mut state, 0);
    Some(Optimum {
        makespan: search.best,
        proven: !search.out_of_budget,
        floor: if search.out_of_budget {
            floor
        } else {
            search.best
        },
        explored: search.explored,
    })
}

#[derive(Clone)]
struct State {
    placed: Vec<bool>,
    finish: Vec<f64>,
    free: Vec<f64>,
    /// Start and task of the last placement (none yet: None).
    last: Option<(f64, usize)>,
}

impl Search<'_> {
    fn ready_at(&self, state: &State, t: usize) -> Option<f64> {
        let mut at: f64 = 0.0;
        for &d in &self.deps[t] {
            if !state.placed[d] {
                return None;
            }
            at = at.max(state.finish[d]);
        }
        Some(at)
    }

    /// A first schedule to beat: each step, the placement that finishes earliest.
    fn earliest_finish_first(&self, state: &mut State) -> f64 {
        let n = self.fastest.len();
        for _ in 0..n {
            let mut choice: Option<(f64, usize, usize, f64)> = None;
            for t in (0..n).filter(|t| !state.placed[*t]) {
                let Some(ready) = self.ready_at(state, t) else {
                    continue;
                };
                for (m, free) in state.free.iter().enumerate() {
                    let start = ready.max(*free);
                    let end = start + self.seconds[t][m];
                    if choice.is_none_or(|c| end < c.0) {
                        choice = Some((end, t, m, start));
                    }
                }
            }
            let Some((end, t, m, _)) = choice else {
                break;
            };
            state.placed[t] = true;
            state.finish[t] = end;
            state.free[m] = end;
        }
        state.finish.iter().copied().fold(0.0, f64::max)
    }

    /// What no completion of `state` beats.
    fn floor(&self, state: &State) -> f64 {
        let n = self.fastest.len();
        let after = state.last.map_or(0.0, |(start, _)| start);
        let mut done = state.finish.iter().copied().fold(0.0, f64::max);
        // The longest chain still to run, none of it starting before `after`.
        let mut earliest = vec![0.0; n];
        for &t in self.topo {
            if state.placed[t] {
                continue;
            }
            let mut start: f64 = after;
            for &d in &self.deps[t] {
                let end = if state.placed[d] {
                    state.finish[d]
                } else {
                    earliest[d] + self.fastest[d]
                };
                start = start.max(end);
            }
            earliest[t] = start;
            done = done.max(start + self.tail[t]);
        }
        // The work left, spread over the nodes from when each is free.
        let left: f64 = (0..n)
            .filter(|t| !state.placed[*t])
            .map(|t| self.fastest[t])
            .sum();
        if left > 0.0 {
            let free: Vec<(f64, f64)> = state
                .free
                .iter()
                .map(|f| f.max(after))
                .zip(self.relative.iter().copied())
                .collect();
            let mut end = done;
            for _ in 0..64 {
                let (rate, held): (f64, f64) = free
                    .iter()
                    .filter(|(f, _)| *f < end)
                    .fold((0.0, 0.0), |(r, h), (f, s)| (r + s, h + f * s));
                if rate <= 0.0 {
                    break;
                }
                let next = (left + held) / rate;
                if (next - end).abs() < 1e-9 {
                    end = next;
                    break;
                }
                end = next;
            }
            done = done.max(end);
        }
        done
    }

    fn descend(&mut self, state: &mut State, depth: usize) {
        if self.out_of_budget {
            return;
        }
        self.explored += 1;
        if self.explored > self.budget {
            self.out_of_budget = true;
            return;
        }
        let n = self.fastest.len();
        if depth == n {
            let makespan = state.finish.iter().copied().fold(0.0, f64::max);
            if makespan < self.best {
                self.best = makespan;
            }
            return;
        }
        if self.floor(state) >= self.best - 1e-9 {
            return;
        }
        // Every placement after the last one in (start, task) order, earliest end first;
        // nodes alike (same seconds for the task, free at the same time) tried once.
        let mut moves: Vec<(f64, usize, usize, f64)> = Vec::new();
        for t in (0..n).filter(|t| !state.placed[*t]) {
            let Some(ready) = self.ready_at(state, t) else {
                continue;
            };
            let mut tried: Vec<(f64, f64)> = Vec::new();
            for m in 0..state.free.len() {
                let start = ready.max(state.free[m]);
                let after_last = state.last.is_none_or(|(last, task)| {
                    start > last + 1e-12 || ((start - last).abs() <= 1e-12 && t > task)
                });
                let key = (self.seconds[t][m], state.free[m]);
                if !after_last || tried.contains(&key) {
                    continue;
                }
                tried.push(key);
                moves.push((start + self.seconds[t][m], t, m, start));
            }
        }
        moves.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (end, t, m, start) in moves {
            let saved = (state.free[m], state.last);
            state.placed[t] = true;
            state.finish[t] = end;
            state.free[m] = end;
            state.last = Some((start, t));
            self.descend(state, depth + 1);
            state.placed[t] = false;
            state.finish[t] = 0.0;
            state.free[m] = saved.0;
            state.last = saved.1;
            if self.out_of_budget {
                return;
            }
        }
    }
}
