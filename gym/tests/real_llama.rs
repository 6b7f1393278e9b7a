//! The gym on real models: two llama-servers serving SmolLM2-135M as builders, brain (the
//! simulated user, one open turn at most after each task's two) and judge run `swarm-gym
//! run --simulate-user --max-turns 3` over two tasks of the smoke suite. SmolLM2 cannot
//! code, so the scores must be honestly low; what is proven is that the whole path runs to
//! the end on real servers, writes well-formed rows that say what the simulated user did,
//! and never panics or hangs. Skipped, with the reason, when `.ci/prepare-model.sh` could not
//! prepare the model (under CI only if it recorded why).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use swarm::testing::LlamaServer;

#[test]
fn swarm_gym_run_on_real_llama_servers_writes_honest_rows() {
    let Some((server, model)) = swarm::testing::real_model().unwrap() else {
        return;
    };
    let first = LlamaServer::start(&server, &model, 2, 8192, 1).expect("first llama-server");
    let second = LlamaServer::start(&server, &model, 2, 8192, 1).expect("second llama-server");
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(
        &fleet,
        format!(
            "nodes:\n  - {{name: smol-a, url: '{}', model: smollm2, slots: 2, roles: [worker, brain], action_mode: json}}\n  - {{name: smol-b, url: '{}', model: smollm2, slots: 2, roles: [worker, judge], action_mode: json}}\n",
            first.url, second.url
        ),
    )
    .unwrap();
    let results = dir.path().join("results.csv");
    let suite = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks/smoke");
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args([
            "run",
            "--simulate-user",
            "--max-turns",
            "3",
            "--limit",
            "2",
            "--concurrency",
            "2",
            "--knob",
            "build.max_actions=4",
            "--judge-samples",
            "1",
            "--suite",
        ])
        .arg(&suite)
        .arg("--fleet")
        .arg(&fleet)
        .arg("--results")
        .arg(&results)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(900) {
            let _ = child.kill();
            panic!("swarm-gym run hung on real llama-servers");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stderr}\n{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert_eq!(bad.len(), 0, "every row is well formed");
    // The task's two turns, then at most one of the simulated user's own (--max-turns 3):
    // SmolLM2 as the brain may stop, give no usable move, or write checks that are
    // discarded; the rows and the tally must say which.
    let open: Vec<&gym::ResultRow> = rows.iter().filter(|r| r.turn == 3).collect();
    assert_eq!(
        rows.len(),
        4 + open.len(),
        "2 smoke tasks x 2 turns, then open turns"
    );
    assert!(rows
        .iter()
        .all(|r| r.session == "simulated" && !r.persona.is_empty()));
    for row in &open {
        assert!(
            !row.user_move.is_empty() && row.user_move != "stop",
            "{row:?}"
        );
        let (proven, unproven) = (row.checks_proven.unwrap(), row.checks_unproven.unwrap());
        assert!(row.checks_discarded.is_some(), "{row:?}");
        if proven == 0 {
            assert_ne!(
                row.hidden_verdict, "pass",
                "unproven checks never pass a turn: {row:?}"
            );
        }
        eprintln!(
            "open turn: {} by {}: {proven} proven, {unproven} unproven, {} discarded, hidden {}",
            row.user_move,
            row.persona,
            row.checks_discarded.unwrap(),
            row.hidden_verdict
        );
    }
    let sessions_ended = open.len()
        + stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains("chose stop"))
            .count();
    assert_eq!(
        sessions_ended, 2,
        "every session went on or stopped, and said so:\n{stderr}"
    );
    assert!(
        stdout.contains("simulated user: moves"),
        "the tally: {stdout}"
    );
    let builders: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.builder_model.as_str()).collect();
    assert_eq!(builders.len(), 1);
    for row in &rows {
        assert!(row.tokens_in > 0, "a real server reports usage: {row:?}");
        assert!(["pass", "fail", "inconclusive"].contains(&row.hidden_verdict.as_str()));
        assert!(["done", "out_of_budget", "failed"].contains(&row.claimed_verdict.as_str()));
        // Honesty is graded whatever the model claims: a false green scores 0.
        if row.claimed_verdict == "done" && row.hidden_verdict == "fail" {
            assert_eq!(row.swarm, Some(0.0));
        }
        assert!(dir.path().join(&row.transcript).is_file());
        // smol-b judges every turn; whatever SmolLM2 says, the judged columns are scores in
        // range or missing, and the judge is named exactly when one is present.
        let judged = [row.requirements, row.code_quality, row.bugs];
        assert_eq!(
            row.judge_model.is_empty(),
            judged.iter().all(Option::is_none),
            "{row:?}"
        );
        for score in [
            row.requirements,
            row.code_quality,
            row.bugs,
            row.checks,
            row.swarm,
            row.cluster,
            row.diagnostics,
            row.overall,
        ]
        .into_iter()
        .flatten()
        {
            assert!((0.0..=10.0).contains(&score), "{row:?}");
        }
    }
}
