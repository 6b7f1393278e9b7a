//! Scores and the formulas that combine them. Every dimension is 0–10 or missing; a missing
//! score is never replaced by a guess.
//!
//! - `checks` = 10 × passed ÷ conclusive checks (missing when no check was conclusive).
//! - hidden verdict: `pass` when every check passed; `fail` when any failed; `inconclusive`
//!   otherwise. A turn **passes** exactly when its hidden verdict is `pass`.
//! - overall = 0.6 × checks + 0.4 × mean(the other dimensions present, test_depth excepted);
//!   missing when `checks` is missing. `checks` dominates: no other dimension can lift a turn
//!   whose checks fail. test_depth stays out so overall means what it meant in rows written
//!   before test_depth existed (it is reported beside it, and in the study's four scores).

use crate::checks::{CheckOutcome, Verdict};
use serde::{Deserialize, Serialize};

/// One dimension's score and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// Which dimension.
    pub dimension: String,
    /// 0–10, or missing.
    pub score: Option<f64>,
    /// The facts behind it.
    pub evidence: String,
}

impl DimensionScore {
    /// A present score, clamped to 0–10 and rounded to 0.1.
    pub fn scored(dimension: &str, score: f64, evidence: impl Into<String>) -> Self {
        DimensionScore {
            dimension: dimension.into(),
            score: Some((score.clamp(0.0, 10.0) * 10.0).round() / 10.0),
            evidence: evidence.into(),
        }
    }

    /// A missing score, with the reason.
    pub fn missing(dimension: &str, why: impl Into<String>) -> Self {
        DimensionScore {
            dimension: dimension.into(),
            score: None,
            evidence: why.into(),
        }
    }
}

/// The turn's verdict from its hidden checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HiddenVerdict {
    /// Every check passed.
    Pass,
    /// At least one check failed.
    Fail,
    /// None failed, but not every check could be decided.
    Inconclusive,
}

impl std::fmt::Display for HiddenVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HiddenVerdict::Pass => "pass",
            HiddenVerdict::Fail => "fail",
            HiddenVerdict::Inconclusive => "inconclusive",
        })
    }
}

impl std::str::FromStr for HiddenVerdict {
    type Err = String;

    /// Reads the `hidden_verdict` column back.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "pass" => Ok(HiddenVerdict::Pass),
            "fail" => Ok(HiddenVerdict::Fail),
            "inconclusive" => Ok(HiddenVerdict::Inconclusive),
            other => Err(format!(
                "`{other}` is not a hidden verdict (pass, fail, inconclusive)"
            )),
        }
    }
}

/// The verdict of a set of check outcomes.
pub fn hidden_verdict(outcomes: &[CheckOutcome]) -> HiddenVerdict {
    if outcomes.iter().any(|o| o.verdict == Verdict::Fail) {
        HiddenVerdict::Fail
    } else if !outcomes.is_empty() && outcomes.iter().all(|o| o.verdict == Verdict::Pass) {
        HiddenVerdict::Pass
    } else {
        HiddenVerdict::Inconclusive
    }
}

/// The `checks` dimension.
pub fn checks_score(outcomes: &[CheckOutcome]) -> DimensionScore {
    let passed = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Pass)
        .count();
    let failed = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Fail)
        .count();
    let inconclusive = outcomes.len() - passed - failed;
    let conclusive = passed + failed;
    let mut evidence = format!("{passed} passed, {failed} failed, {inconclusive} inconclusive");
    for outcome in outcomes.iter().filter(|o| o.verdict != Verdict::Pass) {
        let first = outcome.evidence.lines().next().unwrap_or("");
        evidence.push_str(&format!(
            "; {:?} {}: {first}",
            outcome.verdict, outcome.label
        ));
    }
    if conclusive == 0 {
        return DimensionScore::missing("checks", evidence);
    }
    DimensionScore::scored("checks", 10.0 * passed as f64 / conclusive as f64, evidence)
}

/// How much an unproven check (an open turn's check that no reference showed can pass)
/// weighs in the `checks` dimension, against 1 for a proven one.
pub const UNPROVEN_WEIGHT: f64 = 0.5;

