//! Judge calibration: before a judge model's scores count, it must tell a working reference
//! from a broken twin of it. For each task of the suite, the first turn's reference is paired
//! with planted-bug twins of three kinds:
//!
//! - **corrupted default**: one constant, comparison or arithmetic operator changed;
//! - **unwired module**: a call into another module of the app removed;
//! - **stub**: one function's body replaced by `raise NotImplementedError`.
//!
//! A twin counts only when the task's hidden checks fail on it (so it is really worse); the
//! candidates are tried in a seeded order. The judge scores the reference and each twin
//! with the task's brief (one sample each); it ranks a pair right when the reference's mean
//! judged score is strictly higher. A judge whose share of right pairs is under the
//! threshold is uncalibrated: its scores are shown as such and left out of verdicts.

use crate::checks::{run_checks, CheckSet};
use crate::judge::{judge_turn, JudgeBrief, JudgeNode};
use crate::score::{hidden_verdict, HiddenVerdict};
use crate::test_depth::mutate::{mutants_of, seeded_shuffle, Operator};
use serde::Serialize;
use std::path::Path;
use swarm::Sandbox;

/// The share of pairs a judge must rank right, unless the caller states another.
pub const DEFAULT_SHARE: f64 = 0.8;

/// Candidates tried per twin kind before the kind is given up for a task.
const TRIES: usize = 8;

/// The kinds of planted-bug twins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TwinKind {
    /// A constant, comparison or arithmetic operator changed.
    CorruptedDefault,
    /// A call into another module of the app removed.
    UnwiredModule,
    /// A function's body replaced by `raise NotImplementedError`.
    Stub,
}

impl TwinKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            TwinKind::CorruptedDefault => "corrupted default",
            TwinKind::UnwiredModule => "unwired module",
            TwinKind::Stub => "stub",
        }
    }
}

/// One task of the calibration set.
#[derive(Debug, Clone)]
pub struct CalibrationCase<'a> {
    /// Task id.
    pub task: String,
    /// What the judge is told.
    pub brief: JudgeBrief<'a>,
    /// The reference project.
    pub reference: &'a Path,
    /// The hidden checks (to prove a twin worse).
    pub checks: CheckSet<'a>,
}

/// One reference–twin pair and how the judge ranked it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedPair {
    /// Task.
    pub task: String,
    /// The twin's kind.
    pub kind: TwinKind,
    /// What was changed.
    pub change: String,
    /// The judge's mean score of the reference (None: the judge gave none).
    pub reference: Option<f64>,
    /// Of the twin.
    pub twin: Option<f64>,
}

impl RankedPair {
    /// The reference scored strictly higher than its twin.
    pub fn ranked_right(&self) -> bool {
        matches!((self.reference, self.twin), (Some(r), Some(t)) if r > t)
    }
}

/// The calibration of one judge panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// The judges' models.
    pub models: Vec<String>,
    /// Every pair.
    pub pairs: Vec<RankedPair>,
    /// The share required.
    pub required: f64,
    /// Twin kinds that could not be made for a task (no candidate failed the checks).
    pub not_made: Vec<String>,
}

impl Calibration {
    /// Pairs ranked right.
    pub fn right(&self) -> usize {
        self.pairs.iter().filter(|p| p.ranked_right()).count()
    }

    /// The share ranked right (0 without pairs).
    pub fn share(&self) -> f64 {
        if self.pairs.is_empty() {
            0.0
        } else {
            self.right() as f64 / self.pairs.len() as f64
        }
    }

    /// Whether the judge earned trust: pairs exist and the share reaches the requirement.
    pub fn calibrated(&self) -> bool {
        !self.pairs.is_empty() && self.share() >= self.required
    }

    /// One line: the verdict, the share, what it needed (and how many pairs got no score at
    /// all: a judge that answers nothing is not calibrated either, but the line says why).
    pub fn summary(&self) -> String {
        let unscored = self
            .pairs
            .iter()
            .filter(|p| p.reference.is_none() || p.twin.is_none())
            .count();
        let unscored = if unscored > 0 {
            format!("; no usable score on {unscored} pair(s): is the judge reachable and serving its model?")
        } else {
            String::new()
        };
        format!(
            "judge {} {}: ranked the reference above its planted-bug twin on {}/{} pair(s) ({:.0}%; needs {:.0}%){unscored}",
            self.models.join(";"),
            if self.calibrated() {
                "CALIBRATED"
            } else {
                "UNCALIBRATED"
            },
            self.right(),
            self.pairs.len(),
            100.0 * self.share(),
            100.0 * self.required
        )
    }
}

