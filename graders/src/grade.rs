//! The one entry point of grading: [`grade`] takes a turn (what was asked, what is hidden)
//! and what a system under test did in it ([`TurnOutcome`]) and returns every dimension's
//! score with its evidence ([`Grades`]).
//!
//! One grader per dimension, in the order results columns list them: `checks` (the hidden
//! checks in the sandbox, on a copy with the fixtures), `swarm` and `cluster` (the run's own
//! facts against the hidden verdict), `diagnostics` (the static review), `test_depth` (the
//! app's own tests against mutants of its code), then the judge panel
//! for `requirements`, `code_quality` and `bugs` (one panel call scores all three). A new
//! grader is a function from the turn and the outcome to a [`DimensionScore`], added here
//! and to [`crate::DIMENSIONS`].

use crate::behaviour::{cluster_score, swarm_score, RunFacts};
use crate::checks::{run_checks, CheckError, CheckOutcome, CheckSet};
use crate::diagnostics::diagnostics_score;
use crate::judge::{choose_panel, judge_turn, JudgeBrief, JudgeNode, JudgeResult, JUDGED};
use crate::score::{overall, weighed_checks, DimensionScore, HiddenVerdict};
use crate::test_depth::{test_depth, TestDepthOptions};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;
use swarm::Sandbox;

/// A turn as the graders see it: what the user asked and what only the graders know.
#[derive(Debug, Clone)]
pub struct Turn<'a> {
    /// The task's visible spec.
    pub spec: &'a str,
    /// This turn's request (turn 1: the spec).
    pub request: &'a str,
    /// Requirements the judge knows and the builder never saw.
    pub hidden_requirements: &'a [String],
    /// The hidden checks and the fixtures they need.
    pub checks: CheckSet<'a>,
    /// Files the turn's commands run directly (so the review does not call them unwired).
    pub entry_points: BTreeSet<String>,
    /// Indices of checks that are unproven (an open turn's; see [`crate::weighed_checks`]);
    /// empty for a task's proven checks.
    pub unproven: BTreeSet<usize>,
}

/// What the system under test claimed about its own turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The single agent's outcome.
    Agent(swarm::Outcome),
    /// The pipeline's verdict.
    Swarm(swarm::Verdict),
    /// The system under test could not run the turn at all.
    Error,
}

impl Claim {
    /// Whether it claimed the work was done (the agent called `done`, the pipeline passed).
    pub fn done(self) -> bool {
        matches!(
            self,
            Claim::Agent(swarm::Outcome::Done) | Claim::Swarm(swarm::Verdict::Pass)
        )
    }
}

impl std::fmt::Display for Claim {
    /// The text of the `claimed_verdict` column.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Claim::Agent(outcome) => f.write_str(outcome.name()),
            Claim::Swarm(verdict) => write!(f, "{verdict}"),
            Claim::Error => f.write_str("error"),
        }
    }
}

/// The node a turn counts as built by (the judge panel avoids it, and its model if it can).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuiltBy {
    /// Node name in the fleet file.
    pub node: String,
    /// Its model.
    pub model: String,
}

/// What a system under test did in one turn, whichever system it was.
#[derive(Debug, Clone, Default)]
pub struct TurnOutcome {
    /// The project as the turn left it (graded where it lies; checks run on a copy).
    pub project: PathBuf,
    /// Its own claim; `None` only before it ran.
    pub claim: Option<Claim>,
    /// A one-line summary of how the turn ended.
    pub summary: String,
    /// The facts the `swarm` and `cluster` graders score.
    pub facts: RunFacts,
    /// Who built it, for the judge panel.
    pub built_by: BuiltBy,
    /// Wall time of the turn, ms.
    pub wall_ms: u64,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// Replies without a usable action.
    pub malformed_replies: u32,
    /// Tool calls that failed.
    pub tool_errors: u32,
    /// Requests that overflowed the context.
    pub context_overflows: u32,
    /// The conversation(s), one JSON value per message.
    pub transcript: Vec<serde_json::Value>,
    /// The turn's events, one JSON value each.
    pub events: Vec<serde_json::Value>,
    /// The fleet failed before any work was done: the turn is retried, not graded.
    pub infrastructure: bool,
    /// The swarm's BUILD occupancy, when it built.
    pub build_occupancy: Option<f64>,
    /// The swarm's BUILD makespan ÷ the bound of its plan with the observed durations.
    pub makespan_over_bound: Option<f64>,
}

/// How a turn is graded beyond its checks: who judges the judged dimensions, how many
/// samples each judge gives, and how test_depth is measured.
#[derive(Debug, Clone, Default)]
pub struct Judging {
    /// Reachable judge nodes (none: the judged dimensions are missing, with why).
    pub judges: Vec<JudgeNode>,
    /// Samples per judge per turn.
    pub samples: u32,
    /// The mutation sample of test_depth.
    pub test_depth: TestDepthOptions,
}

