//! What a finished task must show before it merges (owned files changed unless the contract
//! froze them whole, frozen signatures kept, no placeholder left), and the judge's gate on a
//! worker's `done` that refuses unchanged files or all stubs.

use crate::agent::{DoneGate, Workspace};
use crate::plan::PlanTask;
use crate::pyast;
use crate::review;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Whether the contract already froze these files whole, so that leaving them unchanged is
/// the work: Python files that exist and hold no placeholder (a docstring-only
/// `__init__.py`).
pub(super) fn frozen_whole<'a>(
    files: impl IntoIterator<Item = (&'a String, &'a Option<String>)>,
) -> bool {
    files.into_iter().all(|(file, now)| {
        now.as_deref().is_some_and(|source| {
            review::signatures_of(file, source)
                .is_some_and(|signatures| signatures.iter().all(|s| !s.stub))
        })
    })
}

/// Why a finished task cannot be merged yet.
pub(super) fn task_problems(
    worktree: &Path,
    task: &PlanTask,
    base: &BTreeMap<String, Option<String>>,
    frozen: &[pyast::Signature],
) -> Vec<String> {
    let mut problems = Vec::new();
    let current: BTreeMap<&String, Option<String>> = task
        .files
        .iter()
        .map(|f| (f, std::fs::read_to_string(worktree.join(f)).ok()))
        .collect();
    let changed = task
        .files
        .iter()
        .any(|f| current.get(f).cloned().flatten() != base.get(f).cloned().flatten());
    if !changed
        && !frozen_whole(
            task.files
                .iter()
                .zip(task.files.iter().map(|f| &current[f])),
        )
    {
        problems.push(format!(
            "none of your files changed ({})",
            task.files.join(", ")
        ));
        return problems;
    }
    for file in task
        .files
        .iter()
        .filter(|f| review::language_of(f).is_some())
    {
        let Some(source) = current.get(file).cloned().flatten() else {
            problems.push(format!("{file} does not exist"));
            continue;
        };
        if review::parses(file, &source) == Some(false) {
            let language = review::language_of(file).unwrap_or_default();
            problems.push(format!("{file} does not parse as {}", language.title()));
            continue;
        }
        let now = review::signatures_of(file, &source).unwrap_or_default();
        for signature in frozen.iter().filter(|s| &s.file == file) {
            match now.iter().find(|n| n.name == signature.name) {
                None => problems.push(format!("{file}: the frozen `{}` is gone; keep `{}`", signature.name, signature.text)),
                Some(found) if found.text != signature.text => problems.push(format!(
                    "{file}:{}: the frozen signature `{}` was changed to `{}`; frozen signatures must not change",
                    found.line, signature.text, found.text
                )),
                Some(_) => {}
            }
        }
        // A body the contract froze to be filled that is still a placeholder (a placeholder
        // the worker added, an interface, is the review's to judge).
        let frozen_here = |name: &str| frozen.iter().any(|f| &f.file == file && f.name == name);
        for stub in now.iter().filter(|s| s.stub && frozen_here(&s.name)) {
            problems.push(format!(
                "{file}:{}: `{}` is still a stub",
                stub.line, stub.name
            ));
        }
    }
    // Rust, TypeScript and JavaScript files must also hold no placeholder body anywhere (one
    // the contract did not freeze, or a file no contract covered); a file already reported
    // above is not reported twice.
    let other_source = |f: &&String| {
        [".rs", ".ts", ".tsx", ".js", ".mjs"]
            .iter()
            .any(|e| f.ends_with(e))
    };
    for file in task.files.iter().filter(other_source) {
        if problems.iter().any(|p| p.starts_with(file.as_str())) {
            continue;
        }
        match current.get(file).cloned().flatten() {
            None => problems.push(format!("{file} does not exist")),
            Some(source) => {
                if let Some((line, marker)) = placeholder_line(file, &source) {
                    problems.push(format!(
                        "{file}:{line}: `{marker}` is a placeholder; write the body"
                    ));
                }
            }
        }
    }
    problems
}

/// The first line of a Rust or TypeScript file whose body is only a placeholder
/// (`todo!()`, `unimplemented!()`, a not-implemented throw), with the marker found.
fn placeholder_line(file: &str, source: &str) -> Option<(usize, &'static str)> {
    let markers: &[&'static str] = if file.ends_with(".rs") {
        &["todo!(", "unimplemented!("]
    } else if [".ts", ".tsx", ".js", ".mjs"]
        .iter()
        .any(|e| file.ends_with(e))
    {
        &["not implemented"]
    } else {
        &[]
    };
    source.lines().enumerate().find_map(|(index, line)| {
        let code = line.split("//").next().unwrap_or("");
        let lower = code.to_ascii_lowercase();
        markers
            .iter()
            .find(|m| lower.contains(*m) && (m.ends_with('(') || lower.contains("throw")))
            .map(|m| (index + 1, *m))
    })
}

