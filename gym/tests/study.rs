//! `swarm-gym study qwopus-vs-vanilla` end to end on a simulated fleet: one server answering
//! as two scripted models (a careful one that replays the qwopus-study references through every
//! phase of the pipeline, and a sloppy one that only claims to be done). Only the model
//! changes between the arms; the report has the study's shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use swarm::sim::{NodeSpec, Scenario, SimFleet};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The five apps' careful and sloppy replies on one simulated server answering as both
/// models; the fleet file names it.
async fn study_sim(dir: &Path) -> (SimFleet, PathBuf) {
    study_sim_judged(dir, false).await
}

/// [`study_sim`], with a judge node whose scripted judge gives every project the same scores
/// (it cannot tell a working app from a broken one) when `blind_judge`.
async fn study_sim_judged(dir: &Path, blind_judge: bool) -> (SimFleet, PathBuf) {
    let tasks: Vec<gym::task::Task> =
        gym::task::suite_task_dirs(&repo_root().join("tasks/qwopus-study"))
            .unwrap()
            .iter()
            .map(|d| gym::task::load_task(d).unwrap())
            .collect();
    assert_eq!(tasks.len(), 5);
    let mut rules = gym::demo::for_model(
        gym::demo::swarm_rules(&tasks, None, "careful", &gym::demo::careful_files),
        "sim-careful",
    );
    rules.extend(gym::demo::for_model(
        gym::demo::swarm_rules(&tasks, None, "sloppy", &gym::demo::sloppy_files),
        "sim-sloppy",
    ));
    let node = |name: &str, model: &str| NodeSpec {
        name: name.into(),
        model: model.into(),
        tokens_per_second: 20_000.0,
        prefill_tokens_per_second: 500_000.0,
        slots: 4,
        context_length: 65_536,
        supports_tools: true,
        port: 0,
    };
    let mut nodes = vec![node("box", "whatever-is-loaded")];
    if blind_judge {
        nodes.push(node("jn", "sim-judge"));
        let verdict = r#"{"requirements": {"score": 7, "findings": []}, "code_quality": {"score": 7, "findings": []}, "bugs": {"score": 7, "findings": []}}"#;
        let rule: swarm::sim::scenario::Rule = serde_yaml_ng::from_str(&format!(
            "node: jn\nwhen: {{schema: judge_verdict}}\nreply: {{json: {verdict}}}\n"
        ))
        .unwrap();
        rules.insert(0, rule);
    }
    let scenario = Scenario {
        nodes,
        rules,
        default_reply: Some(gym::demo::claims_done()),
    };
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let fleet = dir.join("lan.yaml");
    let mut yaml = format!("nodes:\n  - {{name: box, url: '{}', model: whatever-is-loaded, slots: 4, roles: [planner, worker, scout]}}\n", sim.nodes[0].url);
    if blind_judge {
        yaml.push_str(&format!(
            "  - {{name: jn, url: '{}', model: sim-judge, slots: 4, roles: [judge]}}\n",
            sim.nodes[1].url
        ));
    }
    std::fs::write(&fleet, yaml).unwrap();
    (sim, fleet)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_study_changes_only_the_model_and_reports_per_app_and_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, fleet) = study_sim(dir.path()).await;
    let results = dir.path().join("results.csv");
    let output = tokio::task::spawn_blocking({
        let (fleet, results) = (fleet.clone(), results.clone());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
                .args([
                    "study",
                    "qwopus-vs-vanilla",
                    "--a-model",
                    "sim-careful",
                    "--b-model",
                    "sim-sloppy",
                ])
                .args([
                    "--replicates",
                    "1",
                    "--concurrency",
                    "2",
                    "--knob",
                    "fix.rounds=1",
                    "--knob",
                    "scout.enabled=false",
                ])
                .arg("--fleet")
                .arg(&fleet)
                .arg("--results")
                .arg(&results)
                .env("SWARM_CONFIG", "/dev/null")
                .current_dir(repo_root())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{stdout}");
    eprintln!("{stdout}");
    assert!(stdout.contains("hidden checks passed: A 6/6"), "{stdout}");
    for app in [
        "antic-turmite",
        "byte-oracle",
        "chaos-fern",
        "fsdrift",
        "logfunnel",
    ] {
        let line = format!("  qwopus-study/{app}");
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("{app} in {stdout}"));
        assert!(row.ends_with("1-0-0"), "{row}");
    }
    // The four published scores, ours beside the published table: the careful arm's apps
    // pass every hidden check; nothing judged (no judge node), so quality and spec are empty.
    assert!(stdout.contains("THE FOUR PUBLISHED SCORES"), "{stdout}");
    let fern = stdout
        .lines()
        .find(|l| l.starts_with("chaos-fern "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(fern.contains("10.0/"), "{fern}");
    // The careful arm ships the references' own tests, which kill some mutants; the sloppy
    // arm ships none (0, not empty: no tests prove nothing).
    assert!(!fern.contains("10.0/0.0/"), "{fern}");
    assert!(fern.contains("0.0/0.0/-/-"), "{fern}");
    assert!(fern.contains(" win "), "{fern}");
    assert!(fern.contains("9.0/8.0/9.0/9.0"), "{fern}");
    assert!(
        stdout.contains("wins-draws-losses of A: ours 5-0-0 over 5 app(s); published 3-2-0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("What differs from the original"),
        "{stdout}"
    );
    let checks = stdout.lines().find(|l| l.starts_with("checks ")).unwrap();
    assert!(checks.contains("10.0"), "{checks}");
    assert!(
        stdout.contains("cost per replicate, arm A: 6 turns"),
        "{stdout}"
    );
    // Each arm's fleet is written down: the same node, serving the arm's model.
    for model in ["sim-careful", "sim-sloppy"] {
        let arm = dir.path().join(format!(
            "study-qwopus-vs-vanilla-{}-{model}.yaml",
            if model == "sim-careful" { "a" } else { "b" }
        ));
        let fleet = swarm::fleet::Fleet::load(&arm).unwrap();
        assert_eq!(fleet.nodes.len(), 1);
        assert_eq!(
            (fleet.nodes[0].url.as_str(), fleet.nodes[0].model.as_str()),
            (sim.nodes[0].url.as_str(), model)
        );
    }
    // `report` on the stored rows prints the same four-score table again.
    let report = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .arg("report")
        .arg(&results)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&report.stdout);
    assert!(
        report.contains("wins-draws-losses of A: ours 5-0-0 over 5 app(s)"),
        "{report}"
    );
    let (rows, bad) = gym::read_rows(&results).unwrap();
    // The careful arm's pipeline verified its own work: it claimed pass on every turn.
    let claims: Vec<&str> = rows
        .iter()
        .filter(|r| r.experiment.ends_with(":A"))
        .map(|r| r.claimed_verdict.as_str())
        .collect();
    assert_eq!(claims, vec!["pass"; 6]);

    assert_eq!((rows.len(), bad.len()), (12, 0));
    assert!(rows.iter().all(|r| r.sut == "swarm"));
    // Same knobs in both arms: only the model changed.
    let knobs: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r.knobs_hash.as_str()).collect();
    assert_eq!(knobs.len(), 1);
}

/// A misspelt model id is refused before either arm runs, with the models the server lists
/// (a server asked for a model it does not list would answer with the one it has: a silent
/// A/A test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_model_id_is_refused_before_anything_runs() {
    let scenario = Scenario {
        nodes: vec![NodeSpec {
            name: "box".into(),
            model: "sim-careful".into(),
            tokens_per_second: 20_000.0,
            prefill_tokens_per_second: 500_000.0,
            slots: 2,
            context_length: 65_536,
            supports_tools: true,
            port: 0,
        }],
        rules: Vec::new(),
        default_reply: Some(gym::demo::claims_done()),
    };
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join("lan.yaml");
    std::fs::write(
        &fleet,
        format!("nodes:\n  - {{name: box, url: '{}', model: sim-careful, slots: 2, roles: [planner, worker, scout]}}\n", sim.nodes[0].url),
    )
    .unwrap();
    let results = dir.path().join("results.csv");
    let output = tokio::task::spawn_blocking({
        let (fleet, results) = (fleet.clone(), results.clone());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
                .args(["study", "qwopus-vs-vanilla", "--a-model", "sim-careful"])
                .args(["--b-model", "sim-carefull", "--tasks", "byte-oracle"])
                .arg("--fleet")
                .arg(&fleet)
                .arg("--results")
                .arg(&results)
                .env("SWARM_CONFIG", "/dev/null")
                .current_dir(repo_root())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "arm B: node box does not serve model `sim-carefull`; it serves: sim-careful"
        ),
        "{stderr}"
    );
    let rows = gym::read_rows(&results)
        .map(|(rows, _)| rows.len())
        .unwrap_or(0);
    assert_eq!(rows, 0, "nothing ran");
}

