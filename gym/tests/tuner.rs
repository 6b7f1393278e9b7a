//! `swarm-gym tune` end to end on a simulated fleet. A careful model on a node that pauses
//! 2.5 s mid-reply (alive, but slow in bursts) was run with a 2 s stall timeout: its workers
//! were cut as stalled. A sloppy model on a healthy node built wrong code. The tuner must find
//! the cluster problem, propose the stall timeout back at its default, confirm it with an A/B
//! and keep it (and, with --apply, write it); the sloppy rows must go to the review list and
//! never to a knob.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use swarm::sim::SimFleet;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn gym(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(args)
        .env("SWARM_CONFIG", "/dev/null")
        .current_dir(repo_root())
        .output()
        .unwrap()
}

fn text(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).to_string(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_problem_gets_a_confirmed_knob_and_wrong_code_goes_to_a_human() {
    let tasks = gym::demo::load_suite(&repo_root().join("tasks/smoke")).unwrap();
    let mut scenario =
        gym::demo::careful_and_sloppy(&tasks, ("busy", "sim-careful"), ("sloppy", "sim-sloppy"));
    // The busy node pauses 2.5 s in the middle of every final reply of a worker.
    let mut paused = 0;
    for rule in &mut scenario.rules {
        let finishing = rule.name.as_deref().is_some_and(|n| n.ends_with(" done"));
        if finishing && rule.node.as_deref() == Some("busy") {
            rule.fault.pause_after_tokens = Some(1);
            rule.fault.pause_ms = Some(2500);
            paused += 1;
        }
    }
    assert!(paused > 0);
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fleet = |node: usize| {
        let path = dir.path().join(format!("{}.yaml", sim.nodes[node].name));
        std::fs::write(
            &path,
            format!(
                "nodes:\n  - {{name: {}, url: '{}', model: {}, slots: 4, roles: [planner, worker, scout]}}\n",
                sim.nodes[node].name, sim.nodes[node].url, sim.nodes[node].model
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let (busy, sloppy) = (fleet(0), fleet(1));
    let stored = dir.path().join("stored.csv").display().to_string();
    let wrong = dir.path().join("sloppy.csv").display().to_string();
    let config = dir.path().join("config.toml");
    let out = dir.path().join("tune").display().to_string();
    let fast = [
        "--knob",
        "scout.enabled=false",
        "--knob",
        "plan.drafts=1",
        "--knob",
        "fix.rounds=0",
        "--knob",
        "build.attempts=1",
        "--knob",
        "node.cooldown_s=0",
    ];
    let outputs = tokio::task::spawn_blocking({
        let (busy, sloppy, stored, wrong, out, config) = (
            busy.clone(),
            sloppy.clone(),
            stored.clone(),
            wrong.clone(),
            out.clone(),
            config.clone(),
        );
        move || {
            let run = |fleet: &str, results: &str, extra: &[&str]| {
                let mut args = vec![
                    "run",
                    "--suite",
                    "smoke",
                    "--tasks",
                    "todo",
                    "--sut",
                    "swarm",
                    "--fleet",
                    fleet,
                    "--results",
                    results,
                ];
                args.extend(fast);
                args.extend(extra);
                gym(&args)
            };
            let stored_run = run(&busy, &stored, &["--knob", "node.stall_timeout_s=2"]);
            let sloppy_run = run(&sloppy, &wrong, &[]);
            let tune = gym(&[
                "tune",
                "--results",
                &stored,
                &wrong,
                "--fleet",
                &busy,
                "--replicates",
                "1",
                "--out",
                &out,
                "--apply",
                "--config",
                config.to_str().unwrap(),
            ]);
            let behaviour_only = gym(&[
                "tune",
                "--results",
                &wrong,
                "--fleet",
                &sloppy,
                "--replicates",
                "1",
                "--out",
                &format!("{out}-behaviour"),
                "--apply",
                "--config",
                &format!("{}-untouched", config.display()),
            ]);
            // Kept but without --apply: the config file is never written.
            let unapplied = gym(&[
                "tune",
                "--results",
                &stored,
                "--fleet",
                &busy,
                "--replicates",
                "1",
                "--out",
                &format!("{out}-unapplied"),
                "--config",
                &format!("{}-unapplied", config.display()),
            ]);
            vec![stored_run, sloppy_run, tune, behaviour_only, unapplied]
        }
    })
    .await
    .unwrap();
    for output in &outputs[..2] {
        let (stdout, stderr) = text(output);
        assert!(output.status.success(), "{stderr}\n{stdout}");
    }
    // The stored run really stalled.
    let (rows, _) = gym::read_rows(Path::new(&stored)).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.stalls > 0 && r.cluster.unwrap() < 10.0),
        "{rows:?}"
    );

    let (stdout, stderr) = text(&outputs[2]);
    eprintln!("{stdout}\n{stderr}");
    assert!(outputs[2].status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("cluster problem: workers cut by the stall timeout in 2 row(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("proposal: node.stall_timeout_s = 2 -> 120 ("),
        "{stdout}"
    );
    assert!(
        stdout.contains("decision: node.stall_timeout_s = 120: kept: cluster "),
        "{stdout}"
    );
    assert!(
        stdout.contains("applied: [knobs] \"node.stall_timeout_s\" = \"120\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("behavioural problems: 2 row(s) ("),
        "the sloppy rows go to a human: {stdout}"
    );
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(table["knobs"]["node.stall_timeout_s"].as_str(), Some("120"));
    let review = std::fs::read_to_string(Path::new(&out).join("tune-review.md")).unwrap();
    assert!(
        review.contains("smoke/todo turn 1 replicate 1 | sim-sloppy"),
        "{review}"
    );
    let log = std::fs::read_to_string(Path::new(&out).join("tune-log.jsonl")).unwrap();
    let steps: Vec<String> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(steps, vec!["diagnosis", "proposal", "trial", "decision"]);
    let trial: serde_json::Value = serde_json::from_str(log.lines().nth(2).unwrap()).unwrap();
    let cluster = trial["trial"]["cluster"].as_array().unwrap();
    assert!(
        cluster[1].as_f64().unwrap() > cluster[0].as_f64().unwrap(),
        "{trial}"
    );

    // Only behavioural problems: nothing proposed, nothing written.
    let (stdout, stderr) = text(&outputs[3]);
    assert!(outputs[3].status.success(), "{stderr}\n{stdout}");
    assert!(stdout.contains("cluster problems: none"), "{stdout}");
    assert!(stdout.contains("no knob change to propose"), "{stdout}");
    assert!(!Path::new(&format!("{}-untouched", config.display())).exists());

    let (stdout, stderr) = text(&outputs[4]);
    assert!(outputs[4].status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("decision: node.stall_timeout_s = 120: kept"),
        "{stdout}"
    );
    assert!(stdout.contains("not applied (run with --apply"), "{stdout}");
    assert!(!Path::new(&format!("{}-unapplied", config.display())).exists());
}
