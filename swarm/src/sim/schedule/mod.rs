//! The scheduling simulator: the pipeline's own scheduler ([`crate::fleet::sched`]) run on
//! virtual time over generated plans ([`workload`]) and fleets ([`fleet`]), judged against
//! the lower bound and HEFT ([`heft`]). Every figure it produces is simulated.

pub mod calibrate;
pub mod engine;
pub mod fleet;
pub mod heft;
pub mod optimum;
pub mod report;
pub mod workload;

pub use engine::{simulate, Driver, Measured, Options, Stuck};
pub use fleet::{Calibration, Fault, FleetKind, NodeModel};
pub use workload::{generate, Shape, Workload};

use crate::fleet::sched::{Dag, Policy, Scheduler, TaskSpec};

/// One scenario: a plan shape and size on a fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// DAG shape.
    pub shape: Shape,
    /// Tasks.
    pub tasks: usize,
    /// Fleet.
    pub fleet: FleetKind,
    /// Seed of the plan and the fleet.
    pub seed: u64,
    /// Plans run at once on the fleet (`--concurrency`), each of `tasks` tasks drawn with its
    /// own seed; 1: one plan.
    pub plans: usize,
}

impl Scenario {
    /// `shape/tasks@fleet`, with `×K` when K plans run at once.
    pub fn label(&self) -> String {
        let together = if self.plans > 1 {
            format!("×{}", self.plans)
        } else {
            String::new()
        };
        format!("{}/{}{together}@{}", self.shape, self.tasks, self.fleet)
    }

    /// Its workload: one plan, or `plans` plans side by side.
    pub fn workload(&self) -> Result<Workload, String> {
        let draw = |k: u64| {
            generate(self.shape, self.tasks, self.seed.wrapping_add(k * 7919))
                .map_err(|e| format!("{}: {e}", self.label()))
        };
        if self.plans <= 1 {
            return draw(0);
        }
        let plans = (0..self.plans as u64)
            .map(draw)
            .collect::<Result<Vec<_>, _>>()?;
        workload::together(&plans).map_err(|e| format!("{}: {e}", self.label()))
    }
}

/// The headline case: a 16-task plan on one fast node and three slow ones.
pub fn mixed_speed_case(seed: u64) -> Scenario {
    Scenario {
        shape: Shape::Plan,
        tasks: 16,
        fleet: FleetKind::Mixed4,
        seed,
        plans: 1,
    }
}

/// Every shape × `sizes` × every fleet.
pub fn scenario_set(sizes: &[usize], seed: u64) -> Vec<Scenario> {
    let mut set = Vec::new();
    for &fleet in &FleetKind::ALL {
        for &tasks in sizes {
            for shape in Shape::ALL {
                set.push(Scenario {
                    shape,
                    tasks,
                    fleet,
                    seed,
                    plans: 1,
                });
            }
        }
    }
    set
}

/// One scenario's simulated figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The scenario.
    pub scenario: Scenario,
    /// Policy measured.
    pub policy: Policy,
    /// Lower bound, seconds.
    pub bound: f64,
    /// The policy's run.
    pub measured: Measured,
    /// HEFT's run with the true durations (none on a faulty fleet: its plan assumes none).
    pub heft: Option<Measured>,
    /// Slots in the fleet.
    pub slots: u32,
    /// Average parallelism of the DAG at the mean node speed, in slots: total work ÷ critical
    /// path. Below the fleet's slots, the DAG is too narrow to keep it busy.
    pub parallelism: f64,
}

impl Figures {
    /// Makespan ÷ lower bound.
    pub fn over_bound(&self) -> f64 {
        self.measured.makespan / self.bound
    }

    /// Makespan ÷ HEFT's makespan.
    pub fn over_heft(&self) -> Option<f64> {
        self.heft
            .as_ref()
            .map(|h| self.measured.makespan / h.makespan)
    }

    /// Whether the DAG is wide enough to fill the fleet.
    pub fn width_allows(&self) -> bool {
        self.parallelism >= f64::from(self.slots)
    }
}

