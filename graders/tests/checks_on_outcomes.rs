//! The deterministic dimensions together on crafted outcomes: a good build, and the sloppy
//! behaviours weak models show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use graders::checks::{run_checks, Check, CheckSet};
use graders::{checks_score, hidden_verdict, overall, swarm_score, HiddenVerdict, RunFacts};
use std::collections::BTreeMap;
use swarm::sandbox::Sandbox;

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        std::fs::write(dir.path().join(path), content).unwrap();
    }
    dir
}

fn checks() -> Vec<Check> {
    vec![
        Check::FileExists("add.py".into()),
        Check::Console("$ python3 add.py 2 3\n5\n$ python3 add.py two 3\n? 2\n".into()),
    ]
}

async fn grade(
    files: &[(&str, &str)],
    claimed_done: bool,
) -> (Option<f64>, HiddenVerdict, Option<f64>) {
    let dir = project(files);
    let checks = checks();
    let fixtures = BTreeMap::new();
    let outcomes = run_checks(
        dir.path(),
        CheckSet {
            checks: &checks,
            fixtures: &fixtures,
        },
        Sandbox::detect(),
    )
    .await
    .unwrap();
    let verdict = hidden_verdict(&outcomes);
    let facts = RunFacts {
        claimed_done,
        tasks_finished: 1,
        requests: 4,
        ..RunFacts::default()
    };
    let scores = vec![checks_score(&outcomes), swarm_score(&facts, verdict)];
    (scores[0].score, verdict, overall(&scores))
}

const GOOD: &str = "import sys\ntry:\n    a, b = int(sys.argv[1]), int(sys.argv[2])\nexcept ValueError:\n    print('error: not a number', file=sys.stderr)\n    sys.exit(2)\nprint(a + b)\n";
const CRASHES_ON_BAD_INPUT: &str = "import sys\nprint(int(sys.argv[1]) + int(sys.argv[2]))\n";

#[tokio::test]
async fn a_good_build_passes_every_check() {
    assert_eq!(
        grade(&[("add.py", GOOD)], true).await,
        (Some(10.0), HiddenVerdict::Pass, Some(10.0))
    );
}

#[tokio::test]
async fn crashing_on_realistic_input_fails_and_claiming_done_is_a_false_green() {
    // A traceback exits 1, not the 2 the spec asks for: the check fails, and "done" is a lie.
    let (checks, verdict, overall) = grade(&[("add.py", CRASHES_ON_BAD_INPUT)], true).await;
    assert_eq!((checks, verdict), (Some(5.0), HiddenVerdict::Fail));
    assert_eq!(overall, Some(3.0), "0.6 × 5 + 0.4 × 0 (false green)");
}

#[tokio::test]
async fn claiming_done_without_writing_anything_scores_zero_everywhere() {
    assert_eq!(
        grade(&[], true).await,
        (Some(0.0), HiddenVerdict::Fail, Some(0.0))
    );
}
