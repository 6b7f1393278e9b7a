//! The `smoke` gate for a TypeScript app, in a fresh copy and sealed: `tsc` compiles and
//! type-checks it (the compiler from the cache, see [`crate::toolchain`]), then `node --test`
//! runs the compiled tests. The compiler's first error is a finding at its file and line, a
//! failing test a finding at the line the test runner names; Node or the compiler missing is
//! inconclusive with that reason.
//!
//! [`compile_typescript`] is also the step that lets the acceptance commands and the gym's
//! hidden checks run `node dist/cli.js`: it compiles whatever TypeScript a directory holds,
//! in place.

use super::*;
use crate::sandbox::{Limits, Sandbox, SandboxCommand, SandboxError, SandboxOutcome};
use crate::spec::Spec;
use crate::toolchain::{typescript_sources, TypeScript};
use std::path::Path;
use std::time::Duration;

/// Most files looked at for sources.
const SOURCE_LIMIT: usize = 20_000;

/// How compiling a directory's TypeScript went.
#[derive(Debug)]
pub enum Compiled {
    /// The directory holds no TypeScript sources: nothing to do.
    NoSources,
    /// The compiler (or Node, or an npm package the app imports) is not installed: why.
    ToolMissing(String),
    /// The compiler ran: what it printed and how it exited (it writes JavaScript even for
    /// sources with type errors, so the commands can still run).
    Ran(SandboxOutcome),
}

/// Compiles the TypeScript in `dir` in place (its `tsconfig.json`, else every source into
/// `dist/`), sealed, within `wall`, after deleting the JavaScript an earlier compile left in
/// the output folder. `dir` is always a copy of an app.
pub async fn compile_typescript(
    sandbox: &Sandbox,
    dir: &Path,
    wall: Duration,
) -> Result<Compiled, SandboxError> {
    let sources = typescript_sources(dir, SOURCE_LIMIT);
    if sources.is_empty() {
        return Ok(Compiled::NoSources);
    }
    // JavaScript an earlier compile left must never answer for these sources.
    crate::toolchain::clear_typescript_output(dir).map_err(|source| SandboxError::Prepare {
        what: format!("{} (deleting an earlier compile's output)", dir.display()),
        source,
    })?;
    let typescript = match TypeScript::locate() {
        Ok(found) => found,
        Err(why) => return Ok(Compiled::ToolMissing(why)),
    };
    if !crate::sandbox::seal::host_has("node") {
        return Ok(Compiled::ToolMissing(
            "node is not installed on this machine".into(),
        ));
    }
    let command = typescript.compile_command(dir.join("tsconfig.json").is_file(), &sources);
    let limits = Limits {
        wall,
        cpu_seconds: wall.as_secs().max(1) * 2,
        ..Limits::default()
    };
    let outcome = sandbox
        .run(&SandboxCommand::shell(format!("{command} 2>&1"), dir).with_limits(limits))
        .await?;
    // An npm package the app imports is not installed, and nothing can be downloaded: what
    // the app would do with it cannot be judged here.
    let missing = missing_packages(&outcome.stdout.text());
    if outcome.exit_code != Some(0) && !missing.is_empty() {
        return Ok(Compiled::ToolMissing(format!(
            "the app imports npm package(s) not installed here ({}); nothing can be downloaded in the sandbox, so vendor them into node_modules/ or use Node's built-in modules",
            missing.join(", ")
        )));
    }
    Ok(Compiled::Ran(outcome))
}