/// The best schedule of `scenario`'s plan ([`optimum::optimum`], at most `budget` branches)
/// with the scenario's lower bound: None where the search does not apply.
pub fn optimum_of(
    scenario: Scenario,
    cal: Calibration,
    budget: u64,
) -> Result<Option<(optimum::Optimum, f64)>, String> {
    let work = scenario.workload()?;
    let nodes = scenario.fleet.nodes(scenario.seed);
    let bound = heft::lower_bound(&work, &nodes, &cal).value();
    Ok(optimum::optimum(&work, &nodes, &cal, budget).map(|o| (o, bound)))
}

/// The plan's DAG with each task's work its true solo seconds on the fastest node, scaled
/// so that the mean task weighs 2 units (a medium task), as [`Options::true_sizes`] tells it.
fn told_true_sizes(work: &Workload, nodes: &[NodeModel], cal: &Calibration) -> Dag {
    let fastest = |t: usize| {
        nodes
            .iter()
            .map(|n| heft::solo_seconds(work, t, n, cal))
            .fold(f64::INFINITY, f64::min)
    };
    let seconds: Vec<f64> = (0..work.dag.len()).map(fastest).collect();
    let mean = seconds.iter().sum::<f64>() / seconds.len().max(1) as f64;
    let specs = (0..work.dag.len())
        .map(|t| TaskSpec {
            work: if mean > 0.0 {
                2.0 * seconds[t] / mean
            } else {
                2.0
            },
            ..work.dag.task(t).clone()
        })
        .collect();
    Dag::new(specs).unwrap_or_else(|_| work.dag.clone())
}

/// Runs `scenario` under `policy`, with HEFT beside it when `with_heft`.
pub fn run(
    scenario: Scenario,
    policy: Policy,
    cal: Calibration,
    options: Options,
    with_heft: bool,
) -> Result<Figures, String> {
    let work = scenario.workload()?;
    let nodes = scenario.fleet.nodes(scenario.seed);
    let bound = heft::lower_bound(&work, &nodes, &cal).value();
    // Faults sit at fractions of the bound the fleet would have without them.
    let sound: Vec<NodeModel> = nodes
        .iter()
        .map(|n| NodeModel {
            fault: None,
            ..n.clone()
        })
        .collect();
    let placed = heft::lower_bound(&work, &sound, &cal).value();
    let mean_speed = nodes.iter().map(|n| n.decode_tps).sum::<f64>() / nodes.len() as f64;
    // The scheduler ranks in work units at a speed it does not know yet: the default.
    let dag = if options.true_sizes {
        told_true_sizes(&work, &nodes, &cal)
    } else {
        work.dag.clone()
    };
    let scheduler = Scheduler::new(dag, policy, crate::fleet::sched::DEFAULT_SPEED);
    let measured = simulate(
        &work,
        &nodes,
        cal,
        options,
        &Driver::Online(&scheduler),
        placed,
    )
    .map_err(|Stuck(why)| format!("{}: {why}", scenario.label()))?;
    let heft = if with_heft && !scenario.fleet.faulty() {
        let plan = heft::heft(&work, &nodes, &cal);
        let driver = Driver::Fixed {
            node_of: &plan.node_of,
            order: &plan.order,
        };
        Some(
            simulate(&work, &nodes, cal, options, &driver, placed)
                .map_err(|Stuck(why)| format!("{} (HEFT): {why}", scenario.label()))?,
        )
    } else {
        None
    };
    let slots: u32 = nodes.iter().map(|n| n.slots).sum();
    let mean_node = NodeModel {
        name: "mean".into(),
        decode_tps: mean_speed,
        slots: 1,
        fault: None,
    };
    let each = |t: usize| heft::solo_seconds(&work, t, &mean_node, &cal);
    let total: f64 = (0..work.dag.len()).map(each).sum();
    let parallelism = total / work.dag.critical_path(each);
    Ok(Figures {
        scenario,
        policy,
        bound,
        measured,
        heft,
        slots,
        parallelism,
    })
}

/// The median of `values` (none when empty).
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

#[cfg(test)]
mod tests;
