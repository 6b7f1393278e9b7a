//! Benchmarks of the results store and the A/B statistics (criterion):
//! `cargo bench -p gym --bench results`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gym::results::{read_rows, ResultsStore};
use gym::stats_check::{synthetic_experiment, StatsPlan};
use std::hint::black_box;

fn rows(tasks: u32) -> (Vec<gym::ResultRow>, Vec<gym::ResultRow>) {
    synthetic_experiment(&StatsPlan {
        experiments: 1,
        tasks,
        turns: 3,
        replicates: 5,
        effect: 1.0,
        seed: 7,
    })
}

/// One row appended (one write and a sync to disk), and 10,000 rows read back.
fn store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (a, _) = rows(20);
    let row = a[0].clone();
    let mut group = c.benchmark_group("results");
    let append_path = dir.path().join("append.csv");
    let store = ResultsStore::open(&append_path).unwrap_or_else(|e| panic!("{e}"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("append-one-row", |b| {
        b.iter(|| store.append(black_box(&row)))
    });
    let read_path = dir.path().join("read.csv");
    let big = ResultsStore::open(&read_path).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..10_000 {
        big.append(&a[i % a.len()])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("read-10k-rows", |b| {
        b.iter(|| read_rows(black_box(&read_path)))
    });
    group.finish();
}

/// The paired A/B analysis (means, intervals, Holm, McNemar, per task) of 20 tasks × 3 turns
/// × 5 replicates per arm. The intervals are analytic (Student t), not bootstrapped.
fn statistics(c: &mut Criterion) {
    let (a, b) = rows(20);
    c.bench_function("ab/analyse-600-rows", |bench| {
        bench.iter(|| gym::ab::analyse("bench", black_box(&a), black_box(&b)))
    });
}

criterion_group!(benches, store, statistics);
criterion_main!(benches);