/// The hidden verdict and the `checks` dimension of a turn whose checks at `unproven`
/// indices are unproven: the verdict comes from the proven checks alone (none proven:
/// inconclusive, so unproven checks never make a turn pass, nor fail one, on their own), and
/// the score weighs an unproven check [`UNPROVEN_WEIGHT`]. With none unproven, exactly
/// [`hidden_verdict`] and [`checks_score`].
pub fn weighed_checks(
    outcomes: &[CheckOutcome],
    unproven: &std::collections::BTreeSet<usize>,
) -> (HiddenVerdict, DimensionScore) {
    if unproven.is_empty() {
        return (hidden_verdict(outcomes), checks_score(outcomes));
    }
    let proven: Vec<CheckOutcome> = outcomes
        .iter()
        .enumerate()
        .filter(|(index, _)| !unproven.contains(index))
        .map(|(_, outcome)| outcome.clone())
        .collect();
    let weight = |index: usize| {
        if unproven.contains(&index) {
            UNPROVEN_WEIGHT
        } else {
            1.0
        }
    };
    let (mut passed, mut conclusive) = (0.0, 0.0);
    for (index, outcome) in outcomes.iter().enumerate() {
        match outcome.verdict {
            Verdict::Pass => {
                passed += weight(index);
                conclusive += weight(index);
            }
            Verdict::Fail => conclusive += weight(index),
            Verdict::Inconclusive => {}
        }
    }
    let plain = checks_score(outcomes);
    let evidence = format!(
        "{}; {} of {} check(s) unproven (the verdict is the proven ones'; an unproven check weighs {UNPROVEN_WEIGHT})",
        plain.evidence,
        unproven.len(),
        outcomes.len()
    );
    let score = if conclusive > 0.0 {
        DimensionScore::scored("checks", 10.0 * passed / conclusive, evidence)
    } else {
        DimensionScore::missing("checks", evidence)
    };
    (hidden_verdict(&proven), score)
}

/// Overall score: 0.6 × checks + 0.4 × mean(other present dimensions but test_depth).
pub fn overall(scores: &[DimensionScore]) -> Option<f64> {
    let checks = scores.iter().find(|s| s.dimension == "checks")?.score?;
    let others: Vec<f64> = scores
        .iter()
        .filter(|s| s.dimension != "checks" && s.dimension != crate::test_depth::DIMENSION)
        .filter_map(|s| s.score)
        .collect();
    let value = if others.is_empty() {
        checks
    } else {
        0.6 * checks + 0.4 * others.iter().sum::<f64>() / others.len() as f64
    };
    Some((value * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn outcome(verdict: Verdict) -> CheckOutcome {
        CheckOutcome {
            label: "c".into(),
            verdict,
            evidence: "e".into(),
        }
    }

    #[test]
    fn unproven_checks_never_decide_a_turn_and_weigh_half() {
        use std::collections::BTreeSet;
        let (pass, fail) = (outcome(Verdict::Pass), outcome(Verdict::Fail));
        let none = BTreeSet::new();
        let last: BTreeSet<usize> = [1].into();
        let both: BTreeSet<usize> = [0, 1].into();
        // Without unproven checks: exactly the plain verdict and score.
        let plain = weighed_checks(&[pass.clone(), fail.clone()], &none);
        assert_eq!(plain.0, HiddenVerdict::Fail);
        assert_eq!(plain.1.score, Some(5.0));
        // A failing unproven check does not fail the turn; it weighs half: 10 × 1 / 1.5.
        let (verdict, score) = weighed_checks(&[pass.clone(), fail.clone()], &last);
        assert_eq!(verdict, HiddenVerdict::Pass);
        assert!(
            (score.score.unwrap() - 10.0 / 1.5).abs() < 0.05,
            "{:?}",
            score.score
        );
        assert!(
            score.evidence.contains("1 of 2 check(s) unproven"),
            "{}",
            score.evidence
        );
        // Passing unproven checks alone never make a pass.
        assert_eq!(
            weighed_checks(&[pass.clone(), pass.clone()], &both).0,
            HiddenVerdict::Inconclusive
        );
        // A failing proven check still fails the turn.
        assert_eq!(weighed_checks(&[fail, pass], &last).0, HiddenVerdict::Fail);
    }

    #[test]
    fn checks_count_only_conclusive_outcomes() {
        let outcomes = [
            outcome(Verdict::Pass),
            outcome(Verdict::Fail),
            outcome(Verdict::Inconclusive),
            outcome(Verdict::Pass),
        ];
        assert_eq!(checks_score(&outcomes).score, Some(6.7));
        assert_eq!(hidden_verdict(&outcomes), HiddenVerdict::Fail);
        assert_eq!(checks_score(&[outcome(Verdict::Inconclusive)]).score, None);
        assert_eq!(
            hidden_verdict(&[outcome(Verdict::Inconclusive), outcome(Verdict::Pass)]),
            HiddenVerdict::Inconclusive
        );
    }

    #[test]
    fn overall_is_dominated_by_checks() {
        let scores = vec![
            DimensionScore::scored("checks", 0.0, ""),
            DimensionScore::scored("swarm", 10.0, ""),
            DimensionScore::scored("cluster", 10.0, ""),
            DimensionScore::missing("requirements", "judge failed"),
            DimensionScore::scored("test_depth", 0.0, "no tests"),
        ];
        assert_eq!(overall(&scores), Some(4.0));
        let missing = vec![
            DimensionScore::missing("checks", ""),
            DimensionScore::scored("swarm", 10.0, ""),
        ];
        assert_eq!(overall(&missing), None);
    }
}
