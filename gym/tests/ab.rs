//! The A/B analysis on constructed rows whose statistics are worked out by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gym::ab::{analyse, render};
use gym::ResultRow;
use pretty_assertions::assert_eq;

fn row(task: &str, replicate: u32, checks: f64, pass: bool) -> ResultRow {
    ResultRow {
        run_id: "r".into(),
        experiment: "x:A".into(),
        timestamp: String::new(),
        commit: String::new(),
        suite: "s".into(),
        task: task.into(),
        manifest_hash: "h".into(),
        turn: 1,
        replicate,
        sut: "single".into(),
        builder_model: "m".into(),
        brain_model: String::new(),
        judge_model: String::new(),
        fleet: String::new(),
        knobs_hash: String::new(),
        knobs: String::new(),
        checks: Some(checks),
        swarm: Some(10.0),
        cluster: Some(10.0),
        diagnostics: None,
        requirements: None,
        code_quality: None,
        bugs: None,
        overall: Some(checks),
        hidden_verdict: if pass { "pass" } else { "fail" }.into(),
        claimed_verdict: "done".into(),
        wall_seconds: 1.0,
        tokens_in: 1,
        tokens_out: 1,
        malformed_replies: 0,
        tool_errors: 0,
        context_overflows: 0,
        occupancy: None,
        stalls: 0,
        errors: 0,
        transcript: String::new(),
        events: String::new(),
        test_depth: None,
        test_depth_detail: String::new(),
        sampling: String::new(),
        cache_hit: None,
        tokens_per_second: None,
        first_byte_ms: None,
        build_occupancy: None,
        makespan_over_bound: None,
        ..ResultRow::default()
    }
}

#[test]
fn the_report_matches_the_hand_computation() {
    // checks differences A − B: task x: 2, 4; task y: 0, 2 (see stats::clustered_comparison_by_hand):
    // mean 2, clustered SE 1, t = 2 on 1 df, p = 0.2952.
    let a = vec![
        row("x", 1, 5.0, true),
        row("x", 2, 6.0, true),
        row("y", 1, 1.0, false),
        row("y", 2, 4.0, true),
    ];
    let b = vec![
        row("x", 1, 3.0, false),
        row("x", 2, 2.0, false),
        row("y", 1, 1.0, false),
        row("y", 2, 2.0, true),
        row("z", 1, 9.0, true),
    ];
    let report = analyse("x", &a, &b);
    assert_eq!(
        (report.pairs, report.unpaired, report.replicates),
        (4, 1, 2)
    );
    assert_eq!(report.open_pairs, 0);
    assert!(!gym::ab::render(&report, "a", "b").contains("open turns"));
    // A simulated user's open turn in either arm: the report says those pairs compare
    // sessions, not one request.
    let mut open_a = a.clone();
    open_a[0].user_move = "feature".into();
    let open = analyse("x", &open_a, &b);
    assert_eq!(open.open_pairs, 1);
    assert!(
        gym::ab::render(&open, "a", "b").contains("1 of them are the simulated user's open turns")
    );
    let checks = report
        .dimensions
        .iter()
        .find(|d| d.dimension == "checks")
        .unwrap();
    let comparison = checks.comparison.as_ref().unwrap();
    assert!((comparison.difference - 2.0).abs() < 1e-12);
    assert!((comparison.p_value.unwrap() - 0.295_167).abs() < 1e-5);
    // Three dimensions have values (checks, swarm, cluster); swarm and cluster are equal in
    // both arms (p = 1). Holm: checks is the smallest of three: 3 × 0.2952.
    assert!((checks.adjusted_p.unwrap() - 3.0 * 0.295_167).abs() < 1e-4);
    assert!(
        checks
            .verdict
            .starts_with("no detectable difference at 2 replicate(s); about "),
        "{}",
        checks.verdict
    );
    let swarm = report
        .dimensions
        .iter()
        .find(|d| d.dimension == "swarm")
        .unwrap();
    assert_eq!(swarm.verdict, "the arms scored the same");
    let requirements = report
        .dimensions
        .iter()
        .find(|d| d.dimension == "requirements")
        .unwrap();
    assert_eq!(requirements.verdict, "no paired values");
    // Pass/fail: A passed x1, x2, y2; B passed y2. Only A: 2, only B: 0 → McNemar p = 0.5.
    let (passed_a, passed_b, only_a, only_b, p) = report.pass_fail;
    assert_eq!((passed_a, passed_b, only_a, only_b), (3, 1, 2, 0));
    assert!((p - 0.5).abs() < 1e-9, "{p}");
    // Per task on overall (= checks here): x: +2 and +4 → two wins; y: 0 and +2 → a draw and a win.
    assert_eq!(
        report.tasks,
        vec![("s/x".to_string(), 2, 0, 0), ("s/y".to_string(), 1, 1, 0)]
    );
}

