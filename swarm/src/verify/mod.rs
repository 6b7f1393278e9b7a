//! VERIFY: the gates that decide whether a built app works, all run in the sandbox on a fresh
//! copy of the project.
//!
//! - `smoke`: import every module (entry scripts are only compiled, so they do not run
//!   without their arguments), then run the generated tests (pytest; missing: inconclusive);
//! - `review`: the AST review of [`crate::pyast`] — syntax errors, modules built but never
//!   wired in, stubs left, calls whose arguments cannot bind to the callee's signature;
//! - `acceptance`: the spec's console commands, exactly, in order, in one fresh directory
//!   with the fixtures written: the golden check.
//!
//! The verdict is `pass` only when the acceptance commands passed and no gate failed; a
//! missing tool makes a gate inconclusive, never red.

mod acceptance;
mod copies;
mod review;
mod smoke;
mod smoke_rust;
mod smoke_ts;

use smoke::tail;

pub use acceptance::{run_step, StepResult};
pub use smoke_ts::{compile_typescript, Compiled};

use crate::sandbox::{Sandbox, SandboxOutcome};
use crate::spec::{Language, Spec};
use copies::{fresh_copy, work_copy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An oracle's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Proven to work.
    Pass,
    /// Proven not to work.
    Fail,
    /// Could not be decided (a tool is missing, nothing to run).
    Inconclusive,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        })
    }
}

/// The gates of VERIFY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gate {
    /// BUILD itself (a planned task that never merged).
    Build,
    /// Imports, compiles and the app's own tests.
    Smoke,
    /// The static review of the code (tree-sitter).
    Review,
    /// The spec's exact commands.
    Acceptance,
}

crate::named!(Gate { Build => "build", Smoke => "smoke", Review => "review", Acceptance => "acceptance" });

/// What kind of problem a finding is (of the gates, of the review, of the pipeline itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A module does not import or compile.
    ImportError,
    /// The app's own tests fail.
    TestFailure,
    /// A module nothing imports or runs.
    UnwiredModule,
    /// A body that still holds a placeholder.
    Stub,
    /// A call whose arguments cannot bind to the definition.
    CallArity,
    /// Code that does not parse.
    SyntaxError,
    /// The same name defined twice at the top of a module.
    DuplicateDefinition,
    /// The same function or class implemented as copies in two modules.
    DuplicateImplementation,
    /// SQL in the code names a table or column the frozen schema.sql does not declare.
    SqlSchemaMismatch,
    /// An acceptance command printed something else.
    AcceptanceMismatch,
    /// An acceptance command exited with another code.
    ExitCode,
    /// An entry died of an uncaught exception, or `python -m` named a package it cannot run.
    EntryCrash,
    /// A command ran out of time.
    Timeout,
    /// A tool the command needs is not on this machine (inconclusive, never red).
    ToolMissing,
    /// A planned task never merged.
    TaskUnfinished,
    /// A compiled language's compiler refused the code (its first error, at its file and line).
    CompileError,
}

crate::named!(FindingKind {
    ImportError => "import_error",
    TestFailure => "test_failure",
    UnwiredModule => "unwired_module",
    Stub => "stub",
    CallArity => "call_arity",
    SyntaxError => "syntax_error",
    DuplicateDefinition => "duplicate_definition",
    DuplicateImplementation => "duplicate_implementation",
    SqlSchemaMismatch => "sql_schema_mismatch",
    AcceptanceMismatch => "acceptance_mismatch",
    ExitCode => "exit_code",
    EntryCrash => "entry_crash",
    Timeout => "timeout",
    ToolMissing => "tool_missing",
    TaskUnfinished => "task_unfinished",
    CompileError => "compile_error",
});

/// One thing a gate found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The gate that found it.
    pub gate: Gate,
    /// What kind of problem it is.
    pub kind: FindingKind,
    /// Relative path of the file it is about (empty when none is known).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// Output or code that shows it.
    pub evidence: String,
    /// Whether it fails the app, leaves it undecided, or is only reported.
    pub severity: Severity,
}

/// How much a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the verdict.
    Fail,
    /// Makes the gate inconclusive.
    Inconclusive,
    /// Reported only.
    Warning,
}

/// One gate's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    /// Name.
    pub gate: Gate,
    /// Its answer.
    pub verdict: Verdict,
    /// One line on what it did.
    pub summary: String,
}

