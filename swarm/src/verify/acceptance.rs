//! The `acceptance` gate: the spec's console commands, exactly, in order, in one fresh
//! directory with the fixtures written — the golden check. [`run_step`] is also how the
//! graders run a hidden console check.

use super::*;
use crate::console::{explain_mismatch, output_matches, ConsoleStep};
use crate::sandbox::{Limits, Sandbox, SandboxCommand, SandboxOutcome};
use crate::spec::Spec;
use std::path::Path;
use std::time::Duration;

/// How one console step went.
#[derive(Debug, Clone, PartialEq)]
pub enum StepResult {
    /// Exit code and stdout as expected.
    Passed,
    /// The machine lacks the command's program.
    ToolMissing(String),
    /// Wrong exit code, timeout or signal.
    WrongExit(SandboxOutcome),
    /// Right exit code, wrong stdout (the explanation).
    WrongOutput(String, SandboxOutcome),
}

/// Runs one console step in `dir` and compares it with what it must print.
pub async fn run_step(
    sandbox: &Sandbox,
    dir: &Path,
    step: &ConsoleStep,
    wall: Duration,
) -> Result<StepResult, crate::sandbox::SandboxError> {
    run_step_with(
        SandboxCommand::shell(&step.command, dir),
        sandbox,
        step,
        wall,
    )
    .await
}

/// [`run_step`] for `command` (the step's command, perhaps given more to write).
async fn run_step_with(
    command: SandboxCommand,
    sandbox: &Sandbox,
    step: &ConsoleStep,
    wall: Duration,
) -> Result<StepResult, crate::sandbox::SandboxError> {
    let limits = Limits {
        wall,
        cpu_seconds: wall.as_secs().max(1) * 2,
        ..Limits::default()
    };
    let outcome = sandbox.run(&command.with_limits(limits)).await?;
    if let Some(missing) = tool_missing(&step.command, &outcome) {
        return Ok(StepResult::ToolMissing(missing));
    }
    if outcome.timed_out || outcome.exit_code != Some(step.exit_code) {
        return Ok(StepResult::WrongExit(outcome));
    }
    let stdout = outcome.stdout.text();
    if !output_matches(&step.expected, &stdout) {
        return Ok(StepResult::WrongOutput(
            explain_mismatch(&step.expected, &stdout),
            outcome,
        ));
    }
    Ok(StepResult::Passed)
}

/// How an entry crashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Crash {
    /// What happened (one line first).
    pub message: String,
    /// The project file and line of the raise (or of the package `python -m` cannot run).
    pub site: Option<(String, usize)>,
}

/// An entry crash: a command that exited non-zero with a Python traceback (the site is the
/// deepest project frame: where it raised), or `python -m X` naming a package of the project
/// without `__main__.py`.
pub(super) fn entry_crash(command: &str, outcome: &SandboxOutcome, root: &Path) -> Option<Crash> {
    if outcome.exit_code == Some(0) || outcome.timed_out {
        return None;
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    for pair in words.windows(2) {
        if pair[0] != "-m" {
            continue;
        }
        let folder = pair[1].replace('.', "/");
        let package = root.join(&folder);
        if package.is_dir() && !package.join("__main__.py").is_file() {
            let init = project_file(root, &format!("{folder}/__init__.py"));
            return Some(Crash {
                message: format!(
                    "`{command}`: `{}` is a package without __main__.py, so `python -m` cannot run it",
                    pair[1]
                ),
                site: init.map(|file| (file, 1)),
            });
        }
    }
    let stderr = outcome.stderr.text();
    let at = stderr.rfind("Traceback (most recent call last):")?;
    let raised = stderr[at..]
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty() && !line.starts_with(' '))
        .unwrap_or("an exception")
        .trim()
        .to_string();
    Some(Crash {
        message: format!(
            "`{command}` crashed with {raised} (exit {})",
            outcome
                .exit_code
                .map_or("by signal".to_string(), |c| c.to_string())
        ),
        site: traceback_site(&stderr[at..], root),
    })
}

