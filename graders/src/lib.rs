//! The graders of one finished gym turn: seven dimensions, each scored 0–10 with its
//! evidence. Deterministic: `checks` (the hidden checks, run in the sandbox — the real grade),
//! `swarm`, `cluster`, `diagnostics`. Judged by a model: `requirements`, `code_quality`,
//! `bugs`.

pub mod checks;
pub mod fsutil;

/// The seven dimensions, in the order results columns list them.
pub use notebooks::schema::DIMENSIONS;
pub mod behaviour;
pub mod calibration;
pub mod diagnostics;
pub mod grade;
pub mod judge;
pub mod score;
pub mod test_depth;

pub use behaviour::{cluster_score, swarm_score, RunFacts};
pub use diagnostics::{diagnostics_score, find_issues, Finding};
pub use grade::{grade, grade_telling, BuiltBy, Claim, Grades, Judging, Turn, TurnOutcome};
pub use judge::{choose_panel, judge_turn, JudgeBrief, JudgeNode, JudgeResult};
pub use score::{
    checks_score, hidden_verdict, overall, weighed_checks, DimensionScore, HiddenVerdict,
    UNPROVEN_WEIGHT,
};
pub use test_depth::{test_depth, TestDepth, TestDepthOptions};
