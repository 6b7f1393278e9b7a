//! The earliest-finish-time decision. Ready tasks are taken in priority order; each goes to
//! the node where it would end first, counting the wait for that node's soonest slot. A
//! free slot starts the task now; a busy node's slot is held for it until its estimated end
//! (the task waits), so later tasks see that node as busier. The decision stops when no slot
//! is free now.
//!
//! Finding the best node is the hot path (256 nodes × 2,000 ready tasks in the benchmark):
//! tasks of equal work share a heap of the nodes by finish time, updated lazily when a
//! node's slots change; with many distinct work sizes, a scan from the fastest node down
//! that stops when no slower node can win.

use super::{Decision, Decisions, NodeView, Scheduler, Why, EPS};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// More distinct work sizes than this: scan instead of keeping a heap per size.
const MAX_HEAPS: usize = 8;

/// A node's finish time for one work size, as a heap entry (smallest first).
#[derive(Debug, Clone, Copy)]
struct Entry {
    finish: f64,
    start: f64,
    speed: f64,
    node: usize,
    version: u64,
}

impl Entry {
    /// Earlier finish, then earlier start, then faster, then lower index.
    fn rank(&self, other: &Self) -> Ordering {
        self.finish
            .total_cmp(&other.finish)
            .then_with(|| self.start.total_cmp(&other.start))
            .then_with(|| other.speed.total_cmp(&self.speed))
            .then_with(|| self.node.cmp(&other.node))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.rank(self)
    }
}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The fleet's slots during one decision.
struct Slots<'a> {
    nodes: &'a [NodeView],
    /// When each slot of each node frees, from now.
    times: Vec<Vec<f64>>,
    in_use: Vec<usize>,
    soonest: Vec<f64>,
    version: Vec<u64>,
    /// Nodes that can take work, fastest first.
    by_speed: Vec<usize>,
    heaps: Vec<(f64, BinaryHeap<Entry>)>,
}

impl<'a> Slots<'a> {
    fn new(nodes: &'a [NodeView]) -> Self {
        let times: Vec<Vec<f64>> = nodes
            .iter()
            .map(|node| match node.available_in {
                None => Vec::new(),
                Some(wait) => {
                    let free = (node.slots as usize).saturating_sub(node.busy.len());
                    let mut times: Vec<f64> = node.busy.iter().map(|b| b.max(wait)).collect();
                    times.extend(std::iter::repeat_n(wait.max(0.0), free));
                    times
                }
            })
            .collect();
        let soonest: Vec<f64> = times.iter().map(|t| earliest(t)).collect();
        let mut by_speed: Vec<usize> = (0..nodes.len())
            .filter(|n| soonest[*n].is_finite() && nodes[*n].speed > 0.0)
            .collect();
        by_speed.sort_by(|a, b| nodes[*b].speed.total_cmp(&nodes[*a].speed).then(a.cmp(b)));
        Slots {
            nodes,
            in_use: nodes.iter().map(|n| n.busy.len()).collect(),
            version: vec![0; nodes.len()],
            times,
            soonest,
            by_speed,
            heaps: Vec::new(),
        }
    }

    fn free_now(&self) -> usize {
        self.times
            .iter()
            .map(|t| t.iter().filter(|x| **x <= EPS).count())
            .sum()
    }

    fn entry(&self, n: usize, work: f64) -> Entry {
        let start = self.soonest[n];
        let busy_then = if start <= EPS {
            self.in_use[n]
        } else {
            self.in_use[n].saturating_sub(1)
        };
        Entry {
            finish: start + self.nodes[n].seconds(work, busy_then),
            start,
            speed: self.nodes[n].speed,
            node: n,
            version: self.version[n],
        }
    }

    /// The best node for `work`, avoiding `avoided` unless it is the only one.
    fn best(&mut self, work: f64, avoided: Option<usize>) -> Option<Entry> {
        let heap = match self.heaps.iter().position(|(w, _)| *w == work) {
            Some(h) => Some(h),
            None if self.heaps.len() < MAX_HEAPS => {
                let heap: BinaryHeap<Entry> =
                    self.by_speed.iter().map(|n| self.entry(*n, work)).collect();
                self.heaps.push((work, heap));
                Some(self.heaps.len() - 1)
            }
            None => None,
        };
        match heap {
            Some(h) => self.best_in_heap(h, avoided),
            None => self.best_by_scan(work, avoided),
        }
    }

