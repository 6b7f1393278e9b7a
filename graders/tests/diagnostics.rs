//! The diagnostics grader on crafted projects: a well-wired app, and each sloppy behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use graders::diagnostics_score;
use pretty_assertions::assert_eq;
use std::collections::BTreeSet;
use std::path::Path;

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
    dir
}

fn kinds(dir: &Path, entry: &[&str]) -> Vec<(String, String, usize)> {
    let entries: BTreeSet<String> = entry.iter().map(|s| s.to_string()).collect();
    let (_, findings) = diagnostics_score(dir, &entries);
    findings
        .into_iter()
        .map(|f| (f.kind.name().to_string(), f.file, f.line))
        .collect()
}

const GOOD: &[(&str, &str)] = &[
    ("app.py", "from notes.store import Store\nfrom notes import render\n\n\ndef main():\n    print(render.line(Store().all()))\n\n\nif __name__ == '__main__':\n    main()\n"),
    ("notes/__init__.py", ""),
    ("notes/store.py", "class Store:\n    \"\"\"Holds notes.\"\"\"\n\n    def all(self):\n        return []\n"),
    ("notes/render.py", "from .store import Store\n\n\ndef line(items):\n    return ', '.join(items)\n"),
    ("tests/test_render.py", "from notes.render import line\n\n\ndef test_line():\n    assert line([]) == ''\n"),
];

#[test]
fn a_well_wired_app_has_no_findings_and_scores_10() {
    let dir = project(GOOD);
    assert_eq!(kinds(dir.path(), &["app.py"]), vec![]);
    let (score, _) = diagnostics_score(dir.path(), &BTreeSet::new());
    assert_eq!(score.score, Some(10.0));
}

#[test]
fn a_module_built_but_never_imported_is_unwired() {
    let mut files = GOOD.to_vec();
    files.push((
        "notes/export.py",
        "import json\n\n\ndef to_json(items):\n    return json.dumps(items)\n",
    ));
    let dir = project(&files);
    assert_eq!(
        kinds(dir.path(), &["app.py"]),
        vec![("unwired_module".into(), "notes/export.py".into(), 1)]
    );
    assert_eq!(
        diagnostics_score(dir.path(), &BTreeSet::new()).0.score,
        Some(8.0)
    );
}

#[test]
fn stubs_syntax_errors_and_duplicates_are_found_where_they_are() {
    let dir = project(&[
        ("main.py", "import helpers\n\n\ndef run():\n    \"\"\"Runs.\"\"\"\n    pass\n\n\ndef later():\n    raise NotImplementedError\n\n\ndef run():\n    return helpers.go()\n"),
        ("helpers.py", "def go(:\n    return 1\n"),
    ]);
    assert_eq!(
        kinds(dir.path(), &["main.py"]),
        vec![
            ("syntax_error".into(), "helpers.py".into(), 1),
            ("stub".into(), "main.py".into(), 4),
            ("stub".into(), "main.py".into(), 9),
            ("duplicate_definition".into(), "main.py".into(), 13),
        ]
    );
    // 10 - 3 (syntax) - 2 (stubs) - 1 (duplicate)
    let entry: BTreeSet<String> = ["main.py".to_string()].into();
    assert_eq!(diagnostics_score(dir.path(), &entry).0.score, Some(4.0));
    // Without knowing main.py is what the task runs, it is itself unwired (no guard, never
    // imported): two more points.
    assert_eq!(
        diagnostics_score(dir.path(), &BTreeSet::new()).0.score,
        Some(2.0)
    );
}

#[test]
fn no_source_at_all_scores_zero() {
    let dir = project(&[("README.md", "todo")]);
    let (score, _) = diagnostics_score(dir.path(), &BTreeSet::new());
    assert_eq!(
        (score.score, score.evidence.as_str()),
        (Some(0.0), "no source file was produced")
    );
}