#[test]
fn a_large_consistent_difference_is_called() {
    let tasks = ["p", "q", "r", "s"];
    let a: Vec<ResultRow> = tasks
        .iter()
        .flat_map(|t| (1..=3).map(move |r| row(t, r, 10.0 - f64::from(r) * 0.1, true)))
        .collect();
    let b: Vec<ResultRow> = tasks
        .iter()
        .flat_map(|t| (1..=3).map(move |r| row(t, r, 2.0 + f64::from(r) * 0.2, false)))
        .collect();
    let report = analyse("x", &a, &b);
    let checks = report
        .dimensions
        .iter()
        .find(|d| d.dimension == "checks")
        .unwrap();
    assert_eq!(checks.verdict, "A better on checks");
    assert_eq!(report.pass_fail.2, 12);
    assert!(report.pass_fail.4 < 0.001);
}

#[test]
fn a_judge_that_praises_code_the_checks_failed_is_flagged_in_the_report() {
    let mut praised = row("x", 1, 0.0, false);
    praised.requirements = Some(9.0);
    praised.code_quality = Some(10.0);
    let why = praised.judge_contradiction().unwrap();
    assert!(why.contains("requirements 9.0, code_quality 10.0"), "{why}");
    // A passing turn, a failing turn judged low, and a partly passing one are not flagged.
    let mut honest = row("x", 1, 0.0, false);
    honest.requirements = Some(3.0);
    assert_eq!(honest.judge_contradiction(), None);
    let mut passing = row("x", 1, 10.0, true);
    passing.requirements = Some(9.0);
    assert_eq!(passing.judge_contradiction(), None);
    let mut partial = row("x", 1, 6.0, false);
    partial.requirements = Some(9.0);
    assert_eq!(partial.judge_contradiction(), None);

    let report = gym::ab::analyse("x", &[praised.clone()], &[honest.clone()]);
    assert_eq!(report.contradictions, (1, 0));
    let text = gym::ab::render(&report, "A", "B");
    assert!(
        text.contains("JUDGE CONTRADICTS THE CHECKS on 1 row(s) of A and 0 of B"),
        "{text}"
    );
    let quiet = gym::ab::render(
        &gym::ab::analyse("x", &[honest.clone()], &[honest]),
        "A",
        "B",
    );
    assert!(!quiet.contains("CONTRADICTS"), "{quiet}");
}

#[test]
fn speed_is_reported_head_to_head_with_medians_p90_and_a_paired_interval() {
    // Arm A takes 10, 20, ... 100 s per turn; B always 5 s longer. Only A says how fast it
    // generated.
    let mut a = Vec::new();
    let mut b = Vec::new();
    for i in 0..10u32 {
        let task = format!("t{}", i % 5);
        let mut ra = row(&task, i / 5, 5.0, true);
        let mut rb = row(&task, i / 5, 5.0, true);
        ra.wall_seconds = f64::from(10 * (i + 1));
        rb.wall_seconds = ra.wall_seconds + 5.0;
        ra.tokens_per_second = Some(30.0);
        ra.cache_hit = Some(0.9);
        rb.cache_hit = Some(0.5);
        a.push(ra);
        b.push(rb);
    }
    let report = analyse("speed", &a, &b);
    let wall = &report.speed[0];
    assert_eq!(wall.measure, "wall_seconds");
    assert_eq!(wall.a, Some((50.0, 90.0)));
    assert_eq!(wall.b, Some((55.0, 95.0)));
    // Ten turns: the median's interval is the 2nd to the 9th value; a p90 needs 36 turns.
    assert_eq!(wall.a_intervals.median, Some((20.0, 90.0)));
    assert_eq!(wall.a_intervals.p90, None);
    let difference = wall.comparison.as_ref().map(|c| c.difference);
    assert!(
        difference.is_some_and(|d| (d + 5.0).abs() < 1e-9),
        "{difference:?}"
    );
    let speed = &report.speed[1];
    assert_eq!((speed.a, speed.b), (Some((30.0, 30.0)), None));
    assert!(speed.comparison.is_none(), "no pair has both");
    let text = render(&report, "a", "b");
    assert!(text.contains("speed per turn"), "{text}");
    assert!(
        text.contains("A 50.00 [20.00, 90.00] / 90.00 [needs 36 turns]"),
        "{text}"
    );
    assert!(text.contains("cache_hit"), "{text}");
}