pub(super) async fn smoke_ts(
    sandbox: &Sandbox,
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let copy = fresh_copy(project, spec)?;
    // Compiling takes longer than importing: the command timeout times six.
    let wall = options.timeout * 6;
    let mut push = |kind, site: Option<(String, usize)>, message: String, evidence, severity| {
        report.findings.push(Finding {
            gate: Gate::Smoke,
            kind,
            file: site.as_ref().map(|s| s.0.clone()).unwrap_or_default(),
            line: site.map(|s| s.1),
            message,
            evidence,
            severity,
        })
    };
    let (verdict, summary) = match compile_typescript(sandbox, copy.path(), wall).await? {
        Compiled::NoSources => {
            push(
                FindingKind::CompileError,
                None,
                "a TypeScript app needs .ts sources; there are none".into(),
                String::new(),
                Severity::Fail,
            );
            (
                Verdict::Fail,
                "no TypeScript sources: nothing to compile".into(),
            )
        }
        Compiled::ToolMissing(why) => {
            push(
                FindingKind::ToolMissing,
                None,
                why.clone(),
                String::new(),
                Severity::Inconclusive,
            );
            (Verdict::Inconclusive, why)
        }
        Compiled::Ran(outcome) if outcome.timed_out => {
            push(
                FindingKind::Timeout,
                None,
                "tsc did not finish in time".into(),
                String::new(),
                Severity::Fail,
            );
            (Verdict::Fail, "tsc timed out".into())
        }
        Compiled::Ran(outcome) if outcome.exit_code != Some(0) => {
            let output = outcome.stdout.text();
            let (site, first) = tsc_error(&output, copy.path());
            push(
                FindingKind::CompileError,
                site,
                format!("the app does not compile: {first}"),
                error_lines(&output),
                Severity::Fail,
            );
            (Verdict::Fail, "tsc: the app does not compile".into())
        }
        Compiled::Ran(_) => {
            let limits = Limits {
                wall,
                cpu_seconds: wall.as_secs().max(1) * 2,
                ..Limits::default()
            };
            let outcome = sandbox
                .run(
                    &SandboxCommand::shell("node --test --test-reporter=tap 2>&1", copy.path())
                        .with_limits(limits),
                )
                .await?;
            let output = outcome.stdout.text();
            let count = |key: &str| {
                output
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("# {key} ")))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or(0)
            };
            let (passed, failed) = (count("pass"), count("fail"));
            if outcome.timed_out {
                push(
                    FindingKind::Timeout,
                    None,
                    "node --test did not finish in time".into(),
                    String::new(),
                    Severity::Fail,
                );
                (Verdict::Fail, "node --test timed out".into())
            } else if outcome.exit_code == Some(0) {
                (
                    Verdict::Pass,
                    format!("tsc: compiled; node --test: {passed} test(s) passed"),
                )
            } else {
                let (site, name) = failing_test(&output, copy.path());
                push(
                    FindingKind::TestFailure,
                    site,
                    format!("the app's tests fail: {name}"),
                    excerpt(&output, 30),
                    Severity::Fail,
                );
                (
                    Verdict::Fail,
                    format!("node --test: {failed} failed, {passed} passed"),
                )
            }
        }
    };
    report.gates.push(GateResult {
        gate: Gate::Smoke,
        verdict,
        summary,
    });
    Ok(())
}

/// The compiler's first error: its site (a file of the app) and its line of text.
fn tsc_error(output: &str, root: &Path) -> (Option<(String, usize)>, String) {
    let Ok(pattern) = regex::Regex::new(r"(?m)^(.+?)\((\d+),\d+\): error (TS\d+: .*)$") else {
        return (None, "error".into());
    };
    match pattern.captures(output) {
        Some(found) => {
            let site = project_file(root, &inside(root, &found[1])).zip(found[2].parse().ok());
            (site, found[3].to_string())
        }
        None => (
            None,
            output
                .lines()
                .find(|l| l.contains("error"))
                .unwrap_or("tsc exited with an error")
                .to_string(),
        ),
    }
}