    fn best_in_heap(&mut self, h: usize, avoided: Option<usize>) -> Option<Entry> {
        let version = &self.version;
        let heap = &mut self.heaps[h].1;
        let mut set_aside = None;
        let found = loop {
            // Only the avoided node is left: it is the only one.
            let Some(top) = heap.pop() else {
                break set_aside.take();
            };
            if top.version != version[top.node] {
                continue;
            }
            if Some(top.node) == avoided && set_aside.is_none() {
                set_aside = Some(top);
                continue;
            }
            break Some(top);
        };
        if let Some(entry) = found {
            heap.push(entry);
        }
        if let Some(entry) = set_aside {
            heap.push(entry);
        }
        found
    }

    fn best_by_scan(&self, work: f64, avoided: Option<usize>) -> Option<Entry> {
        let mut fallback = None;
        let mut best: Option<Entry> = None;
        for &n in &self.by_speed {
            if best.is_some_and(|b| work / self.nodes[n].speed > b.finish + EPS) {
                break;
            }
            let entry = self.entry(n, work);
            if Some(n) == avoided {
                fallback = Some(entry);
                continue;
            }
            if best.is_none_or(|b| entry.rank(&b) == Ordering::Less) {
                best = Some(entry);
            }
        }
        best.or(fallback)
    }

    /// Holds node `n`'s soonest slot until `finish`.
    fn take(&mut self, n: usize, start: f64, finish: f64) {
        if let Some(slot) = self.times[n]
            .iter_mut()
            .find(|t| (**t - start).abs() <= EPS)
        {
            *slot = finish;
        }
        self.soonest[n] = earliest(&self.times[n]);
        if start <= EPS {
            self.in_use[n] += 1;
        }
        self.version[n] += 1;
        for h in 0..self.heaps.len() {
            let entry = self.entry(n, self.heaps[h].0);
            self.heaps[h].1.push(entry);
        }
    }
}

fn earliest(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The decision: see the module docs.
pub(super) fn decide(
    scheduler: &Scheduler,
    ready: &[usize],
    nodes: &[NodeView],
    avoid: &dyn Fn(usize) -> Option<usize>,
) -> Decisions {
    let mut slots = Slots::new(nodes);
    let mut free_now = slots.free_now();
    let mut decisions = Decisions::default();
    for &task in ready {
        if free_now == 0 {
            break;
        }
        let work = scheduler.dag().task(task).work;
        let Some(best) = slots.best(work, avoid(task)) else {
            continue;
        };
        slots.take(best.node, best.start, best.finish);
        if best.start <= EPS {
            free_now -= 1;
            decisions.start.push(Decision {
                task,
                node: best.node,
                finish: best.finish,
                why: Why::EarliestFinish {
                    rank: scheduler.rank(task),
                    unblocks: scheduler.dag().unblocks(task),
                },
            });
        } else {
            decisions.waiting.push(super::Waiting {
                task,
                node: best.node,
                start: best.start,
            });
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    #[test]
    fn the_heaps_find_the_same_node_as_a_full_scan_as_slots_fill() {
        let mut rng = SplitMix64::new(11);
        for round in 0..20 {
            let nodes: Vec<NodeView> = (0..40)
                .map(|_| {
                    let slots = 1 + rng.below(4) as u32;
                    NodeView {
                        speed: rng.between(0.1, 3.0),
                        slots,
                        available_in: match rng.below(10) {
                            0 => None,
                            1 => Some(rng.between(1.0, 20.0)),
                            _ => Some(0.0),
                        },
                        busy: (0..rng.below(u64::from(slots) + 1))
                            .map(|_| rng.between(0.0, 30.0))
                            .collect(),
                        share: 0.25,
                    }
                })
                .collect();
            let mut slots = Slots::new(&nodes);
            for step in 0..120 {
                let work = [1.0, 2.0, 4.0][rng.below(3) as usize];
                let avoided = (step % 3 == 0).then(|| rng.below(40) as usize);
                let by_heap = slots.best(work, avoided);
                let by_scan = slots.best_by_scan(work, avoided);
                assert_eq!(
                    by_heap.map(|e| (e.node, e.finish)),
                    by_scan.map(|e| (e.node, e.finish)),
                    "round {round} step {step}"
                );
                if let Some(e) = by_heap {
                    slots.take(e.node, e.start, e.finish);
                }
            }
        }
    }
}
