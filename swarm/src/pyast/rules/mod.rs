//! The review's rules, one per file. Each says what it finds, why it matters and shows an
//! example; each has its fixture (a test with a project that has the problem and one that
//! does not). [`all`] runs them in order over the parsed project.

pub(super) mod arity;
mod duplicates;
mod stubs;
mod syntax;
mod unwired;

use super::{Finding, Module};
use std::collections::BTreeSet;

/// Every rule's findings over `modules` (`entry_points`: files the commands run directly).
pub(super) fn all(modules: &[Module], entry_points: &BTreeSet<String>) -> Vec<Finding> {
    let mut findings = syntax::check(modules);
    findings.extend(unwired::check(modules, entry_points));
    findings.extend(duplicates::check(modules));
    findings.extend(stubs::check(modules));
    findings.extend(arity::call_arity(modules));
    findings
}

/// A fixture: the project `files` (path, source) written to a temporary directory and
/// reviewed, as (kind name, file, line) of each finding.
#[cfg(test)]
pub(super) fn review(
    files: &[(&str, &str)],
    entry_points: &[&str],
) -> Vec<(String, String, usize)> {
    let Ok(dir) = tempfile::tempdir() else {
        return Vec::new();
    };
    for (path, source) in files {
        let _ = crate::fsutil::write_inside(dir.path(), path, source.as_bytes());
    }
    let entries: BTreeSet<String> = entry_points.iter().map(|e| e.to_string()).collect();
    super::find_issues(dir.path(), &entries)
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.kind.name().to_string(), f.file, f.line))
        .collect()
}