/// Everything VERIFY found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The overall verdict.
    pub verdict: Verdict,
    /// Each oracle.
    pub gates: Vec<GateResult>,
    /// Every finding.
    pub findings: Vec<Finding>,
}

/// Which gates run and how patient they are.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Run the smoke gate.
    pub smoke: bool,
    /// Run the AST review.
    pub review: bool,
    /// Run the spec's acceptance commands (off only for the pipeline's early look at an app
    /// still being built, whose verdict is never the run's).
    pub acceptance: bool,
    /// Limit of one command.
    pub timeout: Duration,
    /// The app's entry command, when a plan gave one.
    pub entry: Option<String>,
    /// Functions the contract froze as placeholders to fill: (file, `name` or
    /// `Class.method`). The review calls one still a placeholder a stub, whatever it looks like.
    pub to_fill: BTreeSet<(String, String)>,
    /// A Rust app's build cache between verifications of it (`None`: every build starts
    /// cold in a temporary copy): its `app/` is the copy the gates run in, at the same path
    /// every time (cargo rebuilds a vendored dependency whose path changed), and `target/`
    /// is cargo's build. The pipeline keeps one per app under `.swarm/`, so fix rounds and
    /// later turns compile only the app: its sources are copied afresh, newer than any build,
    /// so the app itself is always compiled again, and its dependencies are reused. The gym's
    /// grading never uses one: what an app's build wrote must not reach the next turn's
    /// grading.
    pub rust_cache: Option<PathBuf>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            smoke: true,
            review: true,
            acceptance: true,
            timeout: Duration::from_secs(30),
            entry: None,
            to_fill: BTreeSet::new(),
            rust_cache: None,
        }
    }
}

