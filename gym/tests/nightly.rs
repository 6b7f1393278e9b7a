//! `swarm-gym nightly` end to end on a simulated fleet: two swarm-sim nodes answer as the
//! same model name, one carefully, one sloppily. Two good nights make a baseline; a third on
//! the sloppy node (same model name: a "model update" gone wrong) is a regression, listed
//! first, with exit code 1. A night killed halfway resumes without duplicating a row. The
//! report's plotted values are checked against the CSV.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use swarm::sim::SimFleet;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn nightly(plan: &Path, night: Option<&str>) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"));
    command
        .args(["nightly", "--plan"])
        .arg(plan)
        .env("SWARM_CONFIG", "/dev/null")
        .current_dir(repo_root());
    if let Some(night) = night {
        command.args(["--night", night]);
    }
    command.output().unwrap()
}

fn plan_file(dir: &Path, name: &str, fleet: &Path) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "fleet: {}\nsuites: [smoke]\ntasks: [todo]\nsuts: [swarm]\nreplicates: 2\nconcurrency: 2\nknobs: ['scout.enabled=false', 'fix.rounds=1']\nresults: {}\nreport: {}\n",
            fleet.display(),
            dir.join("nightly.csv").display(),
            dir.join("report").display()
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nights_build_a_baseline_a_worse_night_is_a_regression_and_an_interrupted_night_resumes() {
    let tasks = gym::demo::load_suite(&repo_root().join("tasks/smoke")).unwrap();
    let mut scenario =
        gym::demo::careful_and_sloppy(&tasks, ("good", "sim-nightly"), ("bad", "sim-nightly"));
    // A judge that scores every project alike: its calibration fails, so its dimensions are
    // left out of the regression judgement (and said to be).
    let verdict = r#"{"requirements": {"score": 7, "findings": []}, "code_quality": {"score": 7, "findings": []}, "bugs": {"score": 7, "findings": []}}"#;
    scenario.rules.insert(
        0,
        serde_yaml_ng::from_str(&format!(
            "when: {{schema: judge_verdict}}\nreply: {{json: {verdict}}}\n"
        ))
        .unwrap(),
    );
    let sim = SimFleet::start(scenario, "127.0.0.1").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fleet = |node: usize, name: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "nodes:\n  - {{name: {}, url: '{}', model: sim-nightly, slots: 4, roles: [planner, worker, scout, brain]}}\n  - {{name: judge, url: '{}', model: sim-nightly, slots: 2, roles: [judge]}}\n",
                sim.nodes[node].name, sim.nodes[node].url, sim.nodes[node].url
            ),
        )
        .unwrap();
        path
    };
    let good = plan_file(dir.path(), "good.yaml", &fleet(0, "good-fleet.yaml"));
    let bad_dir = dir.path().join("bad");
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad = bad_dir.join("bad.yaml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&good)
            .unwrap()
            .replace("good-fleet.yaml", "bad-fleet.yaml"),
    )
    .unwrap();
    fleet(1, "bad-fleet.yaml");

    let outputs = tokio::task::spawn_blocking({
        let (good, bad) = (good.clone(), bad.clone());
        move || {
            vec![
                nightly(&good, Some("2026-11-28")),
                nightly(&good, Some("2026-11-29")),
                nightly(&bad, Some("2026-11-30")),
            ]
        }
    })
    .await
    .unwrap();
    for (index, output) in outputs.iter().enumerate() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("night {index}:\n{stdout}");
        let expected = if index < 2 { Some(0) } else { Some(1) };
        assert_eq!(output.status.code(), expected, "{stderr}\n{stdout}");
        assert!(stdout.contains("4 turn(s) graded"), "{stdout}");
        assert!(stdout.contains("fleet occupancy: "), "{stdout}");
    }
    let third = String::from_utf8_lossy(&outputs[2].stdout);
    let third_stderr = String::from_utf8_lossy(&outputs[2].stderr);
    assert!(
        third_stderr.contains(
            "judge sim-nightly UNCALIBRATED: ranked the reference above its planted-bug twin on 0/"
        ),
        "{third_stderr}"
    );
    let markdown = std::fs::read_to_string(dir.path().join("bad/report/report.md"))
        .or_else(|_| std::fs::read_to_string(dir.path().join("report/report.md")))
        .unwrap();
    assert!(
        markdown.contains("tonight's judge sim-nightly is UNCALIBRATED"),
        "{markdown}"
    );
    // Regressions come first, checks among them.
    assert!(
        third.starts_with("REGRESSION sim-nightly / smoke / swarm"),
        "{third}"
    );
    let checks_line = third
        .lines()
        .find(|l| l.starts_with("REGRESSION sim-nightly / smoke / swarm checks on 2026-11-30: "))
        .unwrap_or_else(|| panic!("no checks regression in {third}"));
    assert!(
        checks_line.contains(" vs baseline 10.00 over 2 night(s)"),
        "{checks_line}"
    );
    assert!(!String::from_utf8_lossy(&outputs[1].stdout).contains("REGRESSION"));

    // The plotted trend values are the CSV's: per night, the mean over replicates of each
    // replicate's mean checks score.
    let (rows, bad_rows) = gym::read_rows(&dir.path().join("nightly.csv")).unwrap();
    assert_eq!((rows.len(), bad_rows.len()), (12, 0));
    let mut per_replicate: BTreeMap<(String, u32), Vec<f64>> = BTreeMap::new();
    for row in &rows {
        per_replicate
            .entry((row.experiment.clone(), row.replicate))
            .or_default()
            .push(row.checks.unwrap());
    }
    let mut per_night: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for ((experiment, _), values) in per_replicate {
        let night = experiment.trim_start_matches("nightly-").to_string();
        per_night
            .entry(night)
            .or_default()
            .push(values.iter().sum::<f64>() / values.len() as f64);
    }
    let expected: Vec<(String, f64)> = per_night
        .into_iter()
        .map(|(night, means)| (night, means.iter().sum::<f64>() / means.len() as f64))
        .collect();
    let plotted: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("report/trends.json")).unwrap(),
    )
    .unwrap();
    let checks = plotted
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dimension"] == "checks")
        .unwrap();
    let drawn: Vec<(String, f64)> = checks["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["night"].as_str().unwrap().to_string(),
                p["mean"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(drawn, expected);
    assert_eq!((drawn[0].1, drawn[1].1), (10.0, 10.0));
    assert!(drawn[2].1 < 5.0, "{drawn:?}");
    for file in ["report.html", "report.md", "trends.svg", "trends.png"] {
        assert!(dir.path().join("report").join(file).is_file(), "{file}");
    }
    let markdown = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(markdown.contains("SIMULATED"), "{markdown}");
    let regressions = markdown.find("## Regressions").unwrap();
    assert!(regressions < markdown.find("## Score trends").unwrap());

    // A night killed after its first graded turn resumes from where it stopped.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["nightly", "--plan"])
        .arg(&good)
        .args(["--night", "2026-12-01"])
        .env("SWARM_CONFIG", "/dev/null")
        .current_dir(repo_root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let killed = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.contains("[1/4 ") {
                child.kill().unwrap();
                child.wait().unwrap();
                return true;
            }
        }
        child.wait().unwrap();
        false
    })
    .await
    .unwrap();
    assert!(killed, "the night never graded a turn");
    let resumed = tokio::task::spawn_blocking(move || nightly(&good, None))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert_eq!(resumed.status.code(), Some(0), "{stderr}\n{stdout}");
    assert!(
        stderr.contains("swarm-gym nightly 2026-12-01 (resuming the interrupted night)"),
        "{stderr}"
    );
    assert!(stderr.contains("already recorded, skipped"), "{stderr}");
    let (rows, bad_rows) = gym::read_rows(&dir.path().join("nightly.csv")).unwrap();
    assert!(bad_rows.is_empty());
    let tonight: Vec<&gym::ResultRow> = rows
        .iter()
        .filter(|r| r.experiment == "nightly-2026-12-01")
        .collect();
    let units: BTreeSet<(u32, u32)> = tonight.iter().map(|r| (r.replicate, r.turn)).collect();
    assert_eq!(tonight.len(), 4, "no turn twice, none missing");
    assert_eq!(units.len(), 4);
    // Back at the baseline: no regression.
    assert!(!stdout.contains("REGRESSION"), "{stdout}");
}
