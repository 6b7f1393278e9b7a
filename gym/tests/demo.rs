//! `swarm-gym demo` end to end: both arms run the whole pipeline (SUT swarm) on a simulated
//! fleet; the careful model must win on checks, and the graders must catch each of the sloppy
//! model's behaviours — including the pipeline's own false green, which its weak derived
//! acceptance let through.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn the_careful_model_wins_and_every_sloppy_behaviour_is_caught() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
        .args(["demo", "--replicates", "2", "--results"])
        .arg(&results)
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}\n{stdout}");
    assert!(
        stdout.starts_with("SIMULATED fleet"),
        "it says plainly that the fleet is simulated:\n{stdout}"
    );
    let checks_line = stdout.lines().find(|l| l.starts_with("checks ")).unwrap();
    assert!(checks_line.ends_with("A better on checks"), "{checks_line}");
    assert!(stdout.contains("hidden checks passed: A 12/12"), "{stdout}");
    assert!(
        stdout.contains("  all                      6-0-0"),
        "{stdout}"
    );
    let caught = stdout
        .lines()
        .find(|l| l.starts_with("graders on the sloppy arm"))
        .unwrap();
    for expected in [
        "(12 turns): 2 false green(s)",
        "4 interface drift(s)",
        "4 crash(es)",
        "6 turn(s) with a module built but never wired in",
    ] {
        assert!(caught.contains(expected), "{expected} in: {caught}");
    }
    let (rows, bad) = gym::read_rows(&results).unwrap();
    assert_eq!((rows.len(), bad.len()), (24, 0));
    for row in &rows {
        assert_eq!(row.sut, "swarm");
        assert!(
            matches!(
                row.claimed_verdict.as_str(),
                "pass" | "fail" | "inconclusive"
            ),
            "{}",
            row.claimed_verdict
        );
        // Each turn keeps the pipeline's run: events, plan, verdict.
        let turn_dir = dir.path().join(Path::new(&row.events).parent().unwrap());
        for file in ["events.jsonl", "plan.json", "verdict.json"] {
            assert!(
                turn_dir.join("swarm-run").join(file).is_file(),
                "{file} for {}",
                row.events
            );
        }
    }
    // The demo's rows as a report: the A/B chart's figures are the report's paired means.
    assert!(stdout.contains("report: "), "{stdout}");
    let chart: serde_json::Value = std::fs::read_dir(dir.path().join("report"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            name.starts_with("ab-") && name.ends_with(".json")
        })
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .unwrap();
    let checks = chart["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["dimension"] == "checks")
        .unwrap();
    let mean = |label: &str| {
        let arm: Vec<f64> = rows
            .iter()
            .filter(|r| r.experiment.ends_with(label))
            .map(|r| r.checks.unwrap())
            .collect();
        arm.iter().sum::<f64>() / arm.len() as f64
    };
    assert!((checks["mean_a"].as_f64().unwrap() - mean(":A")).abs() < 1e-9);
    assert!((checks["mean_b"].as_f64().unwrap() - mean(":B")).abs() < 1e-9);
    let html = std::fs::read_to_string(dir.path().join("report/report.html")).unwrap();
    assert!(
        html.contains("SIMULATED"),
        "the page says the fleet was simulated"
    );
}

/// `swarm-gym demo --suite smoke-rust|smoke-ts`: the whole pipeline builds Rust and
/// TypeScript apps; the careful model's pass every hidden check, the sloppy model's fail them,
/// and its module that is never wired in (a Rust file no `mod` declares, a TypeScript file
/// nothing imports) is caught by diagnostics in both turns it stays.
#[test]
fn the_demo_runs_the_rust_and_typescript_suites() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for suite in ["smoke-rust", "smoke-ts"] {
        if let (Err(why), "smoke-ts") = (swarm::toolchain::TypeScript::locate(), suite) {
            assert!(
                std::env::var_os(swarm::testing::CI_ENV).is_none(),
                "CI installs the TypeScript compiler, yet: {why}"
            );
            eprintln!("SKIPPED {suite}: {why}");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_swarm-gym"))
            .args(["demo", "--suite", suite, "--replicates", "1", "--results"])
            .arg(dir.path().join("results.csv"))
            .current_dir(root)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{suite}: {stderr}\n{stdout}");
        assert!(
            stdout.contains("hidden checks passed: A 6/6") && stdout.contains("B 0/6"),
            "{suite}: {stdout}"
        );
        assert!(
            stdout.contains("2 turn(s) with a module built but never wired in"),
            "{suite}: {stdout}"
        );
    }
}
