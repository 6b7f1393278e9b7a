//! Early looks (`sched.prereview`): when a merge lands and worker slots sit idle — BUILD's
//! narrow tail, a FIX round with fewer jobs than slots — the app as merged so far is copied
//! (under the git lock, so no merge lands halfway through the copy) and given the smoke and
//! review gates, without acceptance. Its verdict is never the run's: most of what fails
//! belongs to tasks still being built (their files are stubs). A failing finding is acted on
//! only when it is the merged task's own: its file is owned by a task in main whose
//! dependencies are all in main, of a kind that a file answers for by itself (a failing test,
//! an import or compile error, a call that does not bind, a syntax error, a stub, a duplicate
//! definition), and not a failure raised by a placeholder somewhere else. That task gets one
//! early fix on an idle slot, so a wiring slip or a failing test is caught while a node is
//! free instead of after the whole BUILD.

use crate::pipeline::verify_fix::owner_of;
use crate::plan::Plan;
use crate::sandbox::Sandbox;
use crate::spec::Spec;
use crate::verify::{self, Finding, FindingKind, Severity, VerifyOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The stage prefix of an early fix job (`early-build`, `early-fix-2`).
pub(super) const EARLY: &str = "early-";

/// Whether a job's stage is an early fix.
pub(super) fn is_early(stage: &str) -> bool {
    stage.starts_with(EARLY)
}

/// What one early look found.
pub(super) struct Looked {
    /// Tasks known merged when the look began: all of them are in the copy (a merge that
    /// lands between then and the copy is in it too, and is left to the next look).
    pub in_main: BTreeSet<String>,
    pub findings: Vec<Finding>,
    pub ms: u64,
    /// Why the look could not run.
    pub error: Option<String>,
}

/// Kinds of finding a file answers for by itself.
const OWN_KINDS: [FindingKind; 7] = [
    FindingKind::TestFailure,
    FindingKind::ImportError,
    FindingKind::CompileError,
    FindingKind::CallArity,
    FindingKind::SyntaxError,
    FindingKind::Stub,
    FindingKind::DuplicateDefinition,
];

/// What a placeholder raises when it runs: a failure that says so came from a task not yet
/// built, whichever file the traceback ends in.
const PLACEHOLDER_SIGNS: [&str; 4] = [
    "notimplementederror",
    "not implemented",
    "todo!",
    "unimplemented!",
];

/// Copies main and runs smoke and review on the copy.
pub(super) async fn look(
    out: PathBuf,
    spec: Spec,
    mut options: VerifyOptions,
    sandbox: &'static Sandbox,
    git_lock: Arc<tokio::sync::Mutex<()>>,
    in_main: BTreeSet<String>,
) -> Looked {
    let started = Instant::now();
    options.acceptance = false;
    options.rust_cache = None;
    let copied = {
        let _no_merge_meanwhile = git_lock.lock().await;
        tokio::task::spawn_blocking(move || {
            let dir = tempfile::tempdir()?;
            let app = dir.path().join("app");
            crate::fsutil::copy_tree(&out, &app)?;
            Ok::<_, std::io::Error>((dir, app))
        })
        .await
    };
    let result = match copied {
        Ok(Ok((_dir, app))) => verify::verify(&app, &spec, &options, sandbox)
            .await
            .map(|report| report.findings)
            .map_err(|err| err.to_string()),
        Ok(Err(err)) => Err(format!("cannot copy the app: {err}")),
        Err(err) => Err(format!("the copy crashed: {err}")),
    };
    let (findings, error) = match result {
        Ok(findings) => (findings, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    Looked {
        in_main,
        findings,
        ms: started.elapsed().as_millis() as u64,
        error,
    }
}

/// The failing findings an early fix may act on, by the task that owns them: the task's
/// work and its dependencies' are in main (`in_main`), nothing else is under way for it
/// (`busy`), and the finding is its own (see the module's doc).
pub(super) fn early_fixes(
    plan: &Plan,
    findings: &[Finding],
    in_main: &dyn Fn(&str) -> bool,
    busy: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, Vec<Finding>> {
    let mut fixes: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for finding in findings {
        if finding.severity != Severity::Fail || !OWN_KINDS.contains(&finding.kind) {
            continue;
        }
        let text = format!("{}\n{}", finding.message, finding.evidence).to_ascii_lowercase();
        let raised = matches!(
            finding.kind,
            FindingKind::TestFailure | FindingKind::ImportError
        );
        if raised && PLACEHOLDER_SIGNS.iter().any(|s| text.contains(s)) {
            continue;
        }
        let Some(owner) = owner_of(plan, &finding.file) else {
            continue;
        };
        if !in_main(&owner.id) || busy(&owner.id) || !dependencies_in_main(plan, &owner.id, in_main)
        {
            continue;
        }
        fixes
            .entry(owner.id.clone())
            .or_default()
            .push(finding.clone());
    }
    fixes
}

/// Whether every task `task` depends on, directly or not, is in main.
fn dependencies_in_main(plan: &Plan, task: &str, in_main: &dyn Fn(&str) -> bool) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![task.to_string()];
    while let Some(id) = stack.pop() {
        let Some(found) = plan.tasks.iter().find(|t| t.id == id) else {
            continue;
        };
        for dep in &found.depends_on {
            if !in_main(dep) {
                return false;
            }
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTask;
    use crate::verify::Gate;

    fn task(id: &str, file: &str, deps: &[&str]) -> PlanTask {
        PlanTask {
            id: id.into(),
            title: String::new(),
            files: vec![file.into()],
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            difficulty: Default::default(),
            description: String::new(),
        }
    }

    fn finding(kind: FindingKind, file: &str, evidence: &str) -> Finding {
        Finding {
            gate: Gate::Smoke,
            kind,
            file: file.into(),
            line: Some(3),
            message: "m".into(),
            evidence: evidence.into(),
            severity: Severity::Fail,
        }
    }

    fn plan() -> Plan {
        let tasks = vec![
            task("records", "records.py", &[]),
            task("loader", "loader.py", &["records"]),
            task("report", "report.py", &["stats"]),
            task("stats", "stats.py", &["records"]),
            task("cli", "cli.py", &["loader", "report"]),
        ];
        Plan {
            entry: "python3 cli.py".into(),
            stores_data: false,
            tasks,
            language: Default::default(),
        }
    }

    #[test]
    fn only_a_merged_task_s_own_failure_with_its_dependencies_in_main_gets_an_early_fix() {
        let plan = plan();
        let main: BTreeSet<&str> = ["records", "loader", "report"].into();
        let in_main = |t: &str| main.contains(t);
        let idle = |_: &str| false;
        let findings = vec![
            // loader's own drifted call: acted on.
            finding(FindingKind::CallArity, "loader.py", "parse_line(line)"),
            // report is merged but stats, its dependency, is not: not yet.
            finding(FindingKind::TestFailure, "report.py", "AssertionError"),
            // cli is still being built.
            finding(FindingKind::ImportError, "cli.py", "ImportError"),
            // A placeholder raised through records' frame: a task not built yet.
            finding(
                FindingKind::TestFailure,
                "records.py",
                "raise NotImplementedError",
            ),
            // Not the file's own fault.
            finding(FindingKind::UnwiredModule, "records.py", ""),
            // A warning is not a failure.
            Finding {
                severity: Severity::Warning,
                ..finding(FindingKind::CallArity, "records.py", "")
            },
            // No owner.
            finding(FindingKind::SyntaxError, "notes.py", ""),
        ];
        let fixes = early_fixes(&plan, &findings, &in_main, &idle);
        assert_eq!(fixes.keys().collect::<Vec<_>>(), vec!["loader"]);
        assert_eq!(fixes["loader"].len(), 1);
        // Once stats is in main too, report's failing test is its own.
        let main: BTreeSet<&str> = ["records", "loader", "report", "stats"].into();
        let in_main = |t: &str| main.contains(t);
        let fixes = early_fixes(&plan, &findings, &in_main, &idle);
        assert_eq!(fixes.keys().collect::<Vec<_>>(), vec!["loader", "report"]);
        // A task with a job under way is left alone.
        let busy = |t: &str| t == "loader";
        let fixes = early_fixes(&plan, &findings, &in_main, &busy);
        assert_eq!(fixes.keys().collect::<Vec<_>>(), vec!["report"]);
    }

    #[test]
    fn a_stub_of_the_task_s_own_is_acted_on_even_though_it_names_a_placeholder() {
        let plan = plan();
        let in_main = |_: &str| true;
        let idle = |_: &str| false;
        let stub = finding(FindingKind::Stub, "records.py", "raise NotImplementedError");
        let fixes = early_fixes(&plan, &[stub], &in_main, &idle);
        assert_eq!(fixes.keys().collect::<Vec<_>>(), vec!["records"]);
    }
}
