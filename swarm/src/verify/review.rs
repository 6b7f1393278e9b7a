//! The `review` gate: the AST review of [`crate::pyast`] — syntax errors, modules built but
//! never wired in, stubs left, calls whose arguments cannot bind to the callee's signature,
//! definitions made twice — as findings of the gate; for TypeScript and Rust, the review of
//! [`crate::review`] (unwired modules, stubs, copies; the compiler judges syntax and calls).

use super::*;
use crate::pyast;
use crate::spec::Spec;
use std::path::Path;

pub(super) fn review(
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
    report: &mut VerifyReport,
) {
    if spec.language != crate::spec::Language::Python {
        return review_other(project, spec, options, report);
    }
    let scope = pyast::ReviewScope {
        entry_points: entry_files(spec, options),
        to_fill: options.to_fill.clone(),
    };
    let Some(issues) = pyast::review_project(project, &scope) else {
        report.gates.push(GateResult {
            gate: Gate::Review,
            verdict: Verdict::Inconclusive,
            summary: "the Python grammar could not be loaded".into(),
        });
        return;
    };
    let reviewed = pyast::python_files(project).len();
    record(project, issues, reviewed, "Python", report);
}

/// The review of a TypeScript or Rust app ([`crate::review`]).
fn review_other(project: &Path, spec: &Spec, options: &VerifyOptions, report: &mut VerifyReport) {
    let entry_points = spec
        .acceptance
        .iter()
        .map(|s| s.command.as_str())
        .chain(options.entry.as_deref())
        .flat_map(crate::review::sources_run_by)
        .collect();
    let title = spec.language.title();
    match crate::review::review(spec.language, project, &entry_points) {
        Some((reviewed, issues)) => record(project, issues, reviewed, title, report),
        None => report.gates.push(GateResult {
            gate: Gate::Review,
            verdict: Verdict::Inconclusive,
            summary: format!("the {title} grammar could not be loaded"),
        }),
    }
}

/// The review's findings and its gate: fail on any failing finding, inconclusive when no file
/// was read.
fn record(
    project: &Path,
    issues: Vec<pyast::Finding>,
    reviewed: usize,
    language: &str,
    report: &mut VerifyReport,
) {
    let mut failed = 0;
    for issue in issues {
        let severity = if issue.warning {
            Severity::Warning
        } else {
            failed += 1;
            Severity::Fail
        };
        let evidence = std::fs::read_to_string(project.join(&issue.file))
            .ok()
            .and_then(|source| {
                source
                    .lines()
                    .nth(issue.line.saturating_sub(1))
                    .map(|l| l.trim().to_string())
            })
            .unwrap_or_default();
        report.findings.push(Finding {
            gate: Gate::Review,
            kind: issue.kind,
            file: issue.file,
            line: Some(issue.line),
            message: issue.message,
            evidence,
            severity,
        });
    }
    report.gates.push(GateResult {
        gate: Gate::Review,
        verdict: if failed > 0 {
            Verdict::Fail
        } else if reviewed == 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        },
        summary: format!("{reviewed} {language} file(s) reviewed, {failed} failing finding(s)"),
    });
}
