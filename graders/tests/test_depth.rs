//! test_depth on fixture apps: the same shop module with strong tests (concrete values, the
//! discount's boundary) and with weak ones ("it runs", "it contains a point"), and the cases
//! where there is nothing to measure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use graders::{test_depth, TestDepthOptions};
use pretty_assertions::assert_eq;
use std::path::Path;
use swarm::sandbox::Sandbox;

fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/test-depth")
        .join(name);
    swarm::copy_tree(&source, dir.path()).unwrap();
    dir
}

fn options() -> TestDepthOptions {
    TestDepthOptions {
        mutants: 16,
        seed: 1,
        ..TestDepthOptions::default()
    }
}

#[tokio::test]
async fn strong_tests_kill_more_mutants_than_weak_ones() {
    let strong_dir = fixture("strong");
    let weak_dir = fixture("weak");
    let strong = test_depth(strong_dir.path(), &options(), Sandbox::detect()).await;
    let weak = test_depth(weak_dir.path(), &options(), Sandbox::detect()).await;
    eprintln!(
        "strong: {}\nweak: {}",
        strong.score.evidence, weak.score.evidence
    );
    let (strong_score, weak_score) = (strong.score.score.unwrap(), weak.score.score.unwrap());
    assert!(strong_score >= 8.0, "{}", strong.score.evidence);
    assert!(weak_score <= 4.0, "{}", weak.score.evidence);
    assert!(strong.detail.starts_with("killed "), "{}", strong.detail);
    assert!(
        strong.detail.ends_with("concrete asserts 7/10"),
        "{}",
        strong.detail
    );
    assert!(
        weak.detail.ends_with("concrete asserts 0/4"),
        "{}",
        weak.detail
    );
    assert!(
        weak.score.evidence.contains("survived: "),
        "{}",
        weak.score.evidence
    );
    assert!(
        weak.score.evidence.contains("only show that code runs"),
        "{}",
        weak.score.evidence
    );
    // Seeded: the same sample, the same figure.
    let again = test_depth(strong_dir.path(), &options(), Sandbox::detect()).await;
    assert_eq!(again.detail, strong.detail);
}

#[tokio::test]
async fn no_tests_score_zero_and_untestable_code_has_no_score() {
    let dir = fixture("strong");
    std::fs::remove_dir_all(dir.path().join("tests")).unwrap();
    let none = test_depth(dir.path(), &options(), Sandbox::detect()).await;
    assert_eq!(
        (none.score.score, none.detail.as_str()),
        (Some(0.0), "no tests")
    );

    let failing = fixture("strong");
    std::fs::write(
        failing.path().join("shop/pricing.py"),
        "def line_total(a, b):\n    raise RuntimeError('unfinished')\n",
    )
    .unwrap();
    let all_fail = test_depth(failing.path(), &options(), Sandbox::detect()).await;
    assert_eq!(
        all_fail.score.score,
        Some(0.0),
        "{}",
        all_fail.score.evidence
    );
    assert!(
        all_fail.detail.starts_with("none of the 1 test(s) passes"),
        "{}",
        all_fail.detail
    );

    let off = test_depth(
        dir.path(),
        &TestDepthOptions {
            mutants: 0,
            ..options()
        },
        Sandbox::detect(),
    )
    .await;
    assert_eq!(off.score.score, Some(0.0), "no tests is still no tests");
    let strong = fixture("strong");
    let off = test_depth(
        strong.path(),
        &TestDepthOptions {
            mutants: 0,
            ..options()
        },
        Sandbox::detect(),
    )
    .await;
    assert_eq!(
        (off.score.score, off.detail.as_str()),
        (None, "not measured (mutants set to 0)")
    );
}

#[tokio::test]
async fn a_test_run_that_never_finishes_is_no_score_not_a_zero() {
    let dir = fixture("strong");
    std::fs::write(
        dir.path().join("tests/test_hang.py"),
        "def test_forever():\n    while True:\n        pass\n",
    )
    .unwrap();
    let quick = TestDepthOptions {
        tests_wall: std::time::Duration::from_secs(3),
        ..options()
    };
    let hung = test_depth(dir.path(), &quick, Sandbox::detect()).await;
    assert_eq!(hung.score.score, None, "{}", hung.score.evidence);
    assert!(hung.detail.contains("ran past 3 s"), "{}", hung.detail);
}
