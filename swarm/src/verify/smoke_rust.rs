//! The `smoke` gate for a Rust app: `cargo test --offline` in a fresh copy, sealed (the
//! sandbox admits the toolchain's sysroot read-only). It builds the crate and its tests, then
//! runs them: the compiler's first error is a finding at its file and line, a failing test is
//! a finding at the line that panicked, cargo missing or a dependency that is not cached
//! (nothing can be downloaded) is inconclusive with that reason.

use super::*;
use crate::sandbox::{Limits, Sandbox, SandboxCommand};
use crate::spec::Spec;
use std::path::Path;

pub(super) async fn smoke_rust(
    sandbox: &Sandbox,
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    if !project.join("Cargo.toml").is_file() {
        report.findings.push(Finding {
            gate: Gate::Smoke,
            kind: FindingKind::CompileError,
            file: "Cargo.toml".into(),
            line: None,
            message: "a Rust app needs a Cargo.toml at its root; there is none".into(),
            evidence: String::new(),
            severity: Severity::Fail,
        });
        report.gates.push(GateResult {
            gate: Gate::Smoke,
            verdict: Verdict::Fail,
            summary: "no Cargo.toml: nothing to build".into(),
        });
        return Ok(());
    }
    let copy = work_copy(project, spec, options)?;
    // Building takes longer than importing: the command timeout times six.
    let limits = Limits {
        wall: options.timeout * 6,
        cpu_seconds: options.timeout.as_secs().max(1) * 12,
        ..Limits::default()
    };
    let mut command = SandboxCommand::shell(
        "cargo test --offline --quiet --color never 2>&1",
        copy.path(),
    )
    .with_limits(limits)
    .with_cargo_target(copy.cargo_target().as_deref());
    command
        .env
        .push(("CARGO_TERM_COLOR".into(), "never".into()));
    let outcome = sandbox.run(&command).await?;
    let output = outcome.stdout.text();
    let (verdict, summary) = judge(&output, outcome.exit_code, outcome.timed_out, report);
    report.gates.push(GateResult {
        gate: Gate::Smoke,
        verdict,
        summary,
    });
    Ok(())
}

/// What `cargo test`'s output and exit say, with the findings it adds to `report`.
fn judge(
    output: &str,
    exit: Option<i32>,
    timed_out: bool,
    report: &mut VerifyReport,
) -> (Verdict, String) {
    let mut push = |kind: FindingKind, site: Option<(String, usize)>, message: String, severity| {
        report.findings.push(Finding {
            gate: Gate::Smoke,
            kind,
            file: site.as_ref().map(|s| s.0.clone()).unwrap_or_default(),
            line: site.map(|s| s.1),
            message,
            evidence: error_block(output),
            severity,
        })
    };
    if timed_out {
        push(
            FindingKind::Timeout,
            None,
            "cargo test did not finish in time".into(),
            Severity::Fail,
        );
        return (Verdict::Fail, "cargo test timed out".into());
    }
    let passed: usize = output
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum();
    match exit {
        Some(0) => (
            Verdict::Pass,
            format!("cargo test: built; {passed} test(s) passed"),
        ),
        Some(127) => {
            push(
                FindingKind::ToolMissing,
                None,
                "cargo is not installed on this machine".into(),
                Severity::Inconclusive,
            );
            (
                Verdict::Inconclusive,
                "cargo is not installed on this machine".into(),
            )
        }
        _ if output.contains("offline") && !output.contains("error[E") => {
            push(
                FindingKind::ToolMissing,
                None,
                "a dependency is not cached here and nothing can be downloaded".into(),
                Severity::Inconclusive,
            );
            (
                Verdict::Inconclusive,
                "dependencies not cached (offline): the crate was not built".into(),
            )
        }
        _ if output.contains("error[E") || output.contains("error: could not compile") => {
            let site = compiler_site(output);
            let first = output
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("error")
                .to_string();
            push(
                FindingKind::CompileError,
                site,
                format!("the crate does not compile: {first}"),
                Severity::Fail,
            );
            (
                Verdict::Fail,
                "cargo test: the crate does not compile".into(),
            )
        }
        _ => {
            let site = panic_site(output);
            push(
                FindingKind::TestFailure,
                site,
                "the crate's tests fail".into(),
                Severity::Fail,
            );
            (
                Verdict::Fail,
                format!("cargo test: built; tests fail ({passed} passed)"),
            )
        }
    }
}