pub(super) async fn acceptance(
    sandbox: &Sandbox,
    project: &Path,
    spec: &Spec,
    options: &VerifyOptions,
    report: &mut VerifyReport,
) -> Result<(), VerifyError> {
    if spec.acceptance.is_empty() {
        report.gates.push(GateResult {
            gate: Gate::Acceptance,
            verdict: Verdict::Inconclusive,
            summary: "the spec has no acceptance commands".into(),
        });
        return Ok(());
    }
    let copy = work_copy(project, spec, options)?;
    // TypeScript runs compiled: `node dist/cli.js` needs the compiler's output first. A type
    // error does not stop it (the compiler still writes the JavaScript; the smoke gate is where
    // it is a finding); a compiler that is not installed leaves nothing that could be judged.
    if let Compiled::ToolMissing(why) =
        compile_typescript(sandbox, copy.path(), options.timeout * 6).await?
    {
        report.findings.push(Finding {
            gate: Gate::Acceptance,
            kind: FindingKind::ToolMissing,
            file: String::new(),
            line: None,
            message: why.clone(),
            evidence: String::new(),
            severity: Severity::Inconclusive,
        });
        report.gates.push(GateResult {
            gate: Gate::Acceptance,
            verdict: Verdict::Inconclusive,
            summary: format!("the TypeScript app cannot be built to run here: {why}"),
        });
        return Ok(());
    }
    let entry_file = options
        .entry
        .as_deref()
        .and_then(|e| crate::plan::files_run_by(e).into_iter().next());
    for (index, step) in spec.acceptance.iter().enumerate() {
        let command = SandboxCommand::shell(&step.command, copy.path())
            .with_cargo_target(copy.cargo_target().as_deref());
        let result = run_step_with(command, sandbox, step, options.timeout).await?;
        let number = index + 1;
        let (kind, message, outcome, severity) = match result {
            StepResult::Passed => continue,
            StepResult::ToolMissing(missing) => (
                FindingKind::ToolMissing,
                missing,
                None,
                Severity::Inconclusive,
            ),
            StepResult::WrongExit(outcome) => (
                if outcome.timed_out {
                    FindingKind::Timeout
                } else {
                    FindingKind::ExitCode
                },
                describe_exit(&step.command, &outcome, step.exit_code, options.timeout),
                Some(outcome),
                Severity::Fail,
            ),
            StepResult::WrongOutput(why, outcome) => (
                FindingKind::AcceptanceMismatch,
                format!("`{}`: {why}", step.command),
                Some(outcome),
                Severity::Fail,
            ),
        };
        let stderr = outcome
            .as_ref()
            .map(|o| o.stderr.text())
            .unwrap_or_default();
        let crash = outcome
            .as_ref()
            .and_then(|o| entry_crash(&step.command, o, copy.path()));
        let (kind, message, site) = match crash {
            Some(crash) => (FindingKind::EntryCrash, crash.message, crash.site),
            None => (kind, message, traceback_site(&stderr, copy.path())),
        };
        // Only a file that exists in the project is named.
        let file = site
            .as_ref()
            .map(|s| s.0.clone())
            .or_else(|| {
                crate::plan::files_run_by(&step.command)
                    .into_iter()
                    .find_map(|f| project_file(copy.path(), &f))
            })
            .or_else(|| {
                entry_file
                    .clone()
                    .and_then(|f| project_file(copy.path(), &f))
            })
            .unwrap_or_default();
        let verdict = if severity == Severity::Fail {
            Verdict::Fail
        } else {
            Verdict::Inconclusive
        };
        report.findings.push(Finding {
            gate: Gate::Acceptance,
            kind,
            file,
            line: site.map(|s| s.1),
            message: format!(
                "acceptance command {number} of {}: {}",
                spec.acceptance.len(),
                excerpt(&message, 1)
            ),
            // The first line is the message already; the evidence holds what follows it.
            evidence: {
                let rest: Vec<&str> = message.lines().skip(1).collect();
                let stderr = tail(&stderr, 15);
                match (rest.is_empty(), stderr.trim().is_empty()) {
                    (true, true) => String::new(),
                    (true, false) => format!("stderr:\n{stderr}"),
                    (false, true) => rest.join("\n"),
                    (false, false) => format!("{}\nstderr:\n{stderr}", rest.join("\n")),
                }
            },
            severity,
        });
        report.gates.push(GateResult {
            gate: Gate::Acceptance,
            verdict,
            summary: format!(
                "command {number} of {} did not pass: `{}`",
                spec.acceptance.len(),
                step.command
            ),
        });
        return Ok(());
    }
    report.gates.push(GateResult {
        gate: Gate::Acceptance,
        verdict: Verdict::Pass,
        summary: format!(
            "all {} acceptance command(s) printed what the spec says",
            spec.acceptance.len()
        ),
    });
    Ok(())
}
