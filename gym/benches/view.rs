//! Benchmarks of `swarm-gym view` over 10,000 rows (criterion):
//! `cargo bench -p gym --bench view`. The goal is a page load under 300 ms; the
//! `http-*` cases are whole page loads (request to last byte over a local socket, the server
//! re-checking the file as a page load does), the others the parts.

use criterion::{criterion_group, criterion_main, Criterion};
use gym::results::ResultsStore;
use gym::stats_check::{synthetic_experiment, StatsPlan};
use gym::view::catalog::{Catalog, Filter};
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::PathBuf;

const ROWS: usize = 10_000;

/// A results file of 10,000 rows of one A/B experiment (synthetic scores).
fn results() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = synthetic_experiment(&StatsPlan {
        experiments: 1,
        tasks: 20,
        turns: 3,
        replicates: 5,
        effect: 1.0,
        seed: 7,
    });
    let path = dir.path().join("results.csv");
    let store = ResultsStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let both: Vec<&gym::ResultRow> = a.iter().chain(b.iter()).collect();
    for i in 0..ROWS {
        store
            .append(both[i % both.len()])
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let experiment = a[0]
        .experiment
        .rsplit_once(':')
        .map(|(id, _)| id.to_string())
        .unwrap_or_default();
    (dir, path, experiment)
}

fn get(address: &str, path: &str) -> usize {
    let mut stream = std::net::TcpStream::connect(address).unwrap_or_else(|e| panic!("{e}"));
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    );
    let mut body = Vec::new();
    let _ = stream.read_to_end(&mut body);
    assert!(body.starts_with(b"HTTP/1.1 200"), "{path} failed");
    body.len()
}

fn view(c: &mut Criterion) {
    let (dir, path, experiment) = results();
    let mut group = c.benchmark_group("view-10k");
    group.sample_size(20);
    group.bench_function("open", |b| {
        b.iter(|| Catalog::open(black_box(std::slice::from_ref(&path))))
    });
    let mut catalog = Catalog::open(std::slice::from_ref(&path));
    group.bench_function("front-page", |b| {
        b.iter(|| {
            catalog.refresh();
            gym::view::index::render(&catalog, &Filter::default()).into_string()
        })
    });
    let filter = Filter {
        verdict: "fail".into(),
        sort: "overall".into(),
        ..Filter::default()
    };
    group.bench_function("front-page-filtered-sorted", |b| {
        b.iter(|| gym::view::index::render(&catalog, black_box(&filter)).into_string())
    });
    group.bench_function("ab-page", |b| {
        b.iter(|| {
            gym::view::ab_page::render(&catalog, black_box(&experiment)).map(|m| m.into_string())
        })
    });
    // Whole page loads from a running server.
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let roots = vec![dir.path().to_path_buf()];
    runtime.spawn(async move { gym::view::serve(listener, &roots).await });
    get(&address, "/");
    group.bench_function("http-front-page", |b| b.iter(|| get(&address, "/")));
    let ab = format!("/ab/{experiment}");
    group.bench_function("http-ab-page", |b| b.iter(|| get(&address, &ab)));
    group.bench_function("http-turn-page", |b| b.iter(|| get(&address, "/turn/0/2")));
    group.finish();
}

criterion_group!(benches, view);
criterion_main!(benches);
