//! The `review` gate: the AST review of [`crate::pyast`] — syntax errors, modules built but
//! never wired in, stubs left, calls whose arguments cannot bind to the callee's signature,
//! definitions made twice — as findings of the gate.

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
    let reviewed = pyast::python_files(project).len();
    report.gates.push(GateResult {
        gate: Gate::Review,
        verdict: if failed > 0 {
            Verdict::Fail
        } else if reviewed == 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Pass
        },
        summary: format!(
            "{} Python file(s) reviewed, {failed} failing finding(s)",
            pyast::python_files(project).len()
        ),
    });
}
