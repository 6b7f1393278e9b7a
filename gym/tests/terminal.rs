//! The terminal as a researcher uses it after a run, on a SIMULATED server (swarm-sim):
//! `run --url` with no fleet file, the failure summary that ends a run, `--json`, `list`
//! with filters, `show FILE:N`, and `report` on rows of a plain run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use swarm::sim::SimFleet;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn gym(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(args)
        .env("SWARM_CONFIG", "/dev/null")
        .env_remove("SWARM_API_KEY_ENV")
        .output()
        .unwrap()
}

fn texts(output: &Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_one_url_ends_with_its_failures_and_every_view_of_its_rows_agrees() {
    let suite = repo_root().join("tasks/smoke");
    let tasks = gym::demo::load_suite(&suite).unwrap();
    // The sloppy scripted model: it leaves work undone and claims it done.
    let scenario =
        gym::demo::careful_and_sloppy(&tasks, ("careful", "sim-careful"), ("sloppy", "sim-sloppy"));
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let url = sim.nodes[1].url.clone();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    let results_arg = results.to_str().unwrap().to_string();
    let suite_arg = suite.to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--suite",
            &suite_arg,
            "--sut",
            "swarm",
            "--url",
            &url,
            "--model",
            "sim-sloppy",
            "--limit",
            "1",
            "--judge-samples",
            "1",
            "--mutants",
            "0",
            "--results",
            &results_arg,
        ];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                gym(&args)
            })
            .await
            .unwrap()
        }
    };

    let (code, stdout, stderr) = texts(&run(&[]).await);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("one node, every role"), "{stderr}");
    assert!(stderr.contains("--limit 1: running "), "{stderr}");
    // Progress counts turns with the elapsed time.
    assert!(stderr.contains("[1/"), "{stderr}");
    // The run ends as a test runner does: each failed turn with its failed checks, how to
    // see all of it, and the totals.
    let failures = stdout
        .split("=== failures ===\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no failure summary:\n{stdout}"));
    assert!(failures.contains("FAIL "), "{stdout}");
    assert!(failures.contains("all of it: swarm-gym show "), "{stdout}");
    let totals = stdout.lines().last().unwrap();
    assert!(
        totals.starts_with("=== ") && totals.contains(" failed") && totals.ends_with(" ==="),
        "{totals}"
    );
    let rows = gym::read_rows(&results).unwrap().0;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.fleet == url), "rows name the server");
    assert!(rows.iter().all(|r| r.builder_model == "sim-sloppy"));
    let failed: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.hidden_pass())
        .map(|(i, _)| i + 1)
        .collect();
    assert!(!failed.is_empty(), "the sloppy model fails some turn");
    assert!(
        failures.contains(&format!("swarm-gym show {} --results", failed[0])),
        "the summary's show number is the row's: {failures}"
    );

    // `--json` on a second run of the same rows: one JSON document on stdout.
    let (code, stdout, stderr) = texts(&run(&["--new-run", "--json"]).await);
    assert_eq!(code, Some(0), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(value["totals"]["failed"].as_u64().unwrap() >= 1, "{value}");
    let failure = &value["failures"][0];
    assert!(failure["checks"][0]["label"].as_str().is_some(), "{value}");
    assert!(failure["row"].as_u64().unwrap() > rows.len() as u64);
    assert_eq!(value["rows"].as_array().unwrap().len(), rows.len());

    // `list`: the rows with the reference `show` takes; a filter keeps only failures.
    let (code, stdout, stderr) = texts(&gym(&["list", &results_arg, "--verdict", "fail"]));
    assert_eq!(code, Some(0), "{stderr}");
    let first = stdout.lines().nth(1).unwrap_or_default();
    let reference = first.split_whitespace().next().unwrap().to_string();
    assert!(
        reference.starts_with(&format!("{results_arg}:")),
        "{stdout}"
    );
    assert!(first.contains("fail"), "{stdout}");
    assert!(!stdout.contains(" pass "), "only failures: {stdout}");
    let (code, stdout, _) = texts(&gym(&["list", &results_arg, "--verdict", "fail", "--json"]));
    assert_eq!(code, Some(0));
    let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["hidden_verdict"] == "fail"));
    let (code, _, stderr) = texts(&gym(&["list", &results_arg, "--since", "yesterday"]));
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--since `yesterday` is not a date"),
        "{stderr}"
    );

    // `show FILE:N` prints that row, failed checks first.
    let (code, stdout, stderr) = texts(&gym(&["show", &reference]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("hidden checks: "),
        "{stdout}"
    );
    let (code, _, stderr) = texts(&gym(&["show", "0", "--results", &results_arg]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is not a row"), "{stderr}");

    // `report` on rows of plain runs: a per-task summary, as text and JSON.
    let (code, stdout, stderr) = texts(&gym(&["report", &results_arg]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("rows outside A/B experiments"), "{stdout}");
    assert!(stdout.contains("hidden ok"), "{stdout}");
    let (code, stdout, _) = texts(&gym(&["report", &results_arg, "--json"]));
    assert_eq!(code, Some(0));
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["plain"]["rows"].as_u64().unwrap(),
        2 * rows.len() as u64
    );
}

#[test]
fn a_fleet_is_named_by_a_file_or_a_url_and_nothing_else() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "--suite", "smoke"],
            "--fleet FILE, or --url URL",
        ),
        (
            vec![
                "run", "--suite", "smoke", "--fleet", "f.yaml", "--model", "m",
            ],
            "--model names the model of --url",
        ),
        (
            vec![
                "run",
                "--suite",
                "smoke",
                "--fleet",
                "f.yaml",
                "--url",
                "http://127.0.0.1:1",
            ],
            "cannot be used with",
        ),
        (
            vec![
                "study",
                "qwopus-vs-vanilla",
                "--url",
                "http://127.0.0.1:1",
                "--model",
                "m",
                "--a-model",
                "x",
                "--b-model",
                "y",
            ],
            "leave out --model",
        ),
    ];
    for (args, expected) in cases {
        let (code, stdout, stderr) = texts(&gym(&args));
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, stderr) = texts(&gym(&[
        "run",
        "--suite",
        "smoke",
        "--url",
        &format!("http://127.0.0.1:{port}"),
    ]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot reach the server"), "{stderr}");
}
