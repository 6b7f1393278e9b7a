//! The `diagnostics` dimension: static findings over the produced Python, from the swarm's
//! tree-sitter-python review ([`swarm::pyast`]; no code is run).
//!
//! Score: 10 − 3 × syntax errors − 2 × unwired modules − 2 × calls that cannot bind −
//! 2 × imports of names a project module lacks − 2 × functions implemented twice in two
//! modules − 2 × SQL names the schema lacks − 1 × stubs − 1 × duplicate definitions in one
//! module, floored at 0; a project with no source file at all scores 0, and one written in
//! another language (Rust, TypeScript, JavaScript files and no Python) is left empty: the
//! review cannot read it, and a score of 0 would be a false red.

use crate::score::DimensionScore;
use std::collections::BTreeSet;
use std::path::Path;
use swarm::FindingKind;
pub use swarm::{find_issues, python_files, ReviewFinding as Finding};

/// A source file of a language the review cannot read (the first found), if any.
fn other_language_file(dir: &Path) -> Option<String> {
    const EXTENSIONS: [&str; 5] = ["rs", "ts", "tsx", "js", "mjs"];
    let skip = |name: &str| matches!(name, "target" | "node_modules" | ".git" | ".swarm");
    swarm::walk_files(dir, &skip, 10_000)
        .into_iter()
        .map(|(file, _)| file)
        .find(|file| {
            Path::new(file)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e))
        })
}

/// The `diagnostics` dimension and its findings.
pub fn diagnostics_score(
    dir: &Path,
    entry_points: &BTreeSet<String>,
) -> (DimensionScore, Vec<Finding>) {
    if python_files(dir).is_empty() {
        if let Some(other) = other_language_file(dir) {
            return (
                DimensionScore::missing(
                    "diagnostics",
                    format!("the review reads Python only so far; this project is in another language ({other})"),
                ),
                Vec::new(),
            );
        }
        return (
            DimensionScore::scored("diagnostics", 0.0, "no Python file was produced"),
            Vec::new(),
        );
    }
    let Some(findings) = find_issues(dir, entry_points) else {
        return (
            DimensionScore::missing("diagnostics", "the Python grammar could not be loaded"),
            Vec::new(),
        );
    };
    let count = |kind: FindingKind| findings.iter().filter(|f| f.kind == kind).count() as f64;
    let score = 10.0
        - 3.0 * count(FindingKind::SyntaxError)
        - 2.0 * count(FindingKind::UnwiredModule)
        - 2.0 * count(FindingKind::CallArity)
        - 2.0 * count(FindingKind::DuplicateImplementation)
        - 2.0 * count(FindingKind::ImportError)
        - 2.0 * count(FindingKind::SqlSchemaMismatch)
        - count(FindingKind::Stub)
        - count(FindingKind::DuplicateDefinition);
    let mut evidence = format!(
        "{} syntax error(s), {} unwired module(s), {} call(s) that cannot bind, {} broken import(s), {} copied implementation(s), {} SQL name(s) not in the schema, {} stub(s), {} duplicate definition(s)",
        count(FindingKind::SyntaxError),
        count(FindingKind::UnwiredModule),
        count(FindingKind::CallArity),
        count(FindingKind::ImportError),
        count(FindingKind::DuplicateImplementation),
        count(FindingKind::SqlSchemaMismatch),
        count(FindingKind::Stub),
        count(FindingKind::DuplicateDefinition)
    );
    for finding in findings.iter().take(8) {
        evidence.push_str(&format!(
            "; {}:{} {}",
            finding.file, finding.line, finding.message
        ));
    }
    (
        DimensionScore::scored("diagnostics", score, evidence),
        findings,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn code_the_review_cannot_read_is_left_empty_and_no_code_at_all_scores_zero() {
        let dir = tempfile::tempdir().unwrap();
        let (score, _) = diagnostics_score(dir.path(), &BTreeSet::new());
        assert_eq!(score.score, Some(0.0), "nothing produced");
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
        let (score, _) = diagnostics_score(dir.path(), &BTreeSet::new());
        assert_eq!(score.score, None, "{}", score.evidence);
        assert!(score.evidence.contains("src/main.rs"), "{}", score.evidence);
    }
}