/// The judge's gate on `done`: refuses while the owned files are unchanged (unless the
/// contract froze them whole, with no placeholder left) or all stubs.
pub(super) fn done_gate(task: &PlanTask, base: &BTreeMap<String, Option<String>>) -> DoneGate {
    let files = task.files.clone();
    let base = base.clone();
    Arc::new(move |workspace: &Workspace| {
        let current: Vec<Option<String>> = files
            .iter()
            .map(|f| std::fs::read_to_string(workspace.root().join(f)).ok())
            .collect();
        let unchanged = files
            .iter()
            .zip(&current)
            .all(|(f, now)| base.get(f).cloned().flatten() == *now);
        if unchanged && !frozen_whole(files.iter().zip(&current)) {
            return Some(format!("your files ({}) are unchanged", files.join(", ")));
        }
        let sources: Vec<(&String, &Option<String>)> = files
            .iter()
            .zip(&current)
            .filter(|(f, _)| review::language_of(f).is_some())
            .collect();
        let all_stubs = !sources.is_empty()
            && sources.iter().all(|(f, now)| {
                let signatures = now
                    .as_deref()
                    .and_then(|s| review::signatures_of(f, s))
                    .unwrap_or_default();
                let functions: Vec<&pyast::Signature> = signatures
                    .iter()
                    .filter(|s| review::is_function(s))
                    .collect();
                !functions.is_empty() && functions.iter().all(|s| s.stub)
            });
        all_stubs.then(|| "every function in your files is still a stub".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::{frozen_whole, placeholder_line, task_problems};
    use crate::plan::PlanTask;
    use std::collections::BTreeMap;

    #[test]
    fn rust_and_typescript_placeholders_keep_a_task_from_merging() {
        assert_eq!(
            placeholder_line("src/store.rs", "pub fn add() {\n    todo!()\n}\n"),
            Some((2, "todo!("))
        );
        assert_eq!(
            placeholder_line(
                "src/store.rs",
                "// todo!() later\npub fn add() -> u32 { 1 }\n"
            ),
            None,
            "a comment is not a placeholder"
        );
        assert_eq!(
            placeholder_line(
                "src/cli.ts",
                "export function add(): void {\n  throw new Error(\"Not implemented\");\n}\n"
            ),
            Some((2, "not implemented"))
        );
        assert_eq!(
            placeholder_line("src/cli.ts", "console.log(\"not implemented yet\");\n"),
            None,
            "only a throw is a placeholder"
        );
        assert_eq!(placeholder_line("notes.md", "todo!(\n"), None);
    }

    #[test]
    fn drift_from_a_frozen_rust_or_typescript_signature_and_a_stub_left_block_the_merge() {
        let dir = tempfile::tempdir().unwrap();
        let frozen_rs = "pub fn total(rows: &[u32]) -> u32 {\n    todo!()\n}\n";
        let frozen_ts = "export function total(rows: number[]): number {\n  throw new Error(\"not implemented\");\n}\n";
        let mut frozen = crate::review::signatures_of("src/report.rs", frozen_rs).unwrap();
        frozen.extend(crate::review::signatures_of("report.ts", frozen_ts).unwrap());
        let base: BTreeMap<String, Option<String>> = [
            ("src/report.rs".to_string(), Some(frozen_rs.to_string())),
            ("report.ts".to_string(), Some(frozen_ts.to_string())),
        ]
        .into();
        let task = PlanTask {
            id: "report".into(),
            title: String::new(),
            files: vec!["src/report.rs".into(), "report.ts".into()],
            depends_on: Vec::new(),
            difficulty: Default::default(),
            description: String::new(),
        };
        let write = |file: &str, text: &str| {
            crate::fsutil::write_inside(dir.path(), file, text.as_bytes()).unwrap()
        };
        // Implemented, reformatted: merges.
        write(
            "src/report.rs",
            "pub fn total(\n    rows: &[u32],\n) -> u32 {\n    rows.iter().sum()\n}\n",
        );
        write("report.ts", "export function total(rows: number[]): number {\n  return rows.reduce((a, b) => a + b, 0);\n}\n");
        assert_eq!(
            task_problems(dir.path(), &task, &base, &frozen),
            Vec::<String>::new()
        );
        // A parameter changed in one, the body left a stub in the other.
        write(
            "src/report.rs",
            "pub fn total(rows: Vec<u32>) -> u32 {\n    rows.iter().sum()\n}\n",
        );
        write("report.ts", frozen_ts);
        assert_eq!(
            task_problems(dir.path(), &task, &base, &frozen),
            vec![
                "src/report.rs:1: the frozen signature `pub fn total(rows: &[u32]) -> u32` was changed to `pub fn total(rows: Vec<u32>) -> u32`; frozen signatures must not change",
                "report.ts:1: `total` is still a stub",
            ]
        );
    }

    #[test]
    fn a_file_the_contract_froze_whole_may_stay_unchanged_and_a_stub_may_not() {
        let init = "pkg/__init__.py".to_string();
        let docstring = Some("\"\"\"The package.\"\"\"\n".to_string());
        assert!(frozen_whole([(&init, &docstring)]));
        let stubbed = Some("def load(path):\n    ...\n".to_string());
        let module = "pkg/store.py".to_string();
        assert!(!frozen_whole([(&init, &docstring), (&module, &stubbed)]));
        let missing = None;
        assert!(!frozen_whole([(&module, &missing)]));
        let data = "data.json".to_string();
        assert!(!frozen_whole([(&data, &Some("{}".to_string()))]));
    }
}