/// Every dimension of one turn, with the evidence behind each.
#[derive(Debug, Clone, Serialize)]
pub struct Grades {
    /// One score per dimension, in [`crate::DIMENSIONS`] order.
    pub scores: Vec<DimensionScore>,
    /// Each hidden check's outcome.
    pub checks: Vec<CheckOutcome>,
    /// The turn's verdict from its hidden checks.
    #[serde(skip)]
    pub hidden: HiddenVerdict,
    /// The judge panel's result, when a panel judged.
    pub judge: Option<JudgeResult>,
    /// test_depth's one-line detail (`killed K/N; concrete asserts C/A`, or why none).
    pub test_depth_detail: String,
}

impl Grades {
    /// One dimension's score, when it was scored.
    pub fn score(&self, dimension: &str) -> Option<f64> {
        self.scores
            .iter()
            .find(|s| s.dimension == dimension)
            .and_then(|s| s.score)
    }

    /// The overall score ([`overall`]).
    pub fn overall(&self) -> Option<f64> {
        overall(&self.scores)
    }

    /// The judges' models, `;`-separated (empty when no panel judged).
    pub fn judge_models(&self) -> String {
        self.judge
            .as_ref()
            .map(|j| j.models.join(";"))
            .unwrap_or_default()
    }
}

/// Grades one turn: every dimension, one grader each.
///
/// # Errors
/// When the hidden checks cannot be run at all (the grading copy cannot be made, or the
/// sandbox refuses); a check that cannot be decided is an inconclusive outcome, not an error.
pub async fn grade(
    turn: &Turn<'_>,
    outcome: &TurnOutcome,
    judging: &Judging,
) -> Result<Grades, CheckError> {
    grade_telling(turn, outcome, judging, |_, _| {}).await
}

/// [`grade`], telling `on_checks` the hidden checks' outcomes and verdict as soon as they are
/// known, while the mutants, the judges and the review go on (what a simulated user notices
/// of a turn needs no judge).
pub async fn grade_telling(
    turn: &Turn<'_>,
    outcome: &TurnOutcome,
    judging: &Judging,
    on_checks: impl FnOnce(&[CheckOutcome], HiddenVerdict) + Send,
) -> Result<Grades, CheckError> {
    // The sandboxed work (checks, then mutants: each already uses every core), the judges
    // (waiting on the fleet) and the review (CPU, on a blocking thread) run at once.
    let sandboxed = async {
        let checks = run_checks(&outcome.project, turn.checks, Sandbox::detect()).await?;
        on_checks(&checks, weighed_checks(&checks, &turn.unproven).0);
        let depth = test_depth(&outcome.project, &judging.test_depth, Sandbox::detect()).await;
        Ok::<_, CheckError>((checks, depth))
    };
    let review = {
        let (project, entry_points) = (outcome.project.clone(), turn.entry_points.clone());
        tokio::task::spawn_blocking(move || diagnostics_score(&project, &entry_points).0)
    };
    let (sandboxed, judge, review) =
        tokio::join!(sandboxed, judged(turn, outcome, judging), review);
    let (checks, depth) = sandboxed?;
    let (hidden, checks_dimension) = weighed_checks(&checks, &turn.unproven);
    let diagnostics = match review {
        Ok(score) => score,
        Err(err) => DimensionScore::missing("diagnostics", format!("the review crashed: {err}")),
    };
    let mut scores = vec![
        checks_dimension,
        swarm_score(&outcome.facts, hidden),
        cluster_score(&outcome.facts),
        diagnostics,
        depth.score,
    ];
    match &judge {
        Some(result) => scores.extend(result.scores.iter().cloned()),
        None => scores.extend(
            JUDGED
                .iter()
                .map(|name| DimensionScore::missing(name, "the fleet has no reachable judge node")),
        ),
    }
    Ok(Grades {
        scores,
        checks,
        hidden,
        judge,
        test_depth_detail: depth.detail,
    })
}

/// The judged dimensions from a panel that avoids the builder; `None` without judges.
async fn judged(turn: &Turn<'_>, outcome: &TurnOutcome, judging: &Judging) -> Option<JudgeResult> {
    let panel = choose_panel(
        &judging.judges,
        &outcome.built_by.node,
        &outcome.built_by.model,
    );
    if panel.is_empty() {
        return None;
    }
    let brief = JudgeBrief {
        spec: turn.spec,
        request: turn.request,
        hidden_requirements: turn.hidden_requirements,
    };
    Some(judge_turn(&panel, &brief, &outcome.project, judging.samples).await)
}
