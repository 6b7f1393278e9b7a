//! The `smoke` gate: import every module (entry scripts are only compiled, so they do not
//! run without their arguments), then run the generated tests (pytest; missing: inconclusive).

use super::*;
use crate::pyast;
use crate::sandbox::{Limits, Sandbox, SandboxCommand};
use crate::spec::Spec;
use std::collections::BTreeMap;
use std::path::Path;

const IMPORT_SCRIPT: &str = r#"
import importlib, py_compile, sys, traceback
sys.path.insert(0, ".")
for arg in sys.argv[1:]:
    kind, name = arg.split(":", 1)
    try:
        if kind == "compile":
            py_compile.compile(name, doraise=True)
        else:
            importlib.import_module(name)
    except BaseException:
        print("SWARM-FAIL " + arg)
        traceback.print_exc(file=sys.stdout)
        print("SWARM-END")
"#;

pub(super) async fn smoke(
    sandbox: &Sandbox,
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    let files = pyast::python_files(project);
    let entries = entry_files(spec, options);
    let mut args = Vec::new();
    // Which file each smoke argument stands for: a failure with no traceback frame in the
    // project is laid on that file (a package's `__init__.py`, never its dotted name).
    let mut file_of: BTreeMap<String, String> = BTreeMap::new();
    for file in files.iter().filter(|f| !is_test_file(f)) {
        let arg = if entries.contains(file) || file.ends_with("__main__.py") {
            format!("compile:{file}")
        } else {
            format!("import:{}", pyast::module_name(file))
        };
        file_of.insert(arg.clone(), file.clone());
        args.push(arg);
    }
    let limits = Limits {
        wall: options.timeout,
        cpu_seconds: options.timeout.as_secs().max(1) * 2,
        ..Limits::default()
    };
    let copy = fresh_copy(project, spec)?;
    let mut failed = 0;
    if !args.is_empty() {
        let mut command = SandboxCommand::shell("", copy.path()).with_limits(limits.clone());
        command.program = "python3".into();
        command.args = vec!["-c".into(), IMPORT_SCRIPT.into()];
        command.args.extend(args.iter().cloned());
        command
            .env
            .push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        let outcome = sandbox.run(&command).await?;
        if outcome.exit_code == Some(127) {
            report.gates.push(GateResult {
                gate: Gate::Smoke,
                verdict: Verdict::Inconclusive,
                summary: "python3 is not installed on this machine".into(),
            });
            return Ok(());
        }
        let stdout = outcome.stdout.text();
        for block in stdout.split("SWARM-FAIL ").skip(1) {
            let (what, rest) = block.split_once('\n').unwrap_or((block, ""));
            let trace = rest
                .split("SWARM-END")
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let (kind, name) = what.split_once(':').unwrap_or(("import", what));
            let site = traceback_site(&trace, copy.path());
            let file = site
                .as_ref()
                .map(|s| s.0.clone())
                .or_else(|| file_of.get(what.trim()).cloned())
                .unwrap_or_default();
            failed += 1;
            report.findings.push(Finding {
                gate: Gate::Smoke,
                kind: FindingKind::ImportError,
                file,
                line: site.map(|s| s.1),
                message: format!(
                    "{} `{name}` fails",
                    if kind == "compile" {
                        "compiling"
                    } else {
                        "importing"
                    }
                ),
                evidence: excerpt(&trace, 20),
                severity: Severity::Fail,
            });
        }
        if outcome.timed_out {
            failed += 1;
            report.findings.push(Finding {
                gate: Gate::Smoke,
                kind: FindingKind::Timeout,
                file: String::new(),
                line: None,
                message: format!(
                    "importing the modules took over {}s",
                    options.timeout.as_secs()
                ),
                evidence: excerpt(&stdout, 10),
                severity: Severity::Fail,
            });
        }
    }
    let tests: Vec<&String> = files
        .iter()
        .filter(|f| is_test_file(f) && !f.ends_with("conftest.py"))
        .collect();
    let mut tests_verdict = None;
    if !tests.is_empty() {
        let tests_copy = fresh_copy(project, spec)?;
        let outcome = sandbox
            .run(&SandboxCommand::shell("python3 -c 'import pytest' 2>/dev/null || exit 99; python3 -m pytest -q -p no:cacheprovider 2>&1", tests_copy.path()).with_limits(Limits {
                wall: options.timeout * 4,
                cpu_seconds: options.timeout.as_secs().max(1) * 8,
                ..limits
            }))
            .await?;
        let output = outcome.stdout.text();
        tests_verdict = Some(match outcome.exit_code {
            Some(99) | Some(127) => {
                report.findings.push(Finding {
                    gate: Gate::Smoke,
                    kind: FindingKind::ToolMissing,
                    file: String::new(),
                    line: None,
                    message:
                        "pytest is not installed on this machine; the generated tests were not run"
                            .into(),
                    evidence: String::new(),
                    severity: Severity::Inconclusive,
                });
                Verdict::Inconclusive
            }
            Some(0) => Verdict::Pass,
            // 5: no tests were collected; says nothing either way.
            Some(5) => Verdict::Inconclusive,
            _ => {
                let site = traceback_site(&output, tests_copy.path())
                    .or_else(|| pytest_failure_site(&output, tests_copy.path()));
                failed += 1;
                report.findings.push(Finding {
                    gate: Gate::Smoke,
                    kind: FindingKind::TestFailure,
                    file: site.as_ref().map(|s| s.0.clone()).unwrap_or_default(),
                    line: site.map(|s| s.1),
                    message: "the generated tests fail".into(),
                    evidence: tail(&output, 25),
                    severity: Severity::Fail,
                });
                Verdict::Fail
            }
        });
    }
    let verdict = if failed > 0 {
        Verdict::Fail
    } else if args.is_empty() && tests_verdict != Some(Verdict::Pass) {
        // Nothing was imported and no test passed: nothing was shown either way.
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    };
    report.gates.push(GateResult {
        gate: Gate::Smoke,
        verdict,
        summary: format!(
            "{} module(s) imported or compiled, {failed} failure(s); tests: {}",
            args.len(),
            tests_verdict
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into())
        ),
    });
    Ok(())
}

/// `path.py:LINE: ` lines pytest prints for failures.
pub(super) fn pytest_failure_site(output: &str, root: &Path) -> Option<(String, usize)> {
    let pattern = regex::Regex::new(r"(?m)^([\w/.-]+\.py):(\d+): ").ok()?;
    pattern
        .captures_iter(output)
        .filter_map(|c| {
            Some((
                project_file(root, c.get(1)?.as_str())?,
                c.get(2)?.as_str().parse().ok()?,
            ))
        })
        .last()
}

pub(super) fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