/// A study killed part way continues under the same experiment id with `--resume`: finished
/// turns are skipped, nothing is lost or repeated, and the report covers the whole study.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_study_resumes_with_no_row_lost_or_repeated() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    let study = {
        let results = results.clone();
        move |fleet: &Path, resume: bool| {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"));
            command
                .args(["study", "qwopus-vs-vanilla", "--a-model", "sim-careful"])
                .args([
                    "--b-model",
                    "sim-sloppy",
                    "--replicates",
                    "2",
                    "--mutants",
                    "4",
                ])
                .args(["--knob", "fix.rounds=1", "--knob", "scout.enabled=false"])
                .args(["--tasks", "byte-oracle,antic-turmite"])
                .args(["--temperature", "0.3", "--seed", "5"])
                .arg("--fleet")
                .arg(fleet)
                .arg("--results")
                .arg(&results)
                .env("SWARM_CONFIG", "/dev/null")
                .current_dir(repo_root())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            if resume {
                command.arg("--resume");
            }
            command
        }
    };
    let rows_now = || {
        gym::read_rows(&results)
            .map(|(rows, _)| rows.len())
            .unwrap_or(0)
    };
    let (sim, fleet) = study_sim(dir.path()).await;
    let mut child = study(&fleet, false).spawn().unwrap();
    let started = std::time::Instant::now();
    while rows_now() < 3 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the study ended before it was killed"
        );
        assert!(started.elapsed().as_secs() < 300, "no rows after 300 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(sim);
    let (before, _) = gym::read_rows(&results).unwrap();
    let experiment = before[0].experiment.split(':').next().unwrap().to_string();
    assert!(
        before.len() < 12,
        "killed before the end: {} rows",
        before.len()
    );

    // A fresh server (the old one went with the kill); the same fleet file names it.
    let (_sim, fleet) = study_sim(dir.path()).await;
    let mut resumed = study(&fleet, true);
    let output = tokio::task::spawn_blocking(move || resumed.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{stdout}");
    assert!(stderr.contains("already recorded, skipped"), "{stderr}");
    // The estimate before the run comes from the rows the killed run left.
    assert!(
        stderr.contains("estimate per replicate and arm: 3 turn(s), ~"),
        "{stderr}"
    );
    assert!(
        stderr.contains("/6 |"),
        "per-arm progress over the whole study: {stderr}"
    );
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert_eq!(bad.len(), 0);
    let keys: std::collections::BTreeSet<(String, String, u32, u32)> = rows
        .iter()
        .map(|r| (r.experiment.clone(), r.task.clone(), r.turn, r.replicate))
        .collect();
    assert_eq!(
        (rows.len(), keys.len()),
        (12, 12),
        "2 apps (3 turns) x 2 replicates x 2 arms, each once"
    );
    assert!(rows.iter().all(|r| r.experiment.starts_with(&experiment)));
    // The arms' sampling settings are in every row.
    assert!(
        rows.iter()
            .all(|r| r.sampling == r#"{"temperature":0.3,"seed":5}"#),
        "{:?}",
        rows.iter().map(|r| &r.sampling).collect::<Vec<_>>()
    );
    for row in &before {
        assert!(
            rows.contains(row),
            "a row written before the kill is kept as it was"
        );
    }
    assert!(
        stdout.contains(&format!("experiment {experiment}")),
        "{stdout}"
    );
    assert!(stdout.contains("over 2 app(s)"), "{stdout}");
}

/// A judge that cannot tell an app from its planted-bug twins is found out before the study
/// runs: its scores are recorded but left out of every verdict, in both reports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncalibrated_judge_is_left_out_of_the_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, fleet) = study_sim_judged(dir.path(), true).await;
    let results = dir.path().join("results.csv");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
            .args(["study", "qwopus-vs-vanilla", "--a-model", "sim-careful"])
            .args(["--b-model", "sim-sloppy", "--tasks", "byte-oracle,fsdrift"])
            .args(["--knob", "fix.rounds=1", "--knob", "scout.enabled=false"])
            .args(["--judge-samples", "1", "--mutants", "4"])
            .arg("--fleet")
            .arg(&fleet)
            .arg("--results")
            .arg(&results)
            .env("SWARM_CONFIG", "/dev/null")
            .current_dir(repo_root())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.contains(
            "judge sim-judge UNCALIBRATED: ranked the reference above its planted-bug twin on 0/"
        ),
        "{stdout}"
    );
    let requirements = stdout
        .lines()
        .find(|l| l.starts_with("requirements "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        requirements.contains("left out of verdicts: the judge is UNCALIBRATED"),
        "{requirements}"
    );
    assert!(
        stdout.contains("quality and spec are shown but left out of the verdicts"),
        "{stdout}"
    );
    assert!(
        stderr.contains("reference 9.0 vs twin 9.0 WRONG"),
        "{stderr}"
    );
}