/// The npm packages the compiler could not find (`error TS2307: Cannot find module 'x'` for a
/// bare name, not a relative path or a `node:` built-in), sorted, without repeats.
fn missing_packages(output: &str) -> Vec<String> {
    let Ok(pattern) = regex::Regex::new(r"error TS2307: Cannot find module '([^']+)'") else {
        return Vec::new();
    };
    let mut found: Vec<String> = pattern
        .captures_iter(output)
        .map(|c| c[1].to_string())
        .filter(|m| !m.starts_with('.') && !m.starts_with('/') && !m.starts_with("node:"))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The compiler's error lines, at most twenty.
fn error_lines(output: &str) -> String {
    let errors: Vec<&str> = output.lines().filter(|l| l.contains("error")).collect();
    let shown = errors.len().min(20);
    let mut text = errors[..shown].join("\n");
    if errors.len() > shown {
        text.push_str(&format!("\n... and {} more", errors.len() - shown));
    }
    text
}

/// The first failing test of a TAP report: where it failed (a file of the app, from its
/// `location:`) and its name.
fn failing_test(output: &str, root: &Path) -> (Option<(String, usize)>, String) {
    let mut lines = output
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("not ok "));
    let Some(first) = lines.next() else {
        return (None, "node --test exited with an error".into());
    };
    let name = first
        .trim_start()
        .trim_start_matches("not ok ")
        .split_once(" - ")
        .map_or(first.trim(), |(_, name)| name)
        .to_string();
    let site = lines
        .take_while(|l| {
            !l.trim_start().starts_with("ok ") && !l.trim_start().starts_with("not ok ")
        })
        .find_map(|l| l.trim().strip_prefix("location: "))
        .and_then(|location| {
            let location = location.trim_matches('\'');
            let mut parts = location.rsplitn(3, ':');
            let _column = parts.next()?;
            let line = parts.next()?.parse().ok()?;
            Some((project_file(root, &inside(root, parts.next()?))?, line))
        });
    (site, name)
}

/// `path` relative to `root` when it lies inside it (the sandbox shows the app at its
/// canonical path), else as given.
fn inside(root: &Path, path: &str) -> String {
    let roots = [Some(root.to_path_buf()), root.canonicalize().ok()];
    roots
        .iter()
        .flatten()
        .find_map(|r| Path::new(path).strip_prefix(r).ok())
        .map_or(path.to_string(), |p| p.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compilers_first_error_is_found_at_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        crate::fsutil::write_inside(dir.path(), "src/ledger.ts", b"x").unwrap();
        let output = "src/ledger.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'.\ncli.ts(3,1): error TS2304: Cannot find name 'foo'.\n";
        let (site, first) = tsc_error(output, dir.path());
        assert_eq!(site, Some(("src/ledger.ts".into(), 12)));
        assert!(first.starts_with("TS2322: Type 'string'"), "{first}");
        // A file that is not the app's is not named.
        let (site, _) = tsc_error("/usr/lib/x.d.ts(1,1): error TS1: no\n", dir.path());
        assert_eq!(site, None);
        assert_eq!(error_lines(output).lines().count(), 2);
    }

    #[test]
    fn a_package_that_is_not_installed_is_named_and_a_missing_local_file_is_not() {
        let output = "cli.ts(1,20): error TS2307: Cannot find module 'chalk' or its corresponding type declarations.\ncli.ts(2,20): error TS2307: Cannot find module './lib.js' or its corresponding type declarations.\nsrc/a.ts(1,1): error TS2307: Cannot find module 'chalk' or its corresponding type declarations.\nsrc/b.ts(1,1): error TS2307: Cannot find module '@scope/pkg' or its corresponding type declarations.\n";
        assert_eq!(missing_packages(output), vec!["@scope/pkg", "chalk"]);
        assert!(
            missing_packages("cli.ts(2,20): error TS2307: Cannot find module './lib.js'.")
                .is_empty()
        );
    }

    #[test]
    fn a_failing_test_is_named_at_the_location_node_reports() {
        let dir = tempfile::tempdir().unwrap();
        crate::fsutil::write_inside(dir.path(), "dist/lib.test.js", b"x").unwrap();
        let root = dir.path().canonicalize().unwrap();
        let output = format!(
            "TAP version 13\n# Subtest: adds\nok 1 - adds\n  ---\n  ...\n# Subtest: totals\nnot ok 2 - totals add up\n  ---\n  location: '{}/dist/lib.test.js:40:22'\n  error: |-\n    3 !== 4\n",
            root.display()
        );
        let (site, name) = failing_test(&output, &root);
        assert_eq!(name, "totals add up");
        assert_eq!(site, Some(("dist/lib.test.js".into(), 40)));
        assert_eq!(failing_test("1..0\n", &root).0, None);
    }
}
