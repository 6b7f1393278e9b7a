//! The yardsticks: each task's true seconds on each node, the lower bound no schedule beats,
//! and HEFT (Topcuoglu et al., 2002) planned offline with the true durations — the classic
//! static list scheduler the online policy is compared with.

use super::fleet::{Calibration, Fault, NodeModel};
use super::workload::Workload;
use crate::fleet::sched::LowerBound;

/// Seconds task `t` takes alone on `node` with a warm cache (the prefix and its own
/// conversation cached: only its new tokens are prefilled), tools included.
pub fn solo_seconds(work: &Workload, t: usize, node: &NodeModel, cal: &Calibration) -> f64 {
    let c = &work.truth[t];
    let mut seconds = 0.0;
    for (j, reply) in c.replies.iter().enumerate() {
        let new = if j == 0 {
            c.task_prompt
        } else {
            c.tool_outputs[j - 1]
        };
        seconds += node.request_seconds(cal, u64::from(new), u64::from(*reply));
    }
    seconds + cal.tool_s * c.tool_outputs.len() as f64
}

/// The lower bound: the larger of the critical path with each task at its fastest, alone,
/// and all the work over the fleet's capacity. Tasks are taken in the plan's average mix (a
/// task's fixed seconds — overheads, tools — grow with its requests, and so with its tokens,
/// so every task has about the same mix), and a node's capacity is the share of the whole
/// plan it can finish per second ([`node_rate`]): its requests share its throughput while
/// its tools hold a slot without using any. A node's capacity stops where it dies and pauses
/// while it stalls.
pub fn lower_bound(work: &Workload, fleet: &[NodeModel], cal: &Calibration) -> LowerBound {
    let fastest = |t: usize| {
        fleet
            .iter()
            .map(|n| solo_seconds(work, t, n, cal))
            .fold(f64::INFINITY, f64::min)
    };
    let tools: f64 = work
        .truth
        .iter()
        .map(|c| cal.tool_s * c.tool_outputs.len() as f64)
        .sum();
    let rates: Vec<f64> = fleet
        .iter()
        .map(|node| {
            let alone: f64 = (0..work.dag.len())
                .map(|t| solo_seconds(work, t, node, cal))
                .sum();
            node_rate(alone - tools, tools, node.slots, cal.share)
        })
        .collect();
    let critical_path = work.dag.critical_path(fastest);
    let rate: f64 = rates.iter().sum();
    if rate <= 0.0 {
        return LowerBound {
            critical_path,
            work_over_capacity: 0.0,
        };
    }
    // A node that stalls or dies offers less: find the time by which the rest of the
    // fleet makes up for it (the faults sit at fractions of the bound without them).
    let before = LowerBound {
        critical_path,
        work_over_capacity: 1.0 / rate,
    }
    .value();
    let lost = |until: f64| -> f64 {
        fleet
            .iter()
            .zip(&rates)
            .map(|(node, r)| match node.fault {
                Some(Fault::Die { at }) => r * (until - at * before).max(0.0),
                Some(Fault::Stall { at, seconds }) => r * (until - at * before).clamp(0.0, seconds),
                None => 0.0,
            })
            .sum()
    };
    let mut over = 1.0 / rate;
    for _ in 0..100 {
        let next = (1.0 + lost(over)) / rate;
        if !next.is_finite() || (next - over).abs() < 1e-9 {
            break;
        }
        over = next;
    }
    LowerBound {
        critical_path,
        work_over_capacity: over,
    }
}

/// The share of a whole plan a node can finish per second, at best: `requests` is what the
/// plan's requests would take there one at a time (overheads, prefill of new tokens, decoding)
/// and `tools` the seconds its tools hold a slot meanwhile. With `k` requests under way the
/// node serves `g(k) = k ÷ (1 + share × (k − 1))` request-seconds per second (`g(k) = k`
/// below one), and `g` is concave, so over any stretch of time holding `k` requests on
/// average does at most `g(k)` per second. Finishing a share `y` of the plan per second
/// needs `y × requests ≤ g(k)` with the slots it leaves, `k = slots − y × tools`: the largest
/// such `y`, found by bisection (the left side grows with `y`, the right side shrinks).
pub fn node_rate(requests: f64, tools: f64, slots: u32, share: f64) -> f64 {
    if requests.is_nan() || requests <= 0.0 {
        return 0.0;
    }
    let slots = f64::from(slots.max(1));
    let g = |k: f64| {
        if k <= 1.0 {
            k.max(0.0)
        } else {
            k / (1.0 + share * (k - 1.0))
        }
    };
    let fits = |y: f64| y * requests <= g(slots - y * tools.max(0.0));
    let (mut low, mut high) = (0.0, g(slots) / requests);
    for _ in 0..200 {
        let mid = (low + high) / 2.0;
        if fits(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    low
}

/// HEFT's plan: each task's node and each node's order of starts.
#[derive(Debug, Clone, PartialEq)]
pub struct HeftPlan {
    /// Node of each task.
    pub node_of: Vec<usize>,
    /// Tasks per node in start order.
    pub order: Vec<Vec<usize>>,
    /// The makespan HEFT itself predicts.
    pub predicted: f64,
}

/// HEFT over the true durations: tasks by upward rank (mean duration over nodes); each to
/// the slot where it would finish first after its dependencies (a node's slots are its
/// processors, each at the speed of a full node).
pub fn heft(work: &Workload, fleet: &[NodeModel], cal: &Calibration) -> HeftPlan {
    let n = work.dag.len();
    let full = |node: &NodeModel| 1.0 + cal.share * (f64::from(node.slots.max(1)) - 1.0);
    let seconds: Vec<Vec<f64>> = (0..n)
        .map(|t| {
            fleet
                .iter()
                .map(|node| solo_seconds(work, t, node, cal) * full(node))
                .collect()
        })
        .collect();
    let mean = |t: usize| seconds[t].iter().sum::<f64>() / fleet.len().max(1) as f64;
    let rank = work.dag.upward_ranks(mean);
    let mut by_rank: Vec<usize> = (0..n).collect();
    by_rank.sort_by(|a, b| rank[*b].total_cmp(&rank[*a]).then_with(|| a.cmp(b)));
    let mut free: Vec<Vec<f64>> = fleet.iter().map(|m| vec![0.0; m.slots as usize]).collect();
    let mut finish = vec![0.0; n];
    let mut node_of = vec![0; n];
    let mut starts: Vec<Vec<(f64, usize)>> = vec![Vec::new(); fleet.len()];
    for t in by_rank {
        let ready = work
            .dag
            .task(t)
            .deps
            .iter()
            .map(|d| finish[*d])
            .fold(0.0, f64::max);
        let mut best: Option<(usize, usize, f64, f64)> = None;
        for (node, slots) in free.iter().enumerate() {
            for (slot, at) in slots.iter().enumerate() {
                let start = at.max(ready);
                let end = start + seconds[t][node];
                if best.is_none_or(|(_, _, _, e)| end < e) {
                    best = Some((node, slot, start, end));
                }
            }
        }
        let Some((node, slot, start, end)) = best else {
            continue;
        };
        free[node][slot] = end;
        finish[t] = end;
        node_of[t] = node;
        starts[node].push((start, t));
    }
    let order = starts
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            s.into_iter().map(|(_, t)| t).collect()
        })
        .collect();
    HeftPlan {
        node_of,
        order,
        predicted: finish.into_iter().fold(0.0, f64::max),
    }
}
