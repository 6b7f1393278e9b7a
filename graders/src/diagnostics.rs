//! The `diagnostics` dimension: static findings over the produced Python, from the swarm's
//! tree-sitter-python review ([`swarm::pyast`]; no code is run).
//!
//! Score: 10 − 3 × syntax errors − 2 × unwired modules − 2 × calls that cannot bind −
//! 2 × imports of names a project module lacks − 2 × functions implemented twice in two
//! modules − 2 × SQL names the schema lacks − 1 × stubs − 1 × duplicate definitions in one
//! module, floored at 0; a project with no Python file scores 0.

use crate::score::DimensionScore;
use std::collections::BTreeSet;
use std::path::Path;
use swarm::FindingKind;
pub use swarm::{find_issues, python_files, ReviewFinding as Finding};

/// The `diagnostics` dimension and its findings.
pub fn diagnostics_score(
    dir: &Path,
    entry_points: &BTreeSet<String>,
) -> (DimensionScore, Vec<Finding>) {
    if python_files(dir).is_empty() {
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
