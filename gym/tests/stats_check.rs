//! The A/B statistics keep their promise on SIMULATED experiments: an A/A comparison calls
//! an arm better in at most the nominal 5% of experiments, and a planted effect is found about
//! as often as the reports claim (the claim is made at the same Holm level the verdicts use).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gym::stats_check::{check_statistics, StatsPlan};

#[test]
fn a_over_a_stays_within_alpha_and_the_claimed_power_is_the_power_seen() {
    let check = check_statistics(StatsPlan {
        experiments: 1000,
        tasks: 5,
        turns: 1,
        replicates: 3,
        effect: 2.0,
        seed: 11,
    });
    eprintln!("{}", check.render());
    // Not shown to exceed 5%, and not far above it even by chance.
    assert!(check.keeps_alpha(), "{}", check.render());
    assert!(check.aa_any_better <= 65, "{}", check.render());
    // Each test alone has about its nominal size (not far above 5%).
    for (dimension, count) in &check.aa_raw_by_dimension {
        assert!(
            *count <= 75,
            "{dimension}: {count}/1000 uncorrected false positives"
        );
    }
    let detected = f64::from(check.detected) / 1000.0;
    assert!(
        (detected - check.claimed_power).abs() < 0.06,
        "detected {detected:.3}, claimed {:.3}",
        check.claimed_power
    );
    assert!((check.measured_effect - 2.0).abs() < 0.2);
}

#[test]
fn more_replicates_give_the_planted_effect_more_power() {
    let plan = |replicates| StatsPlan {
        experiments: 300,
        tasks: 5,
        turns: 1,
        replicates,
        effect: 2.0,
        seed: 3,
    };
    let (few, many) = (check_statistics(plan(2)), check_statistics(plan(10)));
    assert!(
        many.detected > few.detected * 2,
        "{} vs {}",
        many.detected,
        few.detected
    );
    assert!(many.claimed_power > few.claimed_power);
}
