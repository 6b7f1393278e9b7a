//! Honest checks for open turns. The brain writes console checks with its request; a check
//! is kept only if it is well formed, stays inside the app, and **fails on the project as it
//! stands before the turn** (it tests something new or broken: one that already passes could
//! not tell whether the work was done). When the brain also wrote a reference patch, each
//! kept check that passes on the project with that patch applied is **proven**; the rest are
//! **unproven**, and grading never lets unproven checks make a turn pass on their own.

use graders::checks::{run_checks, Check, CheckError, CheckSet};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use swarm::Sandbox;

/// Most checks kept from one turn.
pub const MAX_CHECKS: usize = 6;
/// Longest console block accepted.
const MAX_CHECK_CHARS: usize = 4_000;
/// Most files and bytes of a reference patch.
const MAX_PATCH_FILES: usize = 20;
const MAX_PATCH_BYTES: usize = 200_000;

/// A check the brain wrote that was not kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discarded {
    /// The console block as written.
    pub check: String,
    /// The kind of reason: `malformed`, `outside the app`, `too many`, `already passes`,
    /// `undecidable`.
    pub kind: &'static str,
    /// Why it was not kept.
    pub reason: String,
}

/// The checks of an open turn, sorted by how far they can be trusted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Vetted {
    /// Kept, and passed on the brain's reference patch.
    pub proven: Vec<Check>,
    /// Kept, but nothing showed they can pass.
    pub unproven: Vec<Check>,
    /// Not kept.
    pub discarded: Vec<Discarded>,
    /// Why the reference patch could not be applied (its checks then stay unproven).
    pub reference_problem: Option<String>,
}

impl Vetted {
    /// The checks to grade with: proven first, then unproven (the runner's `OpenTurn` counts
    /// them in that order).
    pub fn graded(&self) -> Vec<Check> {
        self.proven.iter().chain(&self.unproven).cloned().collect()
    }
}

/// Why a console block cannot be a check (before running it): (kind, reason).
fn malformed(block: &str) -> Option<(&'static str, String)> {
    if block.len() > MAX_CHECK_CHARS {
        return Some((
            "malformed",
            format!("longer than {MAX_CHECK_CHARS} characters"),
        ));
    }
    let steps = swarm::parse_console(block);
    if steps.is_empty() {
        return Some(("malformed", "holds no `$ command` line".into()));
    }
    for step in &steps {
        let outside = step.command.split_whitespace().find(|word| {
            let word = word.trim_matches(|c| c == '"' || c == '\'');
            word.starts_with('/') || word.starts_with('~') || word.split('/').any(|p| p == "..")
        });
        if let Some(word) = outside {
            return Some((
                "outside the app",
                format!(
                    "`{}` names `{word}`, outside the app: a check runs inside it",
                    step.command
                ),
            ));
        }
    }
    None
}

/// `files` written over a copy of `before` (or an empty directory), or why they cannot be.
fn patched(
    before: Option<&Path>,
    files: &BTreeMap<String, String>,
) -> Result<tempfile::TempDir, String> {
    if files.len() > MAX_PATCH_FILES
        || files.values().map(String::len).sum::<usize>() > MAX_PATCH_BYTES
    {
        return Err(format!(
            "the reference patch is larger than {MAX_PATCH_FILES} files or {MAX_PATCH_BYTES} bytes"
        ));
    }
    let dir = tempfile::Builder::new()
        .prefix("swarm-gym-reference-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    if let Some(before) = before {
        graders::fsutil::copy_tree(before, dir.path()).map_err(|e| e.to_string())?;
    }
    for (path, content) in files {
        if let Some(why) = swarm::fsutil::outside_path_reason(path) {
            return Err(format!("the reference patch's `{path}` {why}"));
        }
        swarm::fsutil::write_inside(dir.path(), path, content.as_bytes())
            .map_err(|e| format!("the reference patch's `{path}`: {e}"))?;
    }
    Ok(dir)
}

/// Vets the brain's `checks` for a turn that starts from `before` (`None`: an empty project),
/// with its reference patch `reference` (relative path → content; may be empty).
pub async fn vet(
    before: Option<&Path>,
    checks: &[String],
    reference: &BTreeMap<String, String>,
    sandbox: &Sandbox,
) -> Result<Vetted, CheckError> {
    let mut vetted = Vetted::default();
    let mut candidates = Vec::new();
    for block in checks {
        let discard = |kind, reason: String| Discarded {
            check: block.clone(),
            kind,
            reason,
        };
        if candidates.len() >= MAX_CHECKS {
            vetted.discarded.push(discard(
                "too many",
                format!("more than {MAX_CHECKS} checks in one turn"),
            ));
        } else if let Some((kind, why)) = malformed(block) {
            vetted.discarded.push(discard(kind, why));
        } else {
            candidates.push(block.clone());
        }
    }
    if candidates.is_empty() {
        return Ok(vetted);
    }
    let empty = tempfile::Builder::new()
        .prefix("swarm-gym-before-")
        .tempdir()?;
    let before_dir = before.unwrap_or(empty.path());
    let fixtures = BTreeMap::new();
    let as_checks: Vec<Check> = candidates.iter().cloned().map(Check::Console).collect();
    let outcomes = run_checks(
        before_dir,
        CheckSet {
            checks: &as_checks,
            fixtures: &fixtures,
        },
        sandbox,
    )
    .await?;
    let mut kept = Vec::new();
    for (check, outcome) in as_checks.into_iter().zip(outcomes) {
        let Check::Console(block) = &check else {
            continue;
        };
        let first = outcome.evidence.lines().next().unwrap_or("").to_string();
        match outcome.verdict {
            graders::checks::Verdict::Fail => kept.push(check),
            graders::checks::Verdict::Pass => vetted.discarded.push(Discarded {
                check: block.clone(),
                kind: "already passes",
                reason:
                    "it already passes before the turn, so it cannot tell whether the work was done"
                        .into(),
            }),
            graders::checks::Verdict::Inconclusive => vetted.discarded.push(Discarded {
                check: block.clone(),
                kind: "undecidable",
                reason: format!("it cannot be decided here: {first}"),
            }),
        }
    }
    if kept.is_empty() || reference.is_empty() {
        vetted.unproven = kept;
        return Ok(vetted);
    }
    let patched = match patched(before, reference) {
        Ok(dir) => dir,
        Err(why) => {
            vetted.reference_problem = Some(why);
            vetted.unproven = kept;
            return Ok(vetted);
        }
    };
    let outcomes = run_checks(
        patched.path(),
        CheckSet {
            checks: &kept,
            fixtures: &fixtures,
        },
        sandbox,
    )
    .await?;
    for (check, outcome) in kept.into_iter().zip(outcomes) {
        if outcome.verdict == graders::checks::Verdict::Pass {
            vetted.proven.push(check);
        } else {
            vetted.unproven.push(check);
        }
    }
    Ok(vetted)
}