/// Verification could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Copying the project failed.
    #[error("cannot copy the project for verification: {0}")]
    Io(#[from] std::io::Error),
    /// The sandbox could not start.
    #[error("sandbox: {0}")]
    Sandbox(#[from] crate::sandbox::SandboxError),
}

/// The program a shell command starts, past `VAR=value` assignments.
pub fn program_of(command: &str) -> Option<&str> {
    command
        .split_whitespace()
        .find(|word| !word.contains('=') || word.starts_with('='))
}

/// Why the command's exit 127 means a tool is missing on this machine (neither on PATH nor a
/// path into the project), which says nothing about the code under test.
pub fn tool_missing(command: &str, outcome: &SandboxOutcome) -> Option<String> {
    if outcome.exit_code != Some(127) {
        return None;
    }
    let program = program_of(command)?;
    if program.contains('/') {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let host = std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file());
    let builtin = matches!(
        program,
        "cd" | "echo" | "test" | "[" | "true" | "false" | "export" | "printf"
    );
    if builtin {
        return None;
    }
    let Some(host) = host else {
        return Some(format!("`{program}` is not installed on this machine"));
    };
    // On this machine but not inside the sandbox (the shell there says it found no such
    // program): a toolchain the sandbox does not admit, not a fault of the app.
    let stderr = outcome.stderr.text();
    let unseen = [": not found", ": command not found"]
        .iter()
        .any(|tail| stderr.contains(&format!("{program}{tail}")));
    unseen.then(|| {
        format!(
            "`{program}` is at {} on this machine but not inside the sandbox, which does not admit it",
            host.display()
        )
    })
}

/// The first lines of a text.
pub fn excerpt(text: &str, lines: usize) -> String {
    text.lines().take(lines).collect::<Vec<_>>().join("\n")
}

/// How a command ended against the exit code expected, with its output.
pub fn describe_exit(
    command: &str,
    outcome: &SandboxOutcome,
    expected: i32,
    wall: Duration,
) -> String {
    let how = if outcome.timed_out {
        format!("timed out after {}s", wall.as_secs())
    } else {
        match outcome.exit_code {
            Some(code) => format!("exited {code}, expected {expected}"),
            None => format!("was killed by signal {}", outcome.signal.unwrap_or(0)),
        }
    };
    format!(
        "`{command}` {how}\nstdout:\n{}\nstderr:\n{}",
        excerpt(&outcome.stdout.text(), 15),
        excerpt(&outcome.stderr.text(), 15)
    )
}

/// `candidate` as a file of the project under `root`: a relative path without `..` naming a
/// regular file there (not a link). Anything else (a standard-library path, a package's
/// dotted name, a file outside the app) is not a project file and no finding names it.
fn project_file(root: &Path, candidate: &str) -> Option<String> {
    let candidate = candidate.trim_start_matches("./");
    if crate::fsutil::outside_path_reason(candidate).is_some() {
        return None;
    }
    let meta = std::fs::symlink_metadata(root.join(candidate)).ok()?;
    meta.is_file().then(|| candidate.to_string())
}

/// The deepest frame of a Python traceback inside the project: (relative file, line).
pub fn traceback_site(stderr: &str, root: &Path) -> Option<(String, usize)> {
    let pattern = regex::Regex::new(r#"File "([^"]+)", line (\d+)"#).ok()?;
    let root_text = root.to_string_lossy().to_string();
    pattern
        .captures_iter(stderr)
        .filter_map(|caps| {
            let path = caps.get(1)?.as_str();
            let line = caps.get(2)?.as_str().parse().ok()?;
            let relative = path.strip_prefix(&format!("{root_text}/")).unwrap_or(path);
            project_file(root, relative).map(|file| (file, line))
        })
        .last()
}

fn is_test_file(file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.starts_with("test_")
        || name.ends_with("_test.py")
        || file.starts_with("tests/")
        || name == "conftest.py"
}

/// Files the commands run directly (they are compiled, not imported).
fn entry_files(spec: &Spec, options: &VerifyOptions) -> BTreeSet<String> {
    let mut files: BTreeSet<String> = spec
        .acceptance
        .iter()
        .flat_map(|s| crate::plan::files_run_by(&s.command))
        .collect();
    if let Some(entry) = &options.entry {
        files.extend(crate::plan::files_run_by(entry));
    }
    files
}

/// Runs the gates on `project` against `spec`.
pub async fn verify(
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
    sandbox: &Sandbox,
) -> Result<VerifyReport, VerifyError> {
    let mut report = VerifyReport {
        verdict: Verdict::Inconclusive,
        gates: Vec::new(),
        findings: Vec::new(),
    };
    if options.smoke {
        match spec.language {
            Language::Python => smoke::smoke(sandbox, project, spec, options, &mut report).await?,
            Language::Rust => {
                smoke_rust::smoke_rust(sandbox, project, spec, options, &mut report).await?
            }
            Language::TypeScript => {
                smoke_ts::smoke_ts(sandbox, project, spec, options, &mut report).await?
            }
        }
    }
    if options.review {
        review::review(project, spec, options, &mut report);
    }
    if options.acceptance {
        acceptance::acceptance(sandbox, project, spec, options, &mut report).await?;
    }
    let any_fail = report.gates.iter().any(|g| g.verdict == Verdict::Fail);
    let accepted = report
        .gates
        .iter()
        .any(|g| g.gate == "acceptance" && g.verdict == Verdict::Pass);
    report.verdict = if any_fail {
        Verdict::Fail
    } else if accepted {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::smoke::pytest_failure_site;
    use super::*;

    #[test]
    fn the_program_skips_assignments() {
        assert_eq!(program_of("LANG=C python3 app.py"), Some("python3"));
        assert_eq!(program_of("./run.sh x"), Some("./run.sh"));
    }

    #[test]
    fn traceback_sites_are_the_deepest_project_frame() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "x\n").unwrap();
        std::fs::create_dir(dir.path().join("inv")).unwrap();
        std::fs::write(dir.path().join("inv/report.py"), "x\n").unwrap();
        let root = dir.path().to_string_lossy();
        let stderr = format!(
            "Traceback (most recent call last):\n  File \"{root}/app.py\", line 9, in <module>\n  File \"{root}/inv/report.py\", line 4, in total\n  File \"/usr/lib/python3.11/json/__init__.py\", line 2, in loads\nKeyError: 'x'\n"
        );
        assert_eq!(
            traceback_site(&stderr, dir.path()),
            Some(("inv/report.py".into(), 4))
        );
        assert_eq!(
            traceback_site("File \"app.py\", line 3", dir.path()),
            Some(("app.py".into(), 3))
        );
        assert_eq!(traceback_site("no trace", dir.path()), None);
    }

    #[test]
    fn findings_name_project_files_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "x\n").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("lib.py"), "x\n").unwrap();
        let stdlib = outside.path().join("lib.py").display().to_string();
        // pytest prints a standard-library (absolute) path or one climbing out of the app.
        let output = format!("{stdlib}:12: in loads\n../{}:3: boom\n", "x/lib.py");
        assert_eq!(pytest_failure_site(&output, dir.path()), None);
        let output = format!("app.py:5: AssertionError\n{stdlib}:12: in loads\n");
        assert_eq!(
            pytest_failure_site(&output, dir.path()),
            Some(("app.py".into(), 5))
        );
        assert_eq!(
            traceback_site("File \"../../etc/passwd\", line 1", dir.path()),
            None
        );
        assert_eq!(project_file(dir.path(), "pkg.py"), None, "no such file");
        assert_eq!(project_file(dir.path(), "./app.py"), Some("app.py".into()));
    }

    #[tokio::test]
    async fn a_package_that_fails_to_import_is_named_by_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        // A null byte fails the import inside the interpreter's own code: no traceback frame
        // is in the project, so the finding must name the package's file (never `pkg.py`).
        std::fs::write(dir.path().join("pkg/__init__.py"), "x = 1\0\n").unwrap();
        std::fs::write(dir.path().join("app.py"), "import pkg\n").unwrap();
        let spec = crate::spec::parse_spec(
            "# t\n\n## Acceptance\n\n```console\n$ python3 app.py\n```\n",
            "spec.md",
            false,
        )
        .unwrap();
        let options = VerifyOptions {
            smoke: true,
            review: false,
            timeout: std::time::Duration::from_secs(20),
            ..VerifyOptions::default()
        };
        let report = verify(dir.path(), &spec, &options, Sandbox::detect())
            .await
            .unwrap();
        let files: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.kind.name(), f.file.as_str()))
            .collect();
        assert!(
            files.contains(&("import_error", "pkg/__init__.py")),
            "{files:?}"
        );
        for finding in &report.findings {
            assert!(
                finding.file.is_empty() || dir.path().join(&finding.file).is_file(),
                "{finding:?}"
            );
            let first = finding.message.lines().next().unwrap_or_default();
            let repeated = first.split_once(": ").map_or(first, |(_, rest)| rest);
            assert!(
                repeated.len() < 12 || !finding.evidence.contains(repeated),
                "evidence repeats the message: {finding:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_entry_that_raises_or_a_package_without_main_is_an_entry_crash_at_its_site() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("inv")).unwrap();
        std::fs::write(dir.path().join("inv/__init__.py"), "").unwrap();
        std::fs::write(
            dir.path().join("inv/report.py"),
            "def total(rows):\n    return rows['missing']\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("app.py"),
            "from inv.report import total\n\nprint(total({}))\n",
        )
        .unwrap();
        let options = VerifyOptions {
            smoke: false,
            review: false,
            timeout: std::time::Duration::from_secs(20),
            ..VerifyOptions::default()
        };
        let crash_of = |command: &str| {
            let spec = format!("# t\n\n## Acceptance\n\n```console\n$ {command}\nok\n```\n");
            crate::spec::parse_spec(&spec, "spec.md", false).unwrap()
        };
        let report = verify(
            dir.path(),
            &crash_of("python3 app.py"),
            &options,
            Sandbox::detect(),
        )
        .await
        .unwrap();
        let finding = &report.findings[0];
        assert_eq!(finding.kind, FindingKind::EntryCrash, "{finding:?}");
        assert_eq!(
            (finding.file.as_str(), finding.line),
            ("inv/report.py", Some(2))
        );
        assert!(
            finding.message.contains("KeyError: 'missing'"),
            "{}",
            finding.message
        );
        let report = verify(
            dir.path(),
            &crash_of("python3 -m inv"),
            &options,
            Sandbox::detect(),
        )
        .await
        .unwrap();
        let finding = &report.findings[0];
        assert_eq!(finding.kind, FindingKind::EntryCrash, "{finding:?}");
        assert_eq!(
            (finding.file.as_str(), finding.line),
            ("inv/__init__.py", Some(1))
        );
        assert!(
            finding.message.contains("without __main__.py"),
            "{}",
            finding.message
        );
        // A wrong exit without a traceback stays an exit-code finding, naming no missing file.
        let report = verify(
            dir.path(),
            &crash_of("python3 -m nothing_here"),
            &options,
            Sandbox::detect(),
        )
        .await
        .unwrap();
        let finding = &report.findings[0];
        assert_eq!(finding.kind, FindingKind::ExitCode, "{finding:?}");
        assert_eq!(finding.file, "", "{finding:?}");
    }
}