/// The first `--> path:line:col` of the compiler's errors (a path inside the crate).
fn compiler_site(output: &str) -> Option<(String, usize)> {
    let pattern = regex::Regex::new(r"(?m)^\s*--> ([^:\s]+):(\d+):\d+").ok()?;
    let captures = pattern.captures(output)?;
    let file = captures.get(1)?.as_str();
    (!file.starts_with('/')).then(|| (file.to_string(), captures[2].parse().unwrap_or(0)))
}

/// Where the first failing test panicked (`panicked at src/lib.rs:12:5`).
fn panic_site(output: &str) -> Option<(String, usize)> {
    let pattern = regex::Regex::new(r"panicked at ([^:\s]+):(\d+):\d+").ok()?;
    let captures = pattern.captures(output)?;
    let file = captures.get(1)?.as_str();
    (!file.starts_with('/')).then(|| (file.to_string(), captures[2].parse().unwrap_or(0)))
}

/// The output from its first error on, a few lines.
fn error_block(output: &str) -> String {
    let start = output
        .lines()
        .position(|l| l.starts_with("error") || l.contains("panicked at"))
        .unwrap_or(0);
    output
        .lines()
        .skip(start)
        .take(20)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty() -> VerifyReport {
        VerifyReport {
            verdict: Verdict::Inconclusive,
            gates: Vec::new(),
            findings: Vec::new(),
        }
    }

    #[test]
    fn the_compiler_s_first_error_is_a_finding_at_its_file_and_line() {
        let output = "error[E0425]: cannot find value `totl` in this scope\n --> src/report.rs:7:5\n  |\n7 |     totl\n  |     ^^^^ help: a local variable with a similar name exists: `total`\n\nerror: could not compile `ledger` (bin \"ledger\") due to 1 previous error\n";
        let mut report = empty();
        let (verdict, _) = judge(output, Some(101), false, &mut report);
        assert_eq!(verdict, Verdict::Fail);
        let finding = &report.findings[0];
        assert_eq!(finding.kind, FindingKind::CompileError);
        assert_eq!(
            (finding.file.as_str(), finding.line),
            ("src/report.rs", Some(7))
        );
        assert!(finding.message.contains("cannot find value `totl`"));
    }

    #[test]
    fn a_failing_test_a_missing_dependency_and_a_pass_are_told_apart() {
        let failing = "running 2 tests\ntest tests::adds ... ok\n\nthread 'tests::totals' panicked at src/lib.rs:31:9:\nassertion `left == right` failed\ntest result: FAILED. 1 passed; 1 failed; 0 ignored\n";
        let mut report = empty();
        assert_eq!(
            judge(failing, Some(101), false, &mut report).0,
            Verdict::Fail
        );
        assert_eq!(report.findings[0].kind, FindingKind::TestFailure);
        assert_eq!(report.findings[0].line, Some(31));
        let offline = "error: failed to get `serde` as a dependency of package `x v0.1.0`\n\nCaused by:\n  attempting to make an HTTP request, but --offline was specified\n";
        let mut report = empty();
        assert_eq!(
            judge(offline, Some(101), false, &mut report).0,
            Verdict::Inconclusive
        );
        let ok = "running 3 tests\n...\ntest result: ok. 3 passed; 0 failed\n\nrunning 0 tests\ntest result: ok. 0 passed; 0 failed\n";
        let mut report = empty();
        let (verdict, summary) = judge(ok, Some(0), false, &mut report);
        assert_eq!(verdict, Verdict::Pass);
        assert!(summary.contains("3 test(s) passed"), "{summary}");
        assert!(report.findings.is_empty());
    }
}
