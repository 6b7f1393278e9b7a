//! Benchmarks of the scheduler, the simulator and the review (criterion):
//! `cargo bench -p swarm --bench sched`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::collections::BTreeSet;
use std::hint::black_box;
use std::path::PathBuf;
use swarm::fleet::sched::{NodeView, Policy, Scheduler};
use swarm::sim::schedule::{self, Calibration, FleetKind, Options, Scenario, Shape};

/// One decision with 2,000 ready tasks on 256 nodes whose slots are half busy.
fn decision(c: &mut Criterion) {
    let mut group = c.benchmark_group("sched/decision");
    for (nodes, tasks) in [(16usize, 200usize), (256, 2000)] {
        let work = schedule::generate(Shape::Wide, tasks, 1).unwrap_or_else(|e| panic!("{e}"));
        let scheduler = Scheduler::new(work.dag.clone(), Policy::Eft, 1.0);
        let fleet = FleetKind::Big256.nodes(1);
        let views: Vec<NodeView> = fleet
            .iter()
            .take(nodes)
            .enumerate()
            .map(|(i, n)| NodeView {
                speed: n.decode_tps / 1200.0,
                slots: n.slots,
                available_in: Some(0.0),
                busy: (0..n.slots / 2).map(|s| (i + s as usize) as f64).collect(),
                share: 0.25,
            })
            .collect();
        let ready: Vec<usize> = (0..tasks).collect();
        let avoid = |_: usize| None;
        group.bench_function(
            BenchmarkId::from_parameter(format!("{nodes}x{tasks}")),
            |b| b.iter(|| black_box(scheduler.decide(black_box(&ready), &views, &avoid))),
        );
    }
    group.finish();
}

/// Whole simulated scenarios per second.
fn simulator(c: &mut Criterion) {
    let mut group = c.benchmark_group("sched/simulator");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    for (shape, tasks, fleet) in [
        (Shape::Plan, 200, FleetKind::Mixed16),
        (Shape::Layered, 2000, FleetKind::Big256),
    ] {
        let scenario = Scenario {
            shape,
            tasks,
            fleet,
            seed: 1,
            plans: 1,
        };
        group.bench_function(BenchmarkId::from_parameter(scenario.label()), |b| {
            b.iter(|| {
                schedule::run(
                    scenario,
                    Policy::Eft,
                    Calibration::default(),
                    Options::default(),
                    false,
                )
            })
        });
    }
    group.finish();
}

/// The static review over the study's reference apps: files per second.
fn review(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tasks/qwopus-study");
    let apps: Vec<PathBuf> = ["chaos-fern", "logfunnel", "fsdrift", "byte-oracle"]
        .iter()
        .map(|a| root.join(a).join("reference/turn1"))
        .filter(|p| p.is_dir())
        .collect();
    let files: u64 = apps.iter().map(|a| count_python(a)).sum();
    let mut group = c.benchmark_group("review");
    group.throughput(Throughput::Elements(files.max(1)));
    group.bench_function("study-references", |b| {
        b.iter(|| {
            for app in &apps {
                black_box(swarm::pyast::find_issues(app, &BTreeSet::new()));
            }
        })
    });
    group.finish();
}

fn count_python(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                count_python(&path)
            } else {
                u64::from(path.extension().is_some_and(|x| x == "py"))
            }
        })
        .sum()
}

criterion_group!(benches, decision, simulator, review);
criterion_main!(benches);