/// `(file, new source, what changed)` candidates of one kind, in a seeded order.
fn candidates(reference: &Path, kind: TwinKind, seed: u64) -> Vec<(String, String, String)> {
    let files: Vec<String> = swarm::python_files(reference)
        .into_iter()
        .filter(|f| !swarm::pyast::is_test_file(f))
        .collect();
    let local_roots: Vec<String> = files
        .iter()
        .map(|f| {
            f.split('/')
                .next()
                .unwrap_or(f)
                .trim_end_matches(".py")
                .to_string()
        })
        .collect();
    let mut found = Vec::new();
    for file in &files {
        let Ok(source) = std::fs::read_to_string(reference.join(file)) else {
            continue;
        };
        match kind {
            TwinKind::CorruptedDefault | TwinKind::UnwiredModule => {
                let imported = imported_local_names(&source, &local_roots);
                let wanted = |operator: Operator, original: &str| match kind {
                    TwinKind::CorruptedDefault => matches!(
                        operator,
                        Operator::Constant | Operator::Comparison | Operator::Arithmetic
                    ),
                    _ => {
                        operator == Operator::RemovedCall
                            && imported.iter().any(|name| {
                                original.starts_with(&format!("{name}("))
                                    || original.starts_with(&format!("{name}."))
                            })
                    }
                };
                for mutant in mutants_of(file, &source) {
                    if wanted(mutant.operator, &mutant.original) {
                        if let Some(changed) = mutant.apply(&source) {
                            found.push((file.clone(), changed, mutant.describe()));
                        }
                    }
                }
            }
            TwinKind::Stub => found.extend(stubs_of(file, &source)),
        }
    }
    seeded_shuffle(&mut found, seed);
    found
}

/// Names a file imports from the app's own modules (`from pkg.mod import a, b` → a, b;
/// `import pkg.mod` and `from pkg import mod` → the module names).
fn imported_local_names(source: &str, local_roots: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, imported)) = rest.split_once(" import ") else {
                continue;
            };
            let root = module
                .trim_start_matches('.')
                .split('.')
                .next()
                .unwrap_or("");
            if module.starts_with('.') || local_roots.iter().any(|r| r == root) {
                names.extend(
                    imported
                        .trim_matches(|c| c == '(' || c == ')')
                        .split(',')
                        .map(|n| n.split(" as ").last().unwrap_or(n).trim().to_string())
                        .filter(|n| !n.is_empty() && n != "*"),
                );
            }
        } else if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                let part = part.trim();
                let root = part.split('.').next().unwrap_or("");
                if local_roots.iter().any(|r| r == root) {
                    names.push(part.split(" as ").last().unwrap_or(part).trim().to_string());
                }
            }
        }
    }
    names
}

/// Each function of `source` with its body replaced by `raise NotImplementedError`.
fn stubs_of(file: &str, source: &str) -> Vec<(String, String, String)> {
    let Some(mut parser) = swarm::pyast::parser() else {
        return Vec::new();
    };
    let Some(tree) = parser.parse(source, None) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
        if node.kind() != "function_definition" {
            continue;
        }
        let (Some(name), Some(body)) = (
            node.child_by_field_name("name"),
            node.child_by_field_name("body"),
        ) else {
            continue;
        };
        let name = source.get(name.byte_range()).unwrap_or("");
        if name.starts_with("__") {
            continue;
        }
        let (Some(before), Some(after)) = (
            source.get(..body.start_byte()),
            source.get(body.end_byte()..),
        ) else {
            continue;
        };
        found.push((
            file.to_string(),
            format!("{before}raise NotImplementedError{after}"),
            format!(
                "{file}:{} stub: `{name}` raises NotImplementedError",
                node.start_position().row + 1
            ),
        ));
    }
    found.sort_by(|a, b| a.2.cmp(&b.2));
    found
}

/// A twin of `case.reference` of `kind` on which the hidden checks fail, with what changed.
async fn make_twin(
    case: &CalibrationCase<'_>,
    kind: TwinKind,
    sandbox: &Sandbox,
    seed: u64,
) -> Option<(tempfile::TempDir, String)> {
    for (file, changed, change) in candidates(case.reference, kind, seed)
        .into_iter()
        .take(TRIES)
    {
        let dir = tempfile::Builder::new()
            .prefix("swarm-gym-twin-")
            .tempdir()
            .ok()?;
        swarm::copy_tree(case.reference, dir.path()).ok()?;
        std::fs::write(dir.path().join(&file), changed).ok()?;
        let outcomes = run_checks(dir.path(), case.checks, sandbox).await.ok()?;
        if hidden_verdict(&outcomes) == HiddenVerdict::Fail {
            return Some((dir, change));
        }
    }
    None
}

fn mean_judged(result: &crate::judge::JudgeResult) -> Option<f64> {
    let values: Vec<f64> = result.scores.iter().filter_map(|s| s.score).collect();
    (values.len() == result.scores.len() && !values.is_empty())
        .then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// Calibrates `panel` on `cases`: twins made, then reference and twins judged.
pub async fn calibrate(
    panel: &[&JudgeNode],
    cases: &[CalibrationCase<'_>],
    required: f64,
    sandbox: &Sandbox,
) -> Calibration {
    let mut calibration = Calibration {
        models: panel.iter().map(|j| j.model.clone()).collect(),
        pairs: Vec::new(),
        required,
        not_made: Vec::new(),
    };
    for (index, case) in cases.iter().enumerate() {
        let reference = mean_judged(&judge_turn(panel, &case.brief, case.reference, 1).await);
        for kind in [
            TwinKind::CorruptedDefault,
            TwinKind::UnwiredModule,
            TwinKind::Stub,
        ] {
            let Some((twin, change)) = make_twin(case, kind, sandbox, index as u64 + 1).await
            else {
                calibration
                    .not_made
                    .push(format!("{} {}", case.task, kind.name()));
                continue;
            };
            let judged = mean_judged(&judge_turn(panel, &case.brief, twin.path(), 1).await);
            calibration.pairs.push(RankedPair {
                task: case.task.clone(),
                kind,
                change,
                reference,
                twin: judged,
            });
        }
    }
    calibration
}
