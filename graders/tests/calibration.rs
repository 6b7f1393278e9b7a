//! Judge calibration on swarm-sim: a scripted judge that cannot tell a reference from its
//! planted-bug twins is refused; one that can (it scores high only when every file is the
//! reference's) is accepted. The twins are real: each fails the task's hidden checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use graders::calibration::{calibrate, CalibrationCase, TwinKind};
use graders::checks::{Check, CheckSet};
use graders::judge::{JudgeBrief, JudgeNode};
use serde_json::json;
use std::collections::BTreeMap;
use swarm::llm::{ClientConfig, LlmClient};
use swarm::sandbox::Sandbox;
use swarm::sim::{Scenario, SimFleet};

const SHOP: &str = "\"\"\"Totals with a bulk discount.\"\"\"\nBULK = 10\n\n\ndef total(values):\n    amount = sum(values)\n    if len(values) >= BULK:\n        amount = amount - amount // 10\n    return amount\n\n\ndef report(values):\n    print(f\"total {total(values)}\")\n";
const APP: &str = "import sys\n\nfrom shop import report\n\n\ndef main(argv):\n    report([int(v) for v in argv])\n    return 0\n\n\nsys.exit(main(sys.argv[1:]))\n";

fn verdict(score: u32) -> String {
    json!({
        "requirements": {"score": score, "findings": []},
        "code_quality": {"score": score, "findings": []},
        "bugs": {"score": score, "findings": []},
    })
    .to_string()
}

async fn judge(rules: &str) -> (SimFleet, JudgeNode) {
    let scenario = format!("nodes: [{{name: j, tokens_per_second: 50000}}]\nrules:\n{rules}");
    let fleet = SimFleet::start(
        Scenario::from_yaml(&scenario, "judge").unwrap(),
        "127.0.0.1",
    )
    .await
    .unwrap();
    let client = LlmClient::new(ClientConfig::new(fleet.nodes[0].url.clone())).unwrap();
    let node = JudgeNode {
        name: "judge".into(),
        model: "scripted-judge".into(),
        client,
        context_length: Some(16_384),
        slots: 1,
    };
    (fleet, node)
}

async fn run(node: &JudgeNode) -> graders::calibration::Calibration {
    let reference = tempfile::tempdir().unwrap();
    std::fs::write(reference.path().join("shop.py"), SHOP).unwrap();
    std::fs::write(reference.path().join("app.py"), APP).unwrap();
    let checks = vec![Check::Console(
        "$ python3 app.py 1 2 3\ntotal 6\n$ python3 app.py 1 1 1 1 1 1 1 1 1 1\ntotal 9\n".into(),
    )];
    let fixtures = BTreeMap::new();
    let requirements = vec!["Ten items or more get 10% off, rounded down.".to_string()];
    let cases = vec![CalibrationCase {
        task: "shop".into(),
        brief: JudgeBrief {
            spec: "Print the total of the prices given, with a bulk discount.",
            request: "Print the total of the prices given, with a bulk discount.",
            hidden_requirements: &requirements,
        },
        reference: reference.path(),
        checks: CheckSet {
            checks: &checks,
            fixtures: &fixtures,
        },
    }];
    calibrate(&[node], &cases, 0.8, Sandbox::detect()).await
}

#[tokio::test]
async fn a_judge_that_cannot_tell_reference_from_twin_is_refused() {
    let rules = format!(
        "  - when: {{schema: judge_verdict}}\n    reply: {{json: {}}}\n",
        verdict(7)
    );
    let (_fleet, node) = judge(&rules).await;
    let calibration = run(&node).await;
    eprintln!("{}\n{:#?}", calibration.summary(), calibration.pairs);
    let kinds: Vec<TwinKind> = calibration.pairs.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            TwinKind::CorruptedDefault,
            TwinKind::UnwiredModule,
            TwinKind::Stub
        ],
        "every kind of twin was made: {:?}",
        calibration.not_made
    );
    assert!(!calibration.calibrated());
    assert_eq!(calibration.right(), 0);
    assert!(
        calibration.summary().contains("UNCALIBRATED"),
        "{}",
        calibration.summary()
    );
}

#[tokio::test]
async fn a_judge_that_tells_them_apart_is_accepted() {
    // High only when both files are the reference's, low otherwise.
    let rules = format!(
        "  - when: {{schema: judge_verdict, contains_all: [{}, {}]}}\n    reply: {{json: {}}}\n  - when: {{schema: judge_verdict}}\n    reply: {{json: {}}}\n",
        serde_json::to_string(SHOP).unwrap(),
        serde_json::to_string(APP).unwrap(),
        verdict(9),
        verdict(3)
    );
    let (_fleet, node) = judge(&rules).await;
    let calibration = run(&node).await;
    eprintln!("{}\n{:#?}", calibration.summary(), calibration.pairs);
    assert_eq!(calibration.pairs.len(), 3);
    assert!(calibration.calibrated(), "{}", calibration.summary());
    assert!(calibration
        .summary()
        .contains("CALIBRATED: ranked the reference above its planted-bug twin on 3/3"));
}
