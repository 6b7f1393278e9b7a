//! The `diagnostics` dimension: static findings over the produced code, from the swarm's
//! tree-sitter reviews (Python: [`swarm::pyast`]; TypeScript and Rust: [`swarm::review`]; no
//! code is run).
//!
//! Score: 10 − 3 × syntax errors − 2 × unwired modules − 2 × calls that cannot bind −
//! 2 × imports of names a project module lacks − 2 × functions implemented twice in two
//! modules − 2 × SQL names the schema lacks − 1 × stubs − 1 × duplicate definitions in one
//! module (warnings count too: they are findings a careful author would not leave), floored at
//! 0. A project with no source file at all scores 0; one written in a language no review reads
//! (JavaScript files only, say) is left empty: a score of 0 would be a false red. A project is
//! read as Python when it has Python files, else as TypeScript when it has TypeScript
//! sources, else as Rust when it has a Cargo.toml or `.rs` files.

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

/// The language a project with no Python is written in, when a review reads it.
fn reviewed_language(dir: &Path) -> Option<swarm::spec::Language> {
    if !swarm::toolchain::typescript_sources(dir, 10_000).is_empty() {
        Some(swarm::spec::Language::TypeScript)
    } else if dir.join("Cargo.toml").is_file()
        || other_language_file(dir).is_some_and(|f| f.ends_with(".rs"))
    {
        Some(swarm::spec::Language::Rust)
    } else {
        None
    }
}

/// The `diagnostics` dimension and its findings.
pub fn diagnostics_score(
    dir: &Path,
    entry_points: &BTreeSet<String>,
) -> (DimensionScore, Vec<Finding>) {
    let (findings, language) = if !python_files(dir).is_empty() {
        let Some(findings) = find_issues(dir, entry_points) else {
            return (
                DimensionScore::missing("diagnostics", "the Python grammar could not be loaded"),
                Vec::new(),
            );
        };
        (findings, "Python")
    } else if let Some(language) = reviewed_language(dir) {
        let Some((_, findings)) = swarm::review::review(language, dir, entry_points) else {
            return (
                DimensionScore::missing(
                    "diagnostics",
                    format!("the {} grammar could not be loaded", language.title()),
                ),
                Vec::new(),
            );
        };
        (findings, language.title())
    } else if let Some(other) = other_language_file(dir) {
        return (
            DimensionScore::missing(
                "diagnostics",
                format!("no review reads this project's language yet ({other}): Python, TypeScript and Rust are read"),
            ),
            Vec::new(),
        );
    } else {
        return (
            DimensionScore::scored("diagnostics", 0.0, "no source file was produced"),
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
        "{language}: {} syntax error(s), {} unwired module(s), {} call(s) that cannot bind, {} broken import(s), {} copied implementation(s), {} SQL name(s) not in the schema, {} stub(s), {} duplicate definition(s)",
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
    fn code_no_review_reads_is_left_empty_and_no_code_at_all_scores_zero() {
        let dir = tempfile::tempdir().unwrap();
        let (score, _) = diagnostics_score(dir.path(), &BTreeSet::new());
        assert_eq!(score.score, Some(0.0), "nothing produced");
        std::fs::write(dir.path().join("app.js"), "console.log(1);\n").unwrap();
        let (score, _) = diagnostics_score(dir.path(), &BTreeSet::new());
        assert_eq!(score.score, None, "{}", score.evidence);
        assert!(score.evidence.contains("app.js"), "{}", score.evidence);
    }

    #[test]
    fn rust_and_typescript_projects_are_scored_by_their_review() {
        let rust = tempfile::tempdir().unwrap();
        let write = |dir: &Path, file: &str, text: &str| {
            swarm::write_inside(dir, file, text.as_bytes()).unwrap();
        };
        write(
            rust.path(),
            "Cargo.toml",
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
        );
        write(rust.path(), "src/main.rs", "fn main() {}\n");
        let (score, _) = diagnostics_score(rust.path(), &BTreeSet::new());
        assert_eq!(score.score, Some(10.0), "{}", score.evidence);
        assert!(score.evidence.starts_with("Rust: "), "{}", score.evidence);
        write(
            rust.path(),
            "src/report.rs",
            "pub fn total() -> u32 {\n    todo!()\n}\n",
        );
        let (score, findings) = diagnostics_score(rust.path(), &BTreeSet::new());
        // Unwired (−2): no `mod report;`; its body is a stub (−1).
        assert_eq!(score.score, Some(7.0), "{}", score.evidence);
        assert_eq!(findings.len(), 2);
        let ts = tempfile::tempdir().unwrap();
        write(
            ts.path(),
            "cli.ts",
            "import { total } from \"./total.js\";\nconsole.log(total());\n",
        );
        write(
            ts.path(),
            "total.ts",
            "export function total(): number {\n  return 1;\n}\n",
        );
        write(ts.path(), "unused.ts", "export const x = 1;\n");
        let entries: BTreeSet<String> = ["dist/cli.js".to_string()].into();
        let (score, _) = diagnostics_score(ts.path(), &entries);
        assert_eq!(score.score, Some(8.0), "{}", score.evidence);
        assert!(score.evidence.contains("unused.ts"), "{}", score.evidence);
    }
}
